"""Fuzz the management API from its own OpenAPI document (schemathesis): no input answers 5xx.

Against the real `moorage serve` process. Bounded and repeatable: a fixed number of examples
per operation, hypothesis derandomized (the same inputs on every run), a timeout per request and
a time limit for the whole run. schemathesis draws both inputs the document allows and inputs it
forbids (its positive and negative modes): neither may answer 5xx.
Path parameters that name the subscription, resource group and registry are pinned to ones
that exist for half of the operations' examples, so bodies reach the handlers instead of
stopping at a 404; the rest keep what the fuzzer drew.
"""

from __future__ import annotations

import os
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from moorage.management.routes import ROUTES, openapi_document
from tests.support.management import Management
from tests.support.server import Server, running_server

EXAMPLES = int(os.environ.get("MOORAGE_FUZZ_EXAMPLES", "10"))  # per operation (~56 of them)
TIME_LIMIT = float(os.environ.get("MOORAGE_FUZZ_SECONDS", "400"))  # for all of them together
_STARTED: list[float] = []
STATUSES: Counter[int] = Counter()  # printed at the end: what the run reached
REGISTRY = "fuzzreg"


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("fuzz") / "data", timeout=120) as server:
        yield server


@pytest.fixture(scope="module")
def owner(fuzz_server: Server) -> Iterator[Management]:
    api = Management(fuzz_server)
    api.create(REGISTRY, "Premium")
    yield api
    api.close()


# Built from the route table in-process (schemathesis' from_fixture fails under pytest 9.2);
# the first test checks that it is the very document the server publishes.
DOCUMENT = openapi_document(ROUTES)
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_fuzzed_document_is_the_published_one(owner: Management) -> None:
    r = owner.http.get("/openapi.json")
    assert r.status_code == 200, r.text
    assert r.json() == DOCUMENT


def _pin(case: Any, owner: Management) -> None:
    """Point half the cases at things that exist (which half is fixed by the case's own data)."""
    params = case.path_parameters or {}
    if zlib.crc32(repr(sorted(params.items())).encode()) % 2:  # not hash(): it is salted
        return
    known = {
        "subscriptionId": owner.subscription,
        "resourceGroupName": "moorage",
        "registryName": REGISTRY,
    }
    for name, value in known.items():
        if name in params:
            params[name] = value


# One test per operation, each with its own id: schemathesis' own parametrize gives every
# operation the same test id, and pytest-xdist (the suite runs on two processes) then runs one.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_input_answers_5xx(operation: Any, fuzz_server: Server, owner: Management) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        if not _STARTED:
            _STARTED.append(time.monotonic())
        if time.monotonic() - _STARTED[0] > TIME_LIMIT:
            return  # the time limit: the examples left are not sent (the figure says how many)
        _pin(case, owner)
        token = owner.http.headers["Authorization"]
        response = case.call(base_url=fuzz_server.url, headers={"Authorization": token}, timeout=30)
        STATUSES[response.status_code] += 1
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} query={case.query} body={str(case.body)[:300]}"
            f" -> {response.status_code} {response.text[:500]}\n"
            + "\n".join(fuzz_server.log().splitlines()[-30:])
        )

    fuzz()


def test_the_server_log_has_no_traceback(fuzz_server: Server) -> None:
    """After the fuzzing above, nothing failed on the server's side either."""
    print(f"fuzzed requests by status: {dict(sorted(STATUSES.items()))}")
    assert "Traceback" not in fuzz_server.log()
