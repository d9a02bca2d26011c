"""Secrets the service must give back in clear (registry admin passwords, returned by
listCredentials), encrypted at rest with a Fernet key kept in the data directory."""

from __future__ import annotations

import contextlib
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from moorage.auth.files import create_private, private_dir

KEY_FILE = "secret-box.key"


class DecryptionFailed(ValueError):
    """The ciphertext was not made with this key, or it was altered."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> SecretBox:
        path = private_dir(data_dir / "keys") / KEY_FILE
        with contextlib.suppress(FileExistsError):  # made before, or by another process now
            create_private(path, Fernet.generate_key())
        key = path.read_bytes().strip()
        try:
            return cls(key)
        except ValueError as error:
            raise ValueError(f"{path}: not a Fernet key ({error})") from None

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as error:
            raise DecryptionFailed(
                "cannot decrypt a stored secret: it was encrypted with another key "
                f"or altered ({type(error).__name__})"
            ) from None
