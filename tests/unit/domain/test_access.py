"""Token scopes, scope-map lines, what an identity holds and what a token request is granted."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moorage.domain.access import (
    ALL_ACTIONS,
    MAX_SCOPE_LENGTH,
    MAX_SCOPE_MAP_ACTIONS,
    MAX_SCOPES,
    ROLE_ACTIONS,
    SCOPE_MAP_ACTIONS,
    SYSTEM_SCOPE_MAPS,
    Action,
    InvalidScope,
    Permissions,
    Rule,
    Scope,
    access_from_claim,
    grant,
    parse_scope_map,
    parse_scope_map_action,
    parse_scopes,
    permits,
    refused,
)

PROPERTIES = settings(max_examples=300, deadline=None)
EVERY_ACTION = ("pull", "push", "delete", "metadata_read", "metadata_write")


def _repo(name: str, *actions: str) -> Scope:
    return Scope("repository", name, actions)


# -- parse_scopes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["repository:app:pull"], [_repo("app", "pull")]),
        (["repository:app:pull,push"], [_repo("app", "pull", "push")]),
        (["repository:team/app:pull"], [_repo("team/app", "pull")]),
        (["repository:a/b/c/d:delete"], [_repo("a/b/c/d", "delete")]),
        (["repository:my-app.v2__x:pull"], [_repo("my-app.v2__x", "pull")]),
        (["repository:app:*"], [_repo("app", "*")]),
        (["repository:app:metadata_read"], [_repo("app", "metadata_read")]),
        (["registry:catalog:*"], [Scope("registry", "catalog", ("*",))]),
        # The resource class of the token specification (`repository(plugin)`) is dropped.
        (["repository(plugin):x:pull"], [_repo("x", "pull")]),
        (["registry(v2):catalog:*"], [Scope("registry", "catalog", ("*",))]),
        # Several scopes in one value (POST), separated by any run of whitespace.
        (
            ["repository:a:pull repository:b:push"],
            [_repo("a", "pull"), _repo("b", "push")],
        ),
        (
            ["  repository:a:pull\trepository:b:push  "],
            [_repo("a", "pull"), _repo("b", "push")],
        ),
        # Across values (GET with several `scope` parameters).
        (
            ["repository:a:pull", "registry:catalog:*", "repository:b:push"],
            [_repo("a", "pull"), Scope("registry", "catalog", ("*",)), _repo("b", "push")],
        ),
        # Duplicates merge into one scope per resource, actions in first-seen order.
        (
            ["repository:a:pull", "repository:b:pull repository:a:push,pull"],
            [_repo("a", "pull", "push"), _repo("b", "pull")],
        ),
        (["repository:a:push,pull,push"], [_repo("a", "push", "pull")]),
        (["repository(plugin):a:pull repository:a:push"], [_repo("a", "pull", "push")]),
        # Empty items between commas are ignored.
        (["repository:a:pull,,push,"], [_repo("a", "pull", "push")]),
        # Nothing asked, nothing parsed.
        ([], []),
        ([""], []),
        (["   "], []),
    ],
)
def test_parse_scopes(values: list[str], expected: list[Scope]) -> None:
    assert parse_scopes(values) == expected


def test_unknown_actions_are_kept_to_be_granted_nothing() -> None:
    assert parse_scopes(["repository:app:pull,frobnicate"]) == [_repo("app", "pull", "frobnicate")]


def test_scope_str_and_claim() -> None:
    scope = _repo("team/app", "pull", "push")
    assert str(scope) == "repository:team/app:pull,push"
    assert parse_scopes([str(scope)]) == [scope]
    assert scope.claim() == {"type": "repository", "name": "team/app", "actions": ["pull", "push"]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("repository", "is not '<type>:<name>:<actions>'"),
        ("repository:app", "is not '<type>:<name>:<actions>'"),
        ("repository:app:", "is not '<type>:<name>:<actions>'"),
        ("repository::pull", "is not '<type>:<name>:<actions>'"),
        (":app:pull", "has resource type ''"),
        ("Repository:app:pull", "has resource type 'Repository'"),
        ("repository(Plugin):app:pull", "has resource type 'repository\\(Plugin\\)'"),
        ("repository(plugin:app:pull", "has resource type 'repository\\(plugin'"),
        ("repository:app:,", "has invalid actions ','"),
        ("repository:app:PULL", "has invalid actions 'PULL'"),
        ("repository:app:pull;push", "has invalid actions 'pull;push'"),
        ("repository:app:pu11", "has invalid actions 'pu11'"),
        ("repository:app:" + "a" * 33, "has invalid actions"),
        ("repository:App:pull", "invalid repository name 'App'"),
        ("repository:team/App:pull", "invalid repository name 'team/App'"),
        ("repository:/app:pull", "invalid repository name '/app'"),
        ("repository:app/:pull", "invalid repository name 'app/'"),
        ("repository:a//b:pull", "invalid repository name 'a//b'"),
        ("repository:-app:pull", "invalid repository name '-app'"),
        ("repository:app:pull:push", "invalid repository name 'app:pull'"),
        ("repository:*:pull", "invalid repository name '\\*'"),
        # A registry host (with a port) is refused: repository names cannot contain ':', and
        # clients send the name without the host. The scope grammar of the distribution spec
        # allows an optional `hostname/` prefix; a registry's own token service has no use for
        # it, and refusing it beats granting a scope no route ever matches.
        ("repository:localhost:5000/app:pull", "invalid repository name 'localhost:5000/app'"),
        ("repository:myreg.azurecr.io:443/app:pull", "invalid repository name"),
    ],
)
def test_invalid_scopes_are_refused_naming_the_value(value: str, message: str) -> None:
    with pytest.raises(InvalidScope, match=message) as raised:
        parse_scopes([f"repository:ok:pull {value}"])
    assert repr(value) in raised.value.message
    assert raised.value.detail == {"scope": value}


def test_a_repository_name_over_the_length_limit_is_refused() -> None:
    name = "/".join(["a" * 50] * 6)  # 305 characters, each component valid
    with pytest.raises(InvalidScope, match="the limit is 255"):
        parse_scopes([f"repository:{name}:pull"])


def test_catalog_and_registry_names_are_not_checked_as_repositories() -> None:
    # Only repository names follow the repository grammar; `registry:` scopes other than the
    # catalog parse and are granted nothing.
    assert parse_scopes(["registry:Catalog:*"]) == [Scope("registry", "Catalog", ("*",))]


def test_unknown_resource_types_are_kept_as_the_docstring_says() -> None:
    scopes = parse_scopes(["repository:app:pull", "helm:chart:pull"])
    assert scopes == [_repo("app", "pull"), Scope("helm", "chart", ("pull",))]
    assert grant(Permissions.everything(), scopes) == [_repo("app", "pull")]


def test_at_most_max_scopes_counted_before_merging() -> None:
    exactly = [f"repository:app{i}:pull" for i in range(MAX_SCOPES)]
    assert len(parse_scopes(exactly)) == MAX_SCOPES
    assert len(parse_scopes([" ".join(exactly)])) == MAX_SCOPES
    with pytest.raises(InvalidScope, match=f"at most {MAX_SCOPES} scopes"):
        parse_scopes([*exactly, "repository:one-more:pull"])
    # Repeating one scope still counts each occurrence: the limit bounds the work.
    with pytest.raises(InvalidScope, match=f"at most {MAX_SCOPES} scopes"):
        parse_scopes([" ".join(["repository:app:pull"] * (MAX_SCOPES + 1))])


def test_overlong_scope_is_refused_naming_its_start() -> None:
    name = "/".join(["a" * 63] * 4)  # 255 characters: the longest repository name
    start = f"repository:{name}:pull"
    longest = start + "," * (MAX_SCOPE_LENGTH - len(start))
    assert len(longest) == MAX_SCOPE_LENGTH
    assert parse_scopes([longest]) == [_repo(name, "pull")]
    too_long = longest + ","
    with pytest.raises(InvalidScope, match=f"longer than {MAX_SCOPE_LENGTH} characters") as e:
        parse_scopes([too_long])
    assert repr(too_long[:64]) in e.value.message
    assert too_long not in e.value.message


# -- scope-map lines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("repositories/app/content/read", Rule("app", Action.PULL)),
        ("repositories/app/content/write", Rule("app", Action.PUSH)),
        ("repositories/app/content/delete", Rule("app", Action.DELETE)),
        ("repositories/app/metadata/read", Rule("app", Action.METADATA_READ)),
        ("repositories/*/metadata/write", Rule("*", Action.METADATA_WRITE)),
        ("repositories/team/*/content/write", Rule("team/*", Action.PUSH)),
        ("repositories/a/b/*/content/read", Rule("a/b/*", Action.PULL)),
        ("repositories/a/b/c/content/delete", Rule("a/b/c", Action.DELETE)),
        ("  repositories/app/content/read\n", Rule("app", Action.PULL)),
    ],
)
def test_parse_scope_map_action(text: str, rule: Rule) -> None:
    assert parse_scope_map_action(text) == rule
    assert str(rule) == text.strip()
    assert parse_scope_map_action(str(rule)) == rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not 'repositories/<repository>/<action>'"),
        ("repositories", "is not 'repositories/<repository>/<action>'"),
        ("repositories/app", "is not 'repositories/<repository>/<action>'"),
        ("repositories/content/read", "is not 'repositories/<repository>/<action>'"),
        ("repositories//content/read", "is not 'repositories/<repository>/<action>'"),
        ("repository/app/content/read", "is not 'repositories/<repository>/<action>'"),
        ("Repositories/app/content/read", "is not 'repositories/<repository>/<action>'"),
        ("/repositories/app/content/read", "is not 'repositories/<repository>/<action>'"),
        ("registry/catalog/content/read", "is not 'repositories/<repository>/<action>'"),
        ("repositories/app/content/pull", "has action 'content/pull'; use one of content/read"),
        ("repositories/app/content/READ", "has action 'content/READ'"),
        ("repositories/app/metadata/delete", "has action 'metadata/delete'"),
        ("repositories/app/content/read/", "has action 'read/'"),
        ("repositories/app/pull", "is not 'repositories/<repository>/<action>'"),
        ("repositories/App/content/read", "invalid repository name 'App'"),
        ("repositories/team/App/content/read", "invalid repository name 'team/App'"),
        ("repositories/*/*/content/read", "invalid repository name '\\*'"),
        ("repositories/team*/content/read", "invalid repository name 'team\\*'"),
        ("repositories/a/*/b/content/read", "invalid repository name 'a/\\*/b'"),
        ("repositories/app:1/content/read", "invalid repository name 'app:1'"),
        ("repositories/-app/content/read", "invalid repository name '-app'"),
    ],
)
def test_bad_scope_map_actions_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidScope, match=message) as raised:
        parse_scope_map_action(text)
    assert repr(text) in raised.value.message
    assert raised.value.detail == {"action": text}


def test_parse_scope_map_keeps_order_and_drops_repeats() -> None:
    rules = parse_scope_map(
        [
            "repositories/b/content/read",
            "repositories/a/content/read",
            " repositories/b/content/read",
            "repositories/b/content/write",
        ]
    )
    assert rules == (Rule("b", Action.PULL), Rule("a", Action.PULL), Rule("b", Action.PUSH))


def test_parse_scope_map_refuses_nothing_and_too_much() -> None:
    with pytest.raises(InvalidScope, match="at least one action"):
        parse_scope_map([])
    with pytest.raises(InvalidScope, match="'nonsense'"):
        parse_scope_map(["repositories/app/content/read", "nonsense"])
    many = [f"repositories/app{i}/content/read" for i in range(MAX_SCOPE_MAP_ACTIONS)]
    assert len(parse_scope_map(many)) == MAX_SCOPE_MAP_ACTIONS
    assert len(parse_scope_map(many + many)) == MAX_SCOPE_MAP_ACTIONS  # repeats are free
    with pytest.raises(InvalidScope, match=f"at most {MAX_SCOPE_MAP_ACTIONS} actions"):
        parse_scope_map([*many, "repositories/one-more/content/read"])


def test_every_scope_map_action_round_trips() -> None:
    for verb, action in SCOPE_MAP_ACTIONS.items():
        for pattern in ("*", "app", "team/*", "a/b/c"):
            rule = Rule(pattern, action)
            assert str(rule) == f"repositories/{pattern}/{verb}"
            assert parse_scope_map_action(str(rule)) == rule


def test_system_scope_maps_parse() -> None:
    for description, lines in SYSTEM_SCOPE_MAPS.values():
        assert description
        assert all(rule.pattern == "*" for rule in parse_scope_map(lines))
    admin = parse_scope_map(SYSTEM_SCOPE_MAPS["_repositories_admin"][1])
    assert {r.action for r in admin} == ALL_ACTIONS


# -- Rule.matches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "repository", "matches"),
    [
        ("*", "app", True),
        ("*", "team/x/y", True),
        ("app", "app", True),
        ("app", "app2", False),
        ("app", "team/app", False),
        ("app", "app/x", False),
        ("team/x", "team/x", True),
        ("team/x", "team/x/y", False),
        ("team/*", "team/x", True),
        ("team/*", "team/x/y", True),
        ("team/*", "team", False),
        ("team/*", "teamx/y", False),
        ("team/*", "teamx", False),
        ("team/*", "other/team/x", False),
        ("a/b/*", "a/b/c", True),
        ("a/b/*", "a/bc/d", False),
        ("a/b/*", "a/b", False),
    ],
)
def test_rule_matches(pattern: str, repository: str, matches: bool) -> None:
    assert Rule(pattern, Action.PULL).matches(repository) is matches


# -- Permissions ----------------------------------------------------------------------------


def test_everything() -> None:
    everything = Permissions.everything()
    assert everything.catalog
    for repository in ("app", "team/x/y"):
        assert everything.actions_on(repository) == ALL_ACTIONS
    assert everything.catalog_patterns() == ["*"]


def test_nothing() -> None:
    nothing = Permissions()
    assert nothing.actions_on("app") == frozenset()
    assert nothing.catalog_patterns() == []


@pytest.mark.parametrize(
    ("roles", "actions", "catalog"),
    [
        ([], set(), False),
        (["Owner"], set(Action), True),
        (["Contributor"], set(Action), True),
        (["Reader"], {Action.PULL, Action.METADATA_READ}, True),
        (["AcrPull"], {Action.PULL, Action.METADATA_READ}, True),
        (
            ["AcrPush"],
            {Action.PULL, Action.PUSH, Action.METADATA_READ, Action.METADATA_WRITE},
            True,
        ),
        (["AcrDelete"], {Action.DELETE}, False),
        (["AcrDelete", "AcrPull"], {Action.DELETE, Action.PULL, Action.METADATA_READ}, True),
        (["AcrPull", "AcrPush", "AcrDelete"], set(Action), True),
        # Roles of the management plane alone, or unknown names, give nothing here.
        (["User Access Administrator"], set(), False),
        (["acrpull"], set(), False),
    ],
)
def test_of_roles(roles: list[str], actions: set[Action], catalog: bool) -> None:
    permissions = Permissions.of_roles(roles)
    assert permissions.actions_on("app") == actions
    assert permissions.actions_on("team/x/y") == actions
    assert permissions.catalog is catalog
    assert permissions.catalog_patterns() == (["*"] if catalog else [])
    assert all(rule.pattern == "*" for rule in permissions.rules)


def test_role_table_covers_only_known_actions() -> None:
    assert all(actions <= ALL_ACTIONS for actions in ROLE_ACTIONS.values())


def test_of_scope_map() -> None:
    permissions = Permissions.of_scope_map(
        parse_scope_map(
            [
                "repositories/app/content/read",
                "repositories/app/content/write",
                "repositories/team/*/content/read",
                "repositories/team/*/metadata/read",
                "repositories/docs/metadata/read",
                "repositories/*/content/delete",
            ]
        )
    )
    assert permissions.actions_on("app") == {Action.PULL, Action.PUSH, Action.DELETE}
    assert permissions.actions_on("team/x") == {Action.PULL, Action.METADATA_READ, Action.DELETE}
    assert permissions.actions_on("team/x/y") == permissions.actions_on("team/x")
    assert permissions.actions_on("team") == {Action.DELETE}
    assert permissions.actions_on("docs") == {Action.METADATA_READ, Action.DELETE}
    assert permissions.actions_on("other") == {Action.DELETE}
    assert permissions.catalog
    assert permissions.catalog_patterns() == ["team/*", "docs"]


def test_of_scope_map_without_metadata_read_cannot_list() -> None:
    permissions = Permissions.of_scope_map(parse_scope_map(["repositories/*/content/read"]))
    assert not permissions.catalog
    assert permissions.catalog_patterns() == []


@pytest.mark.parametrize(
    ("lines", "patterns"),
    [
        (["repositories/*/metadata/read", "repositories/app/metadata/read"], ["*"]),
        (["repositories/app/metadata/read", "repositories/*/metadata/read"], ["*"]),
        (["repositories/b/metadata/read", "repositories/a/metadata/read"], ["b", "a"]),
        (
            ["repositories/a/metadata/read", "repositories/a/metadata/write"],
            ["a"],
        ),
    ],
)
def test_catalog_patterns(lines: list[str], patterns: list[str]) -> None:
    assert Permissions.of_scope_map(parse_scope_map(lines)).catalog_patterns() == patterns


def test_catalog_patterns_are_not_repeated() -> None:
    rules = (Rule("a", Action.METADATA_READ), Rule("a", Action.METADATA_READ))
    assert Permissions(rules, catalog=True).catalog_patterns() == ["a"]
    assert Permissions(rules, catalog=False).catalog_patterns() == []


# -- grant ----------------------------------------------------------------------------------


PULL_ONLY = Permissions.of_scope_map(parse_scope_map(["repositories/app/content/read"]))
TEAM = Permissions.of_scope_map(
    parse_scope_map(
        [
            "repositories/team/*/content/read",
            "repositories/team/*/content/write",
            "repositories/team/*/metadata/read",
        ]
    )
)


@pytest.mark.parametrize(
    ("permissions", "requested", "granted"),
    [
        # Never more than asked.
        (Permissions.everything(), ["repository:app:pull"], [_repo("app", "pull")]),
        # Never more than held: pull only, asking pull,push, gets pull (not an error).
        (PULL_ONLY, ["repository:app:pull,push"], [_repo("app", "pull")]),
        (PULL_ONLY, ["repository:app:push"], []),
        (PULL_ONLY, ["repository:other:pull"], []),
        # `*` expands to everything held, in Action order.
        (PULL_ONLY, ["repository:app:*"], [_repo("app", "pull")]),
        (Permissions.everything(), ["repository:app:*"], [_repo("app", *EVERY_ACTION)]),
        (
            Permissions.of_roles(["AcrPush"]),
            ["repository:app:*"],
            [_repo("app", "pull", "push", "metadata_read", "metadata_write")],
        ),
        (
            Permissions.everything(),
            ["repository:app:push,pull,frobnicate"],
            [_repo("app", "pull", "push")],
        ),
        # Prefix patterns.
        (
            TEAM,
            ["repository:team/x:pull,push,delete repository:team:pull repository:teamx/y:pull"],
            [_repo("team/x", "pull", "push")],
        ),
        (TEAM, ["repository:team/x/y:*"], [_repo("team/x/y", "pull", "push", "metadata_read")]),
        # The catalog: held and asked with `*`.
        (Permissions.everything(), ["registry:catalog:*"], [Scope("registry", "catalog", ("*",))]),
        (TEAM, ["registry:catalog:*"], [Scope("registry", "catalog", ("*",))]),
        (PULL_ONLY, ["registry:catalog:*"], []),
        (Permissions.everything(), ["registry:catalog:pull"], []),
        (
            Permissions.everything(),
            ["registry:catalog:pull,*"],
            [Scope("registry", "catalog", ("*",))],
        ),
        (Permissions.everything(), ["registry:other:*"], []),
        # Asking nothing gets nothing; holding nothing grants nothing.
        (Permissions.everything(), [], []),
        (Permissions(), ["repository:app:* registry:catalog:*"], []),
        # Several scopes, in the order asked; those granting nothing are left out.
        (
            Permissions.of_roles(["AcrPull"]),
            ["repository:b:push repository:a:pull registry:catalog:* repository:c:pull"],
            [_repo("a", "pull"), Scope("registry", "catalog", ("*",)), _repo("c", "pull")],
        ),
    ],
)
def test_grant(permissions: Permissions, requested: list[str], granted: list[Scope]) -> None:
    assert grant(permissions, parse_scopes(requested)) == granted


def test_grant_drops_unknown_resource_types() -> None:
    requested = [Scope("helm", "app", ("pull",)), Scope("repository", "app", ("pull",))]
    assert grant(Permissions.everything(), requested) == [_repo("app", "pull")]


# -- permits and the access claim -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "action", "allowed"),
    [
        ("repository", "app", "pull", True),
        ("repository", "app", "push", True),
        ("repository", "app", "delete", False),
        ("repository", "app2", "pull", False),
        ("repository", "team/x", "pull", False),
        ("registry", "app", "pull", False),
        ("repository", "all", "delete", True),
        ("registry", "catalog", "*", True),
        ("registry", "catalog", "anything", True),
        ("registry", "other", "*", False),
    ],
)
def test_permits(kind: str, name: str, action: str, allowed: bool) -> None:
    access = [
        _repo("app", "pull", "push"),
        _repo("all", "*"),
        Scope("registry", "catalog", ("*",)),
    ]
    assert permits(access, kind, name, action) is allowed


def test_permits_nothing_without_access() -> None:
    assert not permits([], "repository", "app", "pull")


def test_access_claim_round_trip() -> None:
    access = [_repo("app", "pull", "push"), Scope("registry", "catalog", ("*",))]
    assert access_from_claim([s.claim() for s in access]) == access


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        (None, []),
        ("repository:app:pull", []),
        ({"type": "repository", "name": "app", "actions": ["pull"]}, []),
        ([], []),
        (["repository:app:pull", 1, None, ["repository", "app", ["pull"]]], []),
        ([{"type": "repository", "name": "app"}], []),
        ([{"type": "repository", "actions": ["pull"]}], []),
        ([{"name": "app", "actions": ["pull"]}], []),
        ([{"type": 1, "name": "app", "actions": ["pull"]}], []),
        ([{"type": "repository", "name": ["app"], "actions": ["pull"]}], []),
        ([{"type": "repository", "name": "app", "actions": "pull"}], []),
        ([{"type": "repository", "name": "app", "actions": ("pull",)}], []),
        (
            [{"type": "repository", "name": "app", "actions": ["pull", 1, None, "push"]}],
            [_repo("app", "pull", "push")],
        ),
        (
            [
                {"type": "repository", "name": "bad", "actions": "pull"},
                {"type": "repository", "name": "app", "actions": ["pull"], "extra": 1},
            ],
            [_repo("app", "pull")],
        ),
    ],
)
def test_access_from_claim_ignores_malformed_entries(claim: object, expected: list[Scope]) -> None:
    assert access_from_claim(claim) == expected


# -- the property: a grant is within both the request and what is held ----------------------

_NAMES = ["app", "team", "team/x", "team/x/y", "teamx/y", "other", "catalog"]
_PATTERNS = ["*", "app", "team", "team/*", "team/x", "team/x/*", "other/*"]
_REQUEST_ACTIONS = [*EVERY_ACTION, "*", "frobnicate"]

rules = st.builds(Rule, st.sampled_from(_PATTERNS), st.sampled_from(list(Action)))
held = st.builds(Permissions, st.lists(rules, max_size=8).map(tuple), catalog=st.booleans())
requests = st.lists(
    st.builds(
        Scope,
        st.sampled_from(["repository", "registry", "helm"]),
        st.sampled_from(_NAMES),
        st.lists(st.sampled_from(_REQUEST_ACTIONS), min_size=1, max_size=4, unique=True).map(tuple),
    ),
    max_size=6,
)


def _asked(requested: Sequence[Scope], kind: str, name: str) -> set[str]:
    return {a for s in requested if (s.type, s.name) == (kind, name) for a in s.actions}


@PROPERTIES
@given(permissions=held, requested=requests)
def test_every_granted_action_is_requested_and_held(
    permissions: Permissions, requested: list[Scope]
) -> None:
    granted = grant(permissions, requested)
    for scope in granted:
        asked = _asked(requested, scope.type, scope.name)
        assert asked, f"{scope} was not requested"
        assert scope.actions
        if scope.type == "repository":
            for action in scope.actions:
                assert action in asked or "*" in asked
                assert Action(action) in permissions.actions_on(scope.name)
        else:
            assert (scope.type, scope.name, scope.actions) == ("registry", "catalog", ("*",))
            assert permissions.catalog and "*" in asked


@PROPERTIES
@given(permissions=held, requested=requests)
def test_every_requested_action_that_is_held_is_granted(
    permissions: Permissions, requested: list[Scope]
) -> None:
    granted = grant(permissions, requested)
    for scope in requested:
        if scope.type != "repository":
            continue
        wanted = set(EVERY_ACTION) if "*" in scope.actions else set(scope.actions)
        expected = {a.value for a in permissions.actions_on(scope.name)} & wanted
        got = _asked(granted, scope.type, scope.name)
        assert expected <= got


@pytest.mark.parametrize(
    ("requested", "granted", "expected"),
    [
        ("repository:other:pull,push", "", ["repository:other:pull,push"]),
        ("repository:app:pull,push", "repository:app:pull", ["repository:app:push"]),
        ("repository:app:pull,push", "repository:app:pull,push", []),
        ("registry:catalog:*", "", []),  # only repository actions are recorded
        (
            "repository:a:pull repository:b:delete",
            "repository:a:pull",
            ["repository:b:delete"],
        ),
    ],
)
def test_refused_is_what_was_asked_and_not_granted(
    requested: str, granted: str, expected: list[str]
) -> None:
    asked = parse_scopes([requested])
    given = parse_scopes([granted]) if granted else []
    assert [str(s) for s in refused(asked, given)] == expected
