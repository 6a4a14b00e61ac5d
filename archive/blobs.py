"""Raw captures on disk, content-addressed: ``blobs/ab/<sha256>[.gz]``, written once, atomically.

Chosen by measurement (``bench/storage.py``): files beside the database rather
than blobs inside it. For the national mix (report pages, PDF/DOCX
attachments, list pages) both take the same space, but loose files read
3.5× faster at random, back up incrementally (they never change), can be
checked with ``sha256sum``/``zcat`` by anyone, and keep the Datasette
database small. Text kinds (HTML, XML, JSON, plain text) are gzip-compressed
(5–8× on portal pages; PDFs and OOXML are compressed already). The hash is
always of the raw bytes. One level of 256 fan-out directories (git's layout):
creating a directory costs ten times a small file here.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

COMPRESSED_KINDS = frozenset({"html", "xml", "json", "text"})


class BlobStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._dirs: set[Path] = set()  # fan-out directories known to exist

    def _base(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def path(self, sha256: str) -> Path | None:
        """Where the blob lies (compressed or not), or None when it is not stored."""
        base = self._base(sha256)
        for candidate in (base, base.with_name(base.name + ".gz")):
            if candidate.exists():
                return candidate
        return None

    def put(self, data: bytes, kind: str | None = None) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if self.path(sha256) is None:
            target = self._base(sha256)
            if kind in COMPRESSED_KINDS:
                target, data = target.with_name(target.name + ".gz"), gzip.compress(data, 6, mtime=0)
            if target.parent not in self._dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._dirs.add(target.parent)
            tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
            try:
                with open(tmp, "wb") as f:
                    f.write(data)
                os.replace(tmp, target)  # a reader sees the whole blob or none
            except OSError:  # a full disk: no partial file left behind
                tmp.unlink(missing_ok=True)
                raise
        return sha256

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        if path is None:
            raise FileNotFoundError(f"capture {sha256} is not in {self.root}")
        data = path.read_bytes()
        return gzip.decompress(data) if path.suffix == ".gz" else data
