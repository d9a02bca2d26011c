"""Repository names and tags as the OCI distribution spec defines them."""

from __future__ import annotations

import re

from moorage.domain.errors import InvalidName, InvalidTag

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
MAX_REPOSITORY_LENGTH = 255


def check_repository(name: str) -> str:
    if len(name) > MAX_REPOSITORY_LENGTH:
        raise InvalidName(
            f"repository name is {len(name)} characters long; the limit is {MAX_REPOSITORY_LENGTH}",
            name=name[:64] + "...",
        )
    if not _REPOSITORY.fullmatch(name):
        raise InvalidName(
            f"invalid repository name {name!r}: path components of lowercase letters and "
            "digits, separated by '.', '_', '__' or '-', joined by '/'",
            name=name,
        )
    return name


def check_tag(tag: str) -> str:
    if not _TAG.fullmatch(tag):
        raise InvalidTag(
            f"invalid tag {tag!r}: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'",
            tag=tag,
        )
    return tag
