"""Content-addressed storage of raw captures: ``blobs/ab/<sha256>``, written once, atomically.

One level of 256 fan-out directories (git's loose-object layout): creating a
directory costs ten times a small file here, and a second level would create
one for almost every capture of a crawl.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class BlobStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._dirs: set[Path] = set()          # fan-out directories known to exist

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if not target.exists():
            if target.parent not in self._dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._dirs.add(target.parent)
            tmp = target.with_name(f".tmp-{os.getpid()}-{sha256}")
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, target)          # a reader sees the whole blob or none
        return sha256

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
