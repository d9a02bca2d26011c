"""The forwarded-header setting: the flag, else MOORAGE_FORWARDED_HEADER, else X-Forwarded-For."""

from __future__ import annotations

import pytest

from moorage.config import Settings, SettingsError
from moorage.domain.forwarding import ForwardedHeader


def test_the_default_is_x_forwarded_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOORAGE_FORWARDED_HEADER", raising=False)
    assert Settings().believed_header is ForwardedHeader.X_FORWARDED_FOR


def test_the_environment_chooses_when_no_flag_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOORAGE_FORWARDED_HEADER", "forwarded")
    assert Settings().believed_header is ForwardedHeader.FORWARDED
    assert Settings(forwarded_header="X-Real-IP").believed_header is ForwardedHeader.X_REAL_IP


def test_a_bad_environment_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOORAGE_FORWARDED_HEADER", "True-Client-IP")
    with pytest.raises(SettingsError, match=r"MOORAGE_FORWARDED_HEADER.*'True-Client-IP'"):
        Settings()
