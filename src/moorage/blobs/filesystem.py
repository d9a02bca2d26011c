"""Filesystem blob driver: blobs/<algorithm>/<ab>/<hex>, uploads/<id>.

A blob path only ever holds complete content: an upload is fsynced, renamed into place (atomic
on one filesystem) and the directory fsynced. Two uploads of the same content may both rename;
the second replaces identical bytes.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

from moorage.blobs.driver import Observer

_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_READ_CHUNK = 1 << 20


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileWriter:
    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        self.size = os.fstat(self._fd).st_size

    def _write(self, data: bytes | bytearray, observe: Observer | None) -> None:
        if observe is not None:
            observe(data)
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.size += len(data)

    async def write(self, data: bytes | bytearray, observe: Observer | None = None) -> None:
        await asyncio.to_thread(self._write, data, observe)

    async def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class FilesystemDriver:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._blobs = root / "blobs"
        self._uploads = root / "uploads"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._uploads.mkdir(parents=True, exist_ok=True)
        self.address = str(root)

    async def check(self) -> None:
        for directory in (self._blobs, self._uploads):
            if not os.access(directory, os.W_OK | os.X_OK):
                raise PermissionError(f"{directory} is not a writable directory")

    def _blob_path(self, digest: str) -> Path:
        algorithm, _, encoded = digest.partition(":")
        if not algorithm.isalnum() or not encoded.isalnum():
            raise ValueError(f"not a digest: {digest!r}")
        return self._blobs / algorithm / encoded[:2] / encoded

    def _upload_path(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"not an upload id: {upload_id!r}")
        return self._uploads / upload_id

    async def stat(self, digest: str) -> int | None:
        try:
            return self._blob_path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def local_path(self, digest: str) -> str | None:
        return str(self._blob_path(digest))

    async def reader(
        self, digest: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        async for chunk in _read_file(self._blob_path(digest), offset, length):
            yield chunk

    async def delete(self, digest: str) -> bool:
        try:
            self._blob_path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    async def start_upload(self, upload_id: str) -> None:
        self._upload_path(upload_id).touch(exist_ok=False)

    async def upload_size(self, upload_id: str) -> int | None:
        try:
            return self._upload_path(upload_id).stat().st_size
        except FileNotFoundError:
            return None

    async def writer(self, upload_id: str) -> FileWriter:
        return FileWriter(self._upload_path(upload_id))

    async def upload_reader(self, upload_id: str) -> AsyncIterator[bytes]:
        async for chunk in _read_file(self._upload_path(upload_id), 0, None):
            yield chunk

    async def truncate(self, upload_id: str, size: int) -> None:
        os.truncate(self._upload_path(upload_id), size)

    async def commit(self, upload_id: str, digest: str) -> None:
        await asyncio.to_thread(self._commit, self._upload_path(upload_id), self._blob_path(digest))

    @staticmethod
    def _commit(source: Path, target: Path) -> None:
        fd = os.open(source, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        _fsync_dir(target.parent)

    async def cancel(self, upload_id: str) -> None:
        self._upload_path(upload_id).unlink(missing_ok=True)

    async def uploads(self) -> list[str]:
        return sorted(
            p.name for p in self._uploads.iterdir() if _UPLOAD_ID.fullmatch(p.name) and p.is_file()
        )


async def _read_file(path: Path, offset: int, length: int | None) -> AsyncIterator[bytes]:
    f = await asyncio.to_thread(path.open, "rb")
    try:
        if offset:
            f.seek(offset)
        remaining = length
        while remaining is None or remaining > 0:
            size = _READ_CHUNK if remaining is None else min(_READ_CHUNK, remaining)
            chunk = await asyncio.to_thread(f.read, size)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
    finally:
        f.close()
