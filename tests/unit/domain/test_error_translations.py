"""Every domain error is declared under moorage.domain, and each plane (OCI, management,
portal) decides once what it answers for each: a translation, or "not raised here" (a bug if it
is: a logged 500). An error with no decision is a logged 500 too, never a silent 400."""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
from collections.abc import Container, Iterator

import pytest
from aiohttp import web

import moorage
from moorage.distribution import errors as oci
from moorage.domain import errors as domain
from moorage.management import errors as arm
from moorage.portal import errors as portal


def _import_everything() -> None:
    for module in pkgutil.walk_packages(moorage.__path__, "moorage."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _subclasses(cls: type[domain.DomainError]) -> Iterator[type[domain.DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


_import_everything()
# A family's base (PrivateEndpointError) is never raised itself: its members are what count.
ALL = sorted(
    {
        c
        for c in _subclasses(domain.DomainError)
        if c.__module__.startswith("moorage.")
        and not (c.__subclasses__() and c.__name__.endswith("Error"))
    },
    key=lambda c: f"{c.__module__}.{c.__name__}",
)
PLANES: dict[str, tuple[Container[object], Container[object]]] = {
    "oci": (oci.TRANSLATION, oci.NOT_RAISED_HERE),
    "management": (arm.TRANSLATION, arm.NOT_RAISED_HERE),
    "portal": (portal.TRANSLATION, portal.NOT_RAISED_HERE),
}


def _instance(cls: type[domain.DomainError]) -> domain.DomainError:
    if cls is domain.UploadOutOfOrder or issubclass(cls, domain.UploadOutOfOrder):
        return cls("what went wrong", size=3)
    return cls("what went wrong", field="x")


def _declared(cls: type[domain.DomainError], entries: Container[object]) -> bool:
    return any(c in entries for c in cls.__mro__)


def test_the_walk_finds_the_errors() -> None:
    names = {c.__name__ for c in ALL}
    assert {"BlobNotFound", "ScopeMapInUse", "PrivateEndpointNotFound", "SubnetInUse"} <= names


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_domain_error_is_declared_under_domain(cls: type[domain.DomainError]) -> None:
    assert cls.__module__.startswith("moorage.domain."), (
        f"{cls.__name__} is declared in {cls.__module__}: declare it under moorage.domain"
    )


@pytest.mark.parametrize("plane", PLANES)
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_plane_decides_for_every_error(plane: str, cls: type[domain.DomainError]) -> None:
    table, elsewhere = PLANES[plane]
    translated, excluded = _declared(cls, table), _declared(cls, elsewhere)
    assert translated or excluded, (
        f"{cls.__name__} has no {plane} translation: add it to that plane's TRANSLATION (or to "
        "NOT_RAISED_HERE if it cannot happen there)"
    )
    assert not (translated and excluded), f"{cls.__name__} is both translated and excluded"


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_oci_translation_keeps_the_message(cls: type[domain.DomainError]) -> None:
    exc = _instance(cls)
    wire = oci.translate(exc)
    if _declared(cls, oci.TRANSLATION):
        assert wire.error is not oci.UNKNOWN and wire.message == exc.message
    else:
        assert wire.error is oci.UNKNOWN and oci.render(wire).status == 500


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_management_translation_keeps_the_message(cls: type[domain.DomainError]) -> None:
    exc = _instance(cls)
    rendered = arm.render(arm.translate(exc))
    body = json.loads(rendered.text or "")
    if _declared(cls, arm.TRANSLATION):
        code = domain.lookup(arm.TRANSLATION, exc)
        assert code is not None and rendered.status == code.status != 500
        assert body["error"]["message"] == exc.message
    else:
        assert rendered.status == 500 and body["error"]["code"] == "InternalServerError"


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_portal_translation(cls: type[domain.DomainError]) -> None:
    exc = _instance(cls)
    if _declared(cls, portal.TRANSLATION):
        assert 400 <= portal.status(exc) != 500 and portal.message(exc) == exc.message
    else:
        with pytest.raises(web.HTTPInternalServerError):
            portal.status(exc)


class Unheard(domain.DomainError):
    """An error no plane has heard of (declared here, so the walk above leaves it out)."""


def test_an_untranslated_error_is_a_logged_500_on_every_plane(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exc = Unheard("a secret detail")
    with caplog.at_level(logging.ERROR):
        wire = oci.translate(exc)
        assert oci.render(wire).status == 500 and "a secret detail" not in wire.message
        rendered = arm.render(arm.translate(exc))
        assert rendered.status == 500 and "a secret detail" not in (rendered.text or "")
        with pytest.raises(web.HTTPInternalServerError):
            portal.message(exc)
    logged = [r for r in caplog.records if "Unheard" in r.getMessage()]
    assert [r.name for r in logged] == [
        "moorage.distribution",
        "moorage.management",
        "moorage.portal",
    ]
    assert all(r.levelno == logging.ERROR and r.exc_info for r in logged)
