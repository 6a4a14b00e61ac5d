"""The archive is never opened over a network filesystem (crawls on several machines send
their records to the one writer instead): read from the machine's real mount table, and
from mount tables written here for the mounts this machine does not have."""

from __future__ import annotations

import pytest

from archive import local_disk
from archive.local_disk import filesystem_type, network_filesystem
from archive.schema import SchemaError, open_archive

MOUNTS = (
    "22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "40 22 0:45 / /srv/nianbao rw,relatime shared:20 - nfs4 10.0.0.5:/srv/nianbao rw,vers=4.2\n"
    "41 40 253:1 / /srv/nianbao/local rw,relatime - ext4 /dev/vdb rw\n"
    r"42 22 0:46 / /mnt/office\040share rw,relatime - cifs //10.0.0.7/share rw" + "\n"
    "43 22 0:47 / /home/nb rw - fuse.sshfs nb@10.0.0.5:/ rw\n"
)


def test_the_deepest_mount_holding_a_path_says_its_type():
    assert filesystem_type("/srv/nianbao/data/archive.db", MOUNTS) == "nfs4"
    assert filesystem_type("/srv/nianbao", MOUNTS) == "nfs4"
    assert filesystem_type("/srv/nianbao/local/data", MOUNTS) == "ext4"  # a local disk mounted inside it
    assert filesystem_type("/srv/nianbaox/data", MOUNTS) == "ext4"  # a prefix of the name is not inside
    assert network_filesystem("/mnt/office share/data", MOUNTS) == "cifs"
    assert network_filesystem("/home/nb/data", MOUNTS) == "fuse.sshfs"
    assert network_filesystem("/var/lib/nianbao", MOUNTS) is None


def test_this_machine_s_disk_is_local(tmp_path):
    assert filesystem_type(tmp_path) and network_filesystem(tmp_path) is None
    open_archive(tmp_path / "archive.db").close()


def test_an_archive_on_a_network_filesystem_is_refused_before_sqlite_touches_it(tmp_path, monkeypatch):
    mounts = tmp_path / "mountinfo"
    data = tmp_path / "nfs" / "data"
    mounts.write_text(f"22 1 253:0 / / rw - ext4 /dev/vda rw\n40 22 0:45 / {tmp_path / 'nfs'} rw - nfs4 10.0.0.5:/x rw\n")
    monkeypatch.setattr(local_disk, "MOUNTINFO", mounts)
    with pytest.raises(SchemaError, match=r"网络文件系统（nfs4）.*本机磁盘.*--queue"):
        open_archive(data / "archive.db")
    assert not data.exists()
