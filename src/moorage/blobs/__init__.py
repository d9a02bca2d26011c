"""Content-addressed blob storage behind one small driver protocol."""

from moorage.blobs.driver import BlobDriver, BlobWriter
from moorage.blobs.filesystem import FilesystemDriver

__all__ = ["BlobDriver", "BlobWriter", "FilesystemDriver"]
