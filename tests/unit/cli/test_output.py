"""Output as the cloud CLI prints it: json, tsv, table, none, and --query before them."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest

from moorage.cli.client import CliError
from moorage.cli.output import apply_query, colorize, format_table, format_tsv, render
from moorage.cli.shapes import registry_table

REGISTRY = {
    "name": "myregistry1",
    "id": "/subscriptions/s/resourceGroups/moorage/providers/x/registries/myregistry1",
    "type": "Microsoft.ContainerRegistry/registries",
    "location": "local",
    "loginServer": "myregistry1.localhost:5000",
    "adminUserEnabled": False,
    "creationDate": "2026-01-02T03:04:05.123456Z",
    "resourceGroup": "moorage",
    "sku": {"name": "Premium", "tier": "Premium"},
    "tags": {},
}


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"b": 1, "a": [True, None]}, '{\n  "a": [\n    true,\n    null\n  ],\n  "b": 1\n}\n'),
        (["x"], '[\n  "x"\n]\n'),
        ({"name": "é"}, '{\n  "name": "é"\n}\n'),
        ([], "[]\n"),
    ],
    ids=["sorted-keys", "list", "non-ascii-kept", "empty-list"],
)
def test_json_is_sorted_indented_and_keeps_unicode(result: Any, expected: str) -> None:
    assert render(result, "json") == expected


@pytest.mark.parametrize("output", ["json", "jsonc", "table", "tsv", "none"])
def test_no_result_prints_nothing(output: str) -> None:
    assert render(None, output) == ""


def test_none_output_prints_nothing() -> None:
    assert render({"a": 1}, "none") == ""


def test_jsonc_is_plain_json_off_a_terminal_and_coloured_on_one() -> None:
    assert render({"a": 1}, "jsonc", color=False) == render({"a": 1}, "json")
    coloured = render({"a": "x1"}, "jsonc", color=True)
    assert "\x1b[" in coloured
    assert colorize('"k": "v"').count("\x1b[0m") == 2


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"b": "2", "a": "1"}, "1\t2\n"),
        (OrderedDict([("b", "2"), ("a", "1")]), "2\t1\n"),
        ([{"a": 1}, {"a": 2}], "1\n2\n"),
        ({"list": [1, 2, 3], "obj": {"x": 1}, "s": "t"}, "3\t\tt\n"),
        ("text", "text\n"),
        (True, "true\n"),
        ({"flag": True, "none": None}, "True\tNone\n"),
        (["a", "b"], "a\nb\n"),
        ([["a", "b"]], "a\tb\n"),
    ],
    ids=[
        "dict-sorted",
        "query-order",
        "rows",
        "nested",
        "scalar",
        "bool-row",
        "bool-in-object",
        "list-of-scalars",
        "nested-list",
    ],
)
def test_tsv(result: Any, expected: str) -> None:
    assert format_tsv(result) == expected


@pytest.mark.parametrize(
    ("result", "sort_keys", "expected"),
    [
        (
            [{"name": "aa", "id": "x", "count": 3, "tags": {}}, {"name": "b", "count": 10}],
            True,
            ["COUNT  NAME", "-----  ----", "3      aa", "10     b"],
        ),
        (
            OrderedDict([("z", 1), ("a", None), ("b", "x")]),
            False,
            ["Z  B", "-  -", "1  x"],
        ),
        (["one", "two"], True, ["RESULT", "------", "one", "two"]),
        (
            {"loginServer": "x", "ipAddressOrRange": "y"},
            True,
            [
                "IP ADDRESS OR RANGE  LOGIN SERVER",
                "-------------------  ------------",
                "y                    x",
            ],
        ),
        ({"ok": True}, True, ["OK", "----", "True"]),
    ],
    ids=["skips-id-and-nested", "query-order-and-nulls", "scalars", "words", "bool"],
)
def test_table(result: Any, sort_keys: bool, expected: list[str]) -> None:
    assert format_table(result, sort_keys=sort_keys).splitlines() == expected


def test_table_of_nothing_scalar_says_to_use_a_query() -> None:
    with pytest.raises(CliError, match="--query"):
        format_table({"nested": {"a": 1}})


def test_registry_table_has_the_cloud_cli_columns() -> None:
    lines = render([REGISTRY], "table", table=registry_table).splitlines()
    assert lines[0].split("  ")[0] == "NAME"
    for column in ("RESOURCE GROUP", "LOCATION", "SKU", "LOGIN SERVER", "CREATION DATE"):
        assert column in lines[0]
    assert lines[0].endswith("ADMIN ENABLED")
    assert lines[2].split() == [
        "myregistry1",
        "moorage",
        "local",
        "Premium",
        "myregistry1.localhost:5000",
        "2026-01-02T03:04:05Z",
        "False",
    ]


def test_query_turns_the_table_transformer_off() -> None:
    queried = apply_query(REGISTRY, "{n: name, l: loginServer}")
    lines = render(queried, "table", query_active=True, table=registry_table).splitlines()
    assert lines[0].split() == ["N", "L"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name", "myregistry1"),
        ("sku.name", "Premium"),
        ("[name, location]", ["myregistry1", "local"]),
        ("{b: location, a: name}", {"b": "local", "a": "myregistry1"}),
        ("missing", None),
        ("", REGISTRY),
    ],
)
def test_query(query: str, expected: Any) -> None:
    assert apply_query(REGISTRY, query) == expected


def test_query_keeps_the_order_it_names_for_tsv() -> None:
    queried = apply_query(REGISTRY, "{b: location, a: name}")
    assert render(queried, "tsv") == "local\tmyregistry1\n"


def test_bad_query_is_a_usage_error() -> None:
    with pytest.raises(CliError) as caught:
        apply_query(REGISTRY, "[name")
    assert caught.value.exit_code == 2
    assert "--query" in caught.value.message
