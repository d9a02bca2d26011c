"""Output as the cloud CLI prints it: `--query` (JMESPath) first, then json (sorted keys,
indent 2), jsonc (coloured on a terminal), table, tsv or none."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.parser

from moorage.cli.client import CliError

FORMATS = ("json", "jsonc", "table", "tsv", "none")
TableTransformer = Callable[[Any], Any]
SKIP_KEYS = ("id", "type", "etag")


def compile_query(query: str) -> jmespath.parser.ParsedResult:
    """The compiled query; a usage error (exit 2) when it does not parse."""
    try:
        return jmespath.compile(query)
    except jmespath.exceptions.ParseError as e:
        raise CliError(
            f"argument --query: invalid jmespath query supplied for '--query': {e}", exit_code=2
        ) from None


def apply_query(result: Any, query: str | None) -> Any:
    if not query:
        return result
    compiled = compile_query(query)
    try:
        return compiled.search(result, jmespath.Options(dict_cls=OrderedDict))
    except jmespath.exceptions.JMESPathError as e:
        raise CliError(f"argument --query: {e}", exit_code=2) from None


def render(
    result: Any,
    output: str,
    *,
    query_active: bool = False,
    table: TableTransformer | None = None,
    color: bool = False,
) -> str:
    """The text to print for `result` (already queried); empty for None or `-o none`."""
    if output == "none" or result is None:  # the cloud CLI prints nothing for no result
        return ""
    if output == "json" or (output == "jsonc" and not color):
        return format_json(result)
    if output == "jsonc":
        return colorize(format_json(result))
    if output == "table":
        return format_table(
            result,
            None if query_active else table,
            sort_keys=not query_active,
            from_query=query_active,
        )
    if output == "tsv":
        return format_tsv(result)
    raise CliError(
        f"unknown output format {output!r}; use one of {', '.join(FORMATS)}", exit_code=2
    )


def format_json(result: Any) -> str:
    return (
        json.dumps(result, ensure_ascii=False, indent=2, sort_keys=True, separators=(",", ": "))
        + "\n"
    )


_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)|(?P<str>"(?:[^"\\]|\\.)*")'
    r"|(?P<lit>\btrue\b|\bfalse\b|\bnull\b)|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
)
_COLORS = {"key": "\x1b[94m", "str": "\x1b[33m", "lit": "\x1b[36m", "num": "\x1b[36m"}


def colorize(text: str) -> str:
    def paint(m: re.Match[str]) -> str:
        kind = m.lastgroup or "str"
        return f"{_COLORS[kind]}{m.group()}\x1b[0m"

    return _TOKEN.sub(paint, text)


# -- table ---------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def header(key: str) -> str:
    """The column heading of a field, in the style of the cloud CLI's acr tables:
    `loginServer` -> `LOGIN SERVER`, `ipAddressOrRange` -> `IP ADDRESS OR RANGE`."""
    return _WORD_START.sub(" ", key).upper()


_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _table_row(item: Any, sort_keys: bool, heading: Callable[[str], str]) -> OrderedDict[str, Any]:
    row: OrderedDict[str, Any] = OrderedDict()
    if isinstance(item, dict):
        keys = sorted(item) if sort_keys and not isinstance(item, OrderedDict) else list(item)
        for key in keys:
            value = item[key]
            if key in SKIP_KEYS or value is None or isinstance(value, list | dict | set):
                continue
            row[heading(key)] = value
    elif isinstance(item, list):
        for i, value in enumerate(item):
            row[heading(f"Column{i + 1}")] = value
    else:
        row[heading("Result")] = item
    return row


def _query_key(key: str) -> str:
    """A --query's own key names its column, as the user wrote it (first letter capitalised)."""
    return key[:1].upper() + key[1:]


def format_table(
    result: Any,
    transformer: TableTransformer | None = None,
    *,
    sort_keys: bool = True,
    from_query: bool = False,
) -> str:
    """The columns a command's transformer names; else columns from scalar fields (id, type,
    etag left out) headed as the transformers head theirs (`LOGIN SERVER`), or by the keys of
    a --query as written."""
    if transformer is not None:
        result = transformer(result)
        sort_keys = False
    items = result if isinstance(result, list) else [result]
    heading = _query_key if from_query else header
    rows = [_table_row(item, sort_keys, heading) for item in items]
    if not rows:
        return "\n"
    headers: list[str] = []
    for row in rows:
        headers.extend(h for h in row if h not in headers)
    if not headers:
        raise CliError(
            "Table output unavailable. Use the --query option to specify an appropriate query."
        )
    cells = [[_cell(row.get(h)) for h in headers] for row in rows]
    widths = [max([len(h), *(len(line[i]) for line in cells)]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths]), *(line(c) for c in cells)]
    return "\n".join(out) + "\n"


# -- tsv -----------------------------------------------------------------------------------


def _tsv_value(value: Any) -> str:
    if isinstance(value, list):
        return str(len(value))
    if isinstance(value, dict):
        return ""
    return value if isinstance(value, str) else str(value)


def _tsv_row(item: Any) -> str:
    if isinstance(item, OrderedDict):
        values: list[Any] = list(item.values())
    elif isinstance(item, dict):
        values = [v for _, v in sorted(item.items())]
    elif isinstance(item, list):
        values = item
    elif isinstance(item, bool):
        return str(item).lower()
    else:
        return _tsv_value(item)
    return "\t".join(_tsv_value(v) for v in values)


def format_tsv(result: Any) -> str:
    """One line per item; an object's scalar values in key order (query order under --query),
    a nested list as its length, a nested object as an empty field."""
    items = result if isinstance(result, list) else [result]
    return "".join(_tsv_row(item) + "\n" for item in items)
