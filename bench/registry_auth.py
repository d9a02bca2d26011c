"""How the benches sign in to a registry: the way a registry client does, for bench/ only.

`GET /v2/` answers 401 with `WWW-Authenticate: Bearer realm=...,service=...`; the client asks
the realm for a token with Basic credentials (`GET <realm>?service=<service>&scope=<scope>`) and
sends `Authorization: Bearer <token>` on every request, fetching a new token before the one it
holds expires (moorage's live 300 s). A server that answers `GET /v2/` with 200 (CNCF
Distribution without auth, moorage before data-plane authentication) gets no Authorization.

The credential is the server's owner: `<data dir>/owner-credential.json`, a service principal
that may do everything, with `appId` as the user name and `password`.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

OWNER_FILE = "owner-credential.json"
REFRESH_MARGIN = 30.0  # seconds: a token with less left than this (plus the run) is replaced


@dataclass(frozen=True)
class Basic:
    username: str
    password: str

    @property
    def header(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


def owner(data_dir: Path) -> Basic:
    """The owner credential a moorage server wrote into its data directory on first start."""
    data = json.loads((data_dir / OWNER_FILE).read_text())
    return Basic(data["appId"], data["password"])


@dataclass(frozen=True)
class Challenge:
    realm: str
    service: str


def parse_challenge(header: str) -> Challenge:
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "bearer":
        raise ValueError(f"not a Bearer challenge: {header!r}")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return Challenge(params["realm"], params["service"])


def _get(
    url: str, headers: dict[str, str], timeout: float = 30.0
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def challenge(base_url: str, host: str | None = None) -> Challenge | None:
    """What `GET /v2/` asks for; None when it answers 200 without credentials.

    `host`: the Host header (a registry's login server, `<name>.localhost:<port>`); the request
    still goes to `base_url`, so names under .localhost need not resolve here."""
    status, headers, body = _get(f"{base_url}/v2/", {"Host": host} if host else {})
    if status == 200:
        return None
    if status != 401 or "WWW-Authenticate" not in headers:
        raise RuntimeError(f"GET {base_url}/v2/: {status} {body[:300]!r}")
    return parse_challenge(headers["WWW-Authenticate"])


class TokenSource:
    """Bearer tokens for one registry and scope, fetched again before they expire."""

    def __init__(
        self,
        base_url: str,
        credential: Basic,
        found: Challenge,
        scope: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        realm = urllib.parse.urlsplit(found.realm)
        self.url = f"{base_url}{realm.path}?" + urllib.parse.urlencode(
            {"service": found.service, "scope": scope}
        )
        self.host = realm.netloc  # sent as Host: the realm's server, reached at base_url
        self.credential = credential
        self.clock = clock
        self.fetched = 0
        self._token = ""
        self._expires = 0.0
        self.lifetime = 0.0  # expires_in of the last token

    def _fetch(self) -> None:
        started = self.clock()
        status, _, body = _get(
            self.url, {"Host": self.host, "Authorization": self.credential.header}
        )
        if status != 200:
            raise RuntimeError(f"token service: {status} {body[:300]!r}")
        answer = json.loads(body)
        self._token = answer.get("access_token") or answer["token"]
        self.lifetime = float(answer.get("expires_in", 60))
        self._expires = started + self.lifetime
        self.fetched += 1

    def token(self, valid_for: float = 0.0) -> str:
        """A token with at least `valid_for` seconds (plus a margin) left."""
        if self._expires - self.clock() < valid_for + REFRESH_MARGIN:
            self._fetch()
        return self._token

    def headers(self, valid_for: float = 0.0) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(valid_for)}"}

    def longest_run(self) -> float:
        """The longest run one token covers (a longer one is cut into pieces)."""
        if not self.lifetime:
            self._fetch()
        return max(self.lifetime - 2 * REFRESH_MARGIN, 1.0)


class Auth:
    """What a bench adds to its requests for one registry: a Bearer token, or nothing."""

    def __init__(self, source: TokenSource | None) -> None:
        self.source = source

    @classmethod
    def sign_in(
        cls, base_url: str, data_dir: Path | None, scope: str, host: str | None = None
    ) -> Auth:
        """Ask `GET /v2/` what it wants; when it challenges, get tokens with the owner
        credential from `data_dir`."""
        found = challenge(base_url, host)
        if found is None:
            return cls(None)
        if data_dir is None:
            raise RuntimeError(f"{base_url} asks for a Bearer token, and no credential is known")
        return cls(TokenSource(base_url, owner(data_dir), found, scope))

    def headers(self, valid_for: float = 0.0) -> dict[str, str]:
        return self.source.headers(valid_for) if self.source else {}

    def longest_run(self) -> float:
        return self.source.longest_run() if self.source else float("inf")

    @property
    def label(self) -> str:
        return "Bearer" if self.source else "no auth"
