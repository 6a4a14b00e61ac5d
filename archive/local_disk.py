"""The archive's SQLite file stays on a local disk.

SQLite's locks do not hold over a network filesystem (NFS, SMB, …), and its
write-ahead log needs memory that only the processes of one machine share: an
archive opened there can be corrupted without a word. Crawls on several machines
share only the capture store and send their records to the one writer on the
archive's machine (``nianbao crawl --queue``), so the archive itself is never
opened over the network; on a network filesystem it is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "davfs",
        "fuse.sshfs",
        "fuse.s3fs",
        "fuse.rclone",
        "fuse.glusterfs",
        "fuse.cephfs",
    }
)
MOUNTINFO = Path("/proc/self/mountinfo")


def _unescape(field: str) -> str:
    """Mount points are written with space, tab, newline and backslash as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def filesystem_type(path: str | Path, mountinfo: str | None = None) -> str | None:
    """The type of the filesystem holding ``path`` (from Linux's mount table; None where
    there is none to read)."""
    if mountinfo is None:
        try:
            mountinfo = MOUNTINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target = os.path.realpath(path)
    best, kind = "", None
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields[6:]:
            continue
        point = _unescape(fields[4])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):  # the deepest mount; of two at one point, the later
            best, kind = point, fields[fields.index("-", 6) + 1]
    return kind


def network_filesystem(path: str | Path, mountinfo: str | None = None) -> str | None:
    """The network filesystem ``path`` lies on, or None when it is local."""
    kind = filesystem_type(path, mountinfo)
    return kind if kind in NETWORK_FILESYSTEMS else None
