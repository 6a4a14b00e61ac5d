"""Legacy binary Office files (DOC, WPS, XLS) through LibreOffice headless.

There is no safe pure-Python reader for these formats, so they are converted
by a real converter when one is installed, and refused with a clear message
(naming the package to install) when it is not.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ExtractError

TIMEOUT = 120


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(data: bytes, suffix: str, target: str) -> bytes:
    """Convert ``data`` (a ``suffix`` file such as ``.doc``) to ``target`` (``docx``/``xlsx``)."""
    exe = soffice()
    if exe is None:
        raise ExtractError(
            f"{suffix.lstrip('.').upper()} files need LibreOffice to convert, and it is not installed "
            "(install it with: apt-get install libreoffice-writer-nogui libreoffice-calc-nogui)"
        )
    with tempfile.TemporaryDirectory(prefix="nianbao-office-") as tmp:
        src = Path(tmp) / f"input{suffix}"
        src.write_bytes(data)
        profile = Path(tmp) / "profile"
        cmd = [
            exe,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            tmp,
            str(src),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise ExtractError(f"LibreOffice took longer than {TIMEOUT}s to convert the {suffix} file") from None
        out = Path(tmp) / f"input.{target}"
        if not out.exists() or out.stat().st_size == 0:
            detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
            raise ExtractError(
                f"LibreOffice could not convert this {suffix} file (corrupt or unsupported)"
                + (f": {detail[-1]}" if detail else "")
            )
        return out.read_bytes()
