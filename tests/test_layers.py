"""No arrow back up: each part of src/moorage imports only the parts design.md's table allows.

The table below is design.md's, with the edges it leaves implicit written out (each with its
reason). TEMPORARY lists the known exceptions, file by file, with who removes them: an entry
that no longer happens fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "moorage"

MAY_IMPORT: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "blobs": frozenset(),
    # Helpers of the HTTP edge and of start-up, importing nothing of ours.
    "bodies": frozenset(),
    "startup": frozenset(),
    "store": frozenset({"domain"}),
    "auth": frozenset({"domain", "store"}),
    "access": frozenset({"domain", "store"}),
    # + access: the gate's request keys (the client address it resolved).
    "distribution": frozenset({"domain", "auth", "store", "blobs", "access", "bodies"}),
    # + access: the denial audit it lists, the registry resolver whose cache a change drops.
    "management": frozenset({"domain", "store", "auth", "access", "bodies"}),
    # management services; + domain (the values they take and return), auth (roles, the
    # identity service and login throttle of sign-in), access (the refusals it shows, the host
    # a request came to), store (its own session store).
    "portal": frozenset({"management", "domain", "auth", "access", "store", "bodies"}),
    # design.md: app.py and config.py may import all; config reads the stores' and blob
    # drivers' address values (S3 location, database URL), nothing above them.
    "config": frozenset({"domain", "blobs", "store"}),
    # the readiness probe app.py mounts: the metadata store and the blob driver answer
    "health": frozenset({"access", "blobs", "store"}),
    "app": frozenset(
        {"domain", "blobs", "store", "auth", "access", "distribution", "management", "portal"}
        | {"config", "startup", "bodies", "health", "wiring"}
    ),
    # builds the services of every part (app.py hands them to each part's setup)
    "wiring": frozenset(
        {"domain", "blobs", "store", "auth", "access", "distribution", "management", "portal"}
        | {"config", "startup", "health"}
    ),
    # the management API over HTTP; + app and config (`moorage serve`), auth (`moorage keys`
    # and the TLS files `serve --tls` makes).
    "cli": frozenset({"app", "config", "auth", "startup"}),
    "__main__": frozenset({"cli"}),
}

# (file under src/moorage, part it may import for now): each one a debt with an owner.
TEMPORARY: frozenset[tuple[str, str]] = frozenset(
    {
        # The registry pages reach the content store through distribution's app key.
        ("portal/registry_views.py", "distribution"),
    }
)


def _part(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    """The parts of moorage this file imports (at any depth: imports inside functions count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "moorage":
                names = [f"moorage.{alias.name}" for alias in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("moorage.")}
    return found


def _edges() -> dict[tuple[str, str], str]:
    """(file, imported part) -> the file's part, for every import across parts."""
    edges: dict[tuple[str, str], str] = {}
    for path in sorted(SRC.rglob("*.py")):
        part = _part(path)
        for target in _imports(path) - {part}:
            edges[(str(path.relative_to(SRC)), target)] = part
    return edges


EDGES = _edges()


def test_every_part_is_in_the_table() -> None:
    parts = {_part(p) for p in SRC.rglob("*.py")} - {"__init__"}
    assert parts <= set(MAY_IMPORT), parts - set(MAY_IMPORT)


@pytest.mark.parametrize("part", sorted(MAY_IMPORT))
def test_no_part_imports_what_the_table_forbids(part: str) -> None:
    wrong = sorted(
        f"{file} imports moorage.{target}"
        for (file, target), owner in EDGES.items()
        if owner == part and target not in MAY_IMPORT[part] and (file, target) not in TEMPORARY
    )
    assert not wrong, f"{part}/ may import only {sorted(MAY_IMPORT[part])}: " + "; ".join(wrong)


@pytest.mark.parametrize("edge", sorted(TEMPORARY), ids=lambda e: f"{e[0]}->{e[1]}")
def test_each_temporary_allowance_is_still_needed(edge: tuple[str, str]) -> None:
    assert edge in EDGES, f"{edge[0]} no longer imports moorage.{edge[1]}: remove it from TEMPORARY"


def test_store_does_not_import_auth() -> None:
    assert not [file for (file, target) in EDGES if file.startswith("store/") and target == "auth"]
