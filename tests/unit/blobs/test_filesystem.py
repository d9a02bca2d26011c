"""Facts of the filesystem driver beyond the shared suite (test_driver_suite.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from moorage.blobs.filesystem import FilesystemDriver


async def test_layout_and_atomic_commit(tmp_path: Path) -> None:
    fs, data = FilesystemDriver(tmp_path), b"x" * 100_000
    hexdigest = hashlib.sha256(data).hexdigest()
    target = tmp_path / "blobs" / "sha256" / hexdigest[:2] / hexdigest
    await fs.start_upload("up-1")
    for i in range(4):  # the target never exists while content is still arriving
        writer = await fs.writer("up-1")
        await writer.write(data[i * 25_000 : (i + 1) * 25_000])
        await writer.close()
        assert not target.exists()
    inode = (tmp_path / "uploads" / "up-1").stat().st_ino
    await fs.commit("up-1", f"sha256:{hexdigest}")
    assert target.read_bytes() == data
    assert target.stat().st_ino == inode  # renamed into place, never copied or written there
    assert fs.local_path(f"sha256:{hexdigest}") == str(target)
    assert list((tmp_path / "uploads").iterdir()) == []


async def test_uploads_ignores_files_that_are_not_uploads(tmp_path: Path) -> None:
    fs = FilesystemDriver(tmp_path)
    await fs.start_upload("up-1")
    for name in (".nfs0001", "up-1.tmp", "x" * 65, "lost+found"):
        (tmp_path / "uploads" / name).touch()
    (tmp_path / "uploads" / "subdir").mkdir()  # a directory is never an upload
    assert await fs.uploads() == ["up-1"]


BAD_DIGESTS = ["sha256:../../etc/passwd", "sha256:ab/../../x", "../x:ab", "sha256:", ":ab", "ab"]
BAD_IDS = ["../x", "a/b", "..", ".", "", "x" * 65, "/etc/passwd", "a\x00b"]


@pytest.mark.parametrize("digest", BAD_DIGESTS)
async def test_path_traversal_in_digest_is_refused(tmp_path: Path, digest: str) -> None:
    fs = FilesystemDriver(tmp_path)
    await fs.start_upload("up-1")
    with pytest.raises(ValueError):
        await fs.stat(digest)
    with pytest.raises(ValueError):
        fs.local_path(digest)
    with pytest.raises(ValueError):
        await fs.delete(digest)
    with pytest.raises(ValueError):
        await anext(fs.reader(digest))
    with pytest.raises(ValueError):
        await fs.commit("up-1", digest)
    assert await fs.upload_size("up-1") == 0


@pytest.mark.parametrize("upload_id", BAD_IDS)
async def test_path_traversal_in_upload_id_is_refused(tmp_path: Path, upload_id: str) -> None:
    fs = FilesystemDriver(tmp_path)
    with pytest.raises(ValueError):
        await fs.start_upload(upload_id)
    with pytest.raises(ValueError):
        await fs.upload_size(upload_id)
    with pytest.raises(ValueError):
        await fs.writer(upload_id)
    with pytest.raises(ValueError):
        await anext(fs.upload_reader(upload_id))
    with pytest.raises(ValueError):
        await fs.commit(upload_id, "sha256:" + "a" * 64)
    with pytest.raises(ValueError):
        await fs.cancel(upload_id)
