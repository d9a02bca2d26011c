"""`--database` / `--blob-store` (and MOORAGE_DATABASE_URL / MOORAGE_BLOB_STORE) in Settings:
checked at start, errors name the setting and the value, never a password."""

from __future__ import annotations

import pytest

from moorage.blobs.location import S3Location
from moorage.config import Settings, SettingsError


def test_default_is_the_embedded_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOORAGE_DATABASE_URL", raising=False)
    monkeypatch.delenv("MOORAGE_BLOB_STORE", raising=False)
    settings = Settings()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.s3_location is None


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOORAGE_DATABASE_URL", "postgresql://u:p@db.example:5433/reg")
    monkeypatch.setenv("MOORAGE_BLOB_STORE", "s3://blobs/reg?region=eu-west-1")
    settings = Settings()
    assert settings.database_url == "postgresql://u:p@db.example:5433/reg"
    assert settings.s3_location == S3Location("blobs", "reg/", None, "eu-west-1")


@pytest.mark.parametrize(
    ("database", "says"),
    [
        ("sqlite:///x.db", "'sqlite:///x.db' is not a postgresql:// URL"),
        ("postgresql:///reg", "names no host"),
        ("postgresql://u:hunter2@h:5432", "'postgresql://u:***@h:5432' names no database"),
        ("not a url", "is not a URL"),
    ],
)
def test_bad_database_is_refused(database: str, says: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings(database=database)
    assert str(caught.value).startswith("--database (MOORAGE_DATABASE_URL): ")
    assert says in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_bad_blob_store_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^--blob-store \(MOORAGE_BLOB_STORE\): 'gs://b': "):
        Settings(blob_store="gs://b")
