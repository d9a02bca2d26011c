from __future__ import annotations

import pytest

from moorage.domain.forwarding import (
    ForwardedHeader,
    Hop,
    forwarded_hops,
    forwarded_scheme,
)

FWD = ForwardedHeader.FORWARDED
XFF = ForwardedHeader.X_FORWARDED_FOR
REAL = ForwardedHeader.X_REAL_IP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("X-Forwarded-For", XFF),
        ("x-forwarded-for", XFF),
        (" Forwarded ", FWD),
        ("X-REAL-IP", REAL),
    ],
)
def test_the_setting_names_one_header(text: str, expected: ForwardedHeader) -> None:
    assert ForwardedHeader.parse(text) is expected


@pytest.mark.parametrize("text", ["", "X-Forwarded", "Forwarded-For", "True-Client-IP"])
def test_any_other_header_is_refused_with_the_choices(text: str) -> None:
    with pytest.raises(ValueError, match="X-Forwarded-For, Forwarded, X-Real-IP"):
        ForwardedHeader.parse(text)


@pytest.mark.parametrize(
    ("header", "values", "expected"),
    [
        (XFF, [], []),
        (XFF, ["203.0.113.7"], [Hop("203.0.113.7")]),
        (XFF, ["198.51.100.1, 203.0.113.7"], [Hop("198.51.100.1"), Hop("203.0.113.7")]),
        (XFF, ["198.51.100.1", "203.0.113.7"], [Hop("198.51.100.1"), Hop("203.0.113.7")]),
        (XFF, ["203.0.113.7:4711", "[2001:db8::1]:80"], [Hop("203.0.113.7"), Hop("2001:db8::1")]),
        (XFF, ["a,,b"], [Hop("a"), Hop(""), Hop("b")]),
        (REAL, ["203.0.113.7"], [Hop("203.0.113.7")]),
        (REAL, ["203.0.113.7", "198.51.100.1"], [Hop(None)]),  # two: which one?
        (REAL, ["203.0.113.7, 198.51.100.1"], [Hop(None)]),
        (FWD, ["for=203.0.113.7"], [Hop("203.0.113.7")]),
        (FWD, ['for="203.0.113.7:4711";proto=https'], [Hop("203.0.113.7", "https")]),
        (FWD, ['For="[2001:db8::1]:4711"'], [Hop("2001:db8::1")]),
        (
            FWD,
            ["for=198.51.100.1;proto=http, for=203.0.113.7;proto=https;by=10.0.0.1"],
            [Hop("198.51.100.1", "http"), Hop("203.0.113.7", "https")],
        ),
        (FWD, ["for=198.51.100.1", "for=203.0.113.7"], [Hop("198.51.100.1"), Hop("203.0.113.7")]),
        (FWD, ['for="a,b", for=203.0.113.7'], [Hop("a,b"), Hop("203.0.113.7")]),
        (FWD, ["for=203.0.113.7;;proto=https"], [Hop("203.0.113.7", "https")]),
        (FWD, ["for = 203.0.113.7"], [Hop(None)]),  # RFC 7239: no space around "="
        (FWD, ["for=203.0.113.7;garbage"], [Hop(None)]),
        (FWD, ["for=203.0.113.7;for=198.51.100.1"], [Hop(None)]),  # a parameter twice
        (FWD, ["proto=https"], [Hop(None, "https")]),  # no for
        (FWD, ['for="203.0.113.7'], [Hop(None)]),  # unterminated quote
        (FWD, ['for=198.51.100.1, for="203.0.113.7'], [Hop("198.51.100.1"), Hop(None)]),
        (FWD, ["for=203.0.113.7,"], [Hop("203.0.113.7"), Hop(None)]),
        (FWD, ["for=unknown"], [Hop("unknown")]),  # read later: not an address
    ],
)
def test_hops(header: ForwardedHeader, values: list[str], expected: list[Hop]) -> None:
    assert forwarded_hops(header, values) == expected


def test_a_hostile_forwarded_value_ends() -> None:
    # Patterns whose whitespace runs touch backtrack exponentially on these (hours, not ms).
    assert forwarded_hops(FWD, ["for=1" + "; " * 4000 + "!"]) == [Hop(None)]
    assert forwarded_hops(FWD, [" ," * 4000 + '"'])[-1] == Hop(None)


@pytest.mark.parametrize(
    ("said", "expected"),
    [(None, None), ("https", "https"), ("HTTPS", "https"), (" http ", "http")],
)
def test_scheme(said: str | None, expected: str | None) -> None:
    assert forwarded_scheme(said) == expected


@pytest.mark.parametrize("said", ["", "ftp", "https, http", "javascript"])
def test_a_scheme_other_than_http_or_https_is_refused(said: str) -> None:
    with pytest.raises(ValueError, match="neither http nor https"):
        forwarded_scheme(said)
