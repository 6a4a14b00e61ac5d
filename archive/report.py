"""The parsed report: the contract object of ``../shared/spec/report-schema.md``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # stable rule id, see archive.template.RULES
    severity: str  # "error" | "warning" | "info"
    where: str  # cell key or pattern: "requests.*.total", "requests.new.natural_person"
    message: str  # says which numbers

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "where": self.where, "message": self.message}


@dataclass
class Report:
    agency: str | None
    year: int | None
    template: str | None
    cells: dict[str, int | float | None]
    findings: list[Finding] = field(default_factory=list)
    # Beyond the contract, kept by the archive:
    title: str | None = None
    agency_source: str | None = None  # "title" | "heading" | "page" | "text"
    narrative: dict[str, int] = field(default_factory=dict)
    tables_present: tuple[str, ...] = ()
    # where each cell's value was printed: cell key → (index of the Line in Document.lines,
    # index of the cell in Line.cells); filled by the table parser
    origins: dict[str, tuple[int, int]] = field(default_factory=dict)
    # what OCR read (None when nothing was): {"pages": [...], "skipped_pages": [...],
    # "cells": {cell key: recognition score}}
    ocr: dict[str, Any] | None = None
    # how much of the template was read (archive.coverage): template cells, cells read,
    # undecided, rows unattributed, complete
    coverage: dict[str, Any] = field(default_factory=dict)

    def to_contract(self) -> dict[str, Any]:
        """Exactly the contract's keys, nothing more."""
        return {
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "cells": dict(self.cells),
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> dict[str, Any]:
        """The contract, the additive ``coverage`` key, and ``ocr`` when OCR read any of the report."""
        out = self.to_contract()
        out["coverage"] = self.coverage
        if self.ocr is not None:
            out["ocr"] = self.ocr
        return out
