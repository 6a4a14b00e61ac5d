"""One run at a time per data directory.

An advisory ``flock`` on ``DATA/nianbao.lock``: the kernel drops it when the
holder exits, however it exits (kill -9 included), so a crash never leaves a
stale lock behind. The file says who holds it, for the refusal message.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime
from pathlib import Path

from .errors import NianbaoError


class RunLocked(NianbaoError):
    """Another run holds the data directory."""


class RunLock:
    def __init__(self, data_dir: str | Path):
        self.path = Path(data_dir) / "nianbao.lock"
        self._fd: int | None = None

    def acquire(self, what: str = "run") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "另一个进程"
            os.close(fd)
            raise RunLocked(f"{self.path.parent}：另一次运行正在进行（{holder}），本次不运行") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"进程 {os.getpid()}，{what}，{datetime.now():%Y-%m-%d %H:%M:%S} 开始".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
