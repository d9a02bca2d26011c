"""The one bounded JSON parser every edge uses: each class of bad input, refused by name."""

from __future__ import annotations

import json
import time

import pytest

from moorage.domain.errors import InvalidJson
from moorage.domain.json_input import JsonLimits, parse_json

LIMITS = JsonLimits(max_bytes=4 * 1024 * 1024)


@pytest.mark.parametrize(
    ("data", "problem", "words"),
    [
        (b"[" * 200_000, "too deep", "deeper than 32 levels"),
        (b"[" * 200_000 + b"]" * 200_000, "too deep", "deeper than 32 levels"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "too deep", "deeper than 32 levels"),
        (b"[" * 10 + b"]" * 9, "syntax", "brackets do not balance"),
        (b"[}", "syntax", "brackets do not balance"),
        (b'{"n": ' + b"9" * 5000 + b"}", "number too large", "integer of 5000 digits"),
        (b'{"n": -' + b"9" * 21 + b"}", "number too large", "integer of 21 digits"),
        (b'{"n": 1e999}', "number too large", "out of range"),
        (b'{"n": 0.' + b"1" * 100 + b"}", "number too large", "out of range"),
        (b'{"n": NaN}', "not a number", "NaN"),
        (b'{"n": -Infinity}', "not a number", "-Infinity"),
        ('{"a": 1}'.encode("utf-16"), "not UTF-8", "not UTF-8"),
        ('{"a": "é"}'.encode("latin-1"), "not UTF-8", "offset 7"),
        (b'\xef\xbb\xbf{"a": 1}', "BOM", "byte-order mark"),
        (b'{"a": 1, "a": 2}', "duplicate key", "key 'a' twice"),
        (b'{"x": [{"b": 1, "b": 1}]}', "duplicate key", "key 'b' twice"),
        (b'{"a": "\\ud800"}', "lone surrogate", "lone UTF-16 surrogate"),
        (b'["ok", "\\udc00x"]', "lone surrogate", "lone UTF-16 surrogate"),
        (b'{"a": 1', "syntax", "not valid JSON"),
        (b"", "syntax", "not valid JSON"),
        (b'{"a": "\x01"}', "syntax", "Invalid control character"),
    ],
)
def test_bad_input_is_refused_by_name(data: bytes, problem: str, words: str) -> None:
    with pytest.raises(InvalidJson) as caught:
        parse_json(data, LIMITS, what="the manifest")
    assert caught.value.detail["problem"] == problem
    assert words in caught.value.message
    assert caught.value.message.startswith("the manifest")


def test_size_is_checked_before_anything_else() -> None:
    with pytest.raises(InvalidJson, match="is 11 bytes; the limit is 10") as caught:
        parse_json(b'"' + b"x" * 9 + b'"', JsonLimits(max_bytes=10))
    assert caught.value.detail == {"problem": "too large", "limit": 10}


@pytest.mark.parametrize(
    "document",
    [
        {"schemaVersion": 2, "layers": [{"size": 2**63 - 1, "annotations": {"k": "v"}}]},
        {"deep": json.loads("[" * 31 + "1" + "]" * 31)},  # 32 levels with the object
        {"brackets in strings": "[[[[{{{{" * 100, 'escaped "quote" [': "\\"},
        {"unicode": "é 漢字 \U0001f600"},
        {"numbers": [0, -1, 1.5, -2.5e-3, 12345678901234567890]},
        [],
        "text",
        None,
    ],
)
def test_good_documents_come_back_as_they_were(document: object) -> None:
    for data in (json.dumps(document).encode(), json.dumps(document, ensure_ascii=False).encode()):
        assert parse_json(data, LIMITS) == document


def test_a_surrogate_pair_escape_is_one_character() -> None:
    assert parse_json(b'["\\ud83d\\ude00"]', LIMITS) == ["\U0001f600"]


def test_depth_limit_is_exact() -> None:
    limits = JsonLimits(max_bytes=1000, max_depth=3)
    assert parse_json(b"[[[1]]]", limits) == [[[1]]]
    with pytest.raises(InvalidJson, match="deeper than 3 levels"):
        parse_json(b"[[[[1]]]]", limits)


def test_a_large_flat_document_is_not_slowed_by_the_checks() -> None:
    """4 MiB of small objects: the depth count is C-speed byte work, not a Python loop."""
    data = json.dumps([{"a": i, "b": "x[y]"} for i in range(150_000)]).encode()
    assert len(data) < LIMITS.max_bytes
    started = time.perf_counter()
    assert len(parse_json(data, LIMITS)) == 150_000
    elapsed = time.perf_counter() - started
    print(f"4 MiB flat document parsed in {elapsed:.3f} s")  # a figure, not an assertion
