from __future__ import annotations

import pytest

from moorage.domain.errors import InvalidName, InvalidRegistryName, InvalidTag
from moorage.domain.names import check_repository, check_tag
from moorage.domain.registry import check_registry_name, login_server

GOOD_REPOSITORIES = ["a", "app", "team/app", "a.b", "a_b", "a__b", "a--b", "a/b/c/d", "x9/y-8"]
BAD_REPOSITORIES = [
    "",
    "App",
    "-app",
    "app-",
    "a//b",
    "/a",
    "a/",
    "a___b",
    "a..b",
    "a b",
    "a/../b",
    "é",
    "a" * 256,
]


@pytest.mark.parametrize("name", GOOD_REPOSITORIES)
def test_repository_names_of_the_spec_grammar(name: str) -> None:
    assert check_repository(name) == name


@pytest.mark.parametrize("name", BAD_REPOSITORIES)
def test_bad_repository_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        check_repository(name)


@pytest.mark.parametrize("tag", ["latest", "v1.0", "1", "_x", "A-b_c.d", "a" * 128])
def test_good_tags(tag: str) -> None:
    assert check_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", ".hidden", "-x", "a" * 129, "a:b", "a/b", "a b"])
def test_bad_tags_are_refused(tag: str) -> None:
    with pytest.raises(InvalidTag):
        check_tag(tag)


@pytest.mark.parametrize("name", ["myregistry1", "ABCDE", "a" * 50, "reg01"])
def test_registry_names_follow_the_cloud(name: str) -> None:
    assert check_registry_name(name) == name


@pytest.mark.parametrize("name", ["abcd", "a" * 51, "my-registry", "my_registry", "reg.one", ""])
def test_bad_registry_names_name_the_value(name: str) -> None:
    with pytest.raises(InvalidRegistryName) as caught:
        check_registry_name(name)
    assert repr(name) in str(caught.value)


def test_login_server_is_lowercase_name_and_suffix() -> None:
    assert login_server("MyRegistry1", "localhost:5000") == "myregistry1.localhost:5000"
