"""Who may see what on the worker's web port: two roles, credentials only from the environment.

- viewer: reads student data (/explain, the console's pages);
- operator: a viewer that may also change state (retry or archive dead letters, toggle the resource).

A role is proven by a bearer token (``Authorization: Bearer ...``), by a user and password (HTTP Basic, or
the console's login form, which then sets a signed session cookie). Every comparison is constant-time
(:func:`hmac.compare_digest` over SHA-256 digests, so the lengths leak nothing either) and every configured
credential is compared on each attempt, so the time does not say which role a guess came close to.
Sessions and CSRF tokens are signed with a key derived from the credentials themselves: rotating any
credential ends every session, and every worker of a release accepts the same cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from streams.config import WebSettings

Role = Literal["viewer", "operator"]
ROLES: tuple[Role, ...] = ("viewer", "operator")
_RANK = {"viewer": 1, "operator": 2}


@dataclass(frozen=True)
class Principal:
    role: Role
    name: str
    method: Literal["bearer", "basic", "session"]
    session: str = ""  # the session's nonce: what its CSRF token is bound to

    def may(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[role]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(_digest(given), _digest(expected))


class Credentials:
    """The configured credentials of each role (never logged, never shown: ``repr`` says only which)."""

    def __init__(self, tokens: Mapping[Role, str] | None = None,
                 users: Mapping[Role, tuple[str, str]] | None = None) -> None:
        self._tokens = {r: t for r, t in (tokens or {}).items() if t}
        self._users = {r: u for r, u in (users or {}).items() if u[0] and u[1]}
        material = "\0".join(f"{r}\0{t}" for r, t in sorted(self._tokens.items()))
        material += "\0".join(f"{r}\0{u}\0{p}" for r, (u, p) in sorted(self._users.items()))
        self._key = hashlib.sha256(b"edfi-stream session key\0" + material.encode("utf-8", "surrogatepass")).digest()

    @classmethod
    def from_settings(cls, web: WebSettings, environ: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        tokens: dict[Role, str] = {"viewer": env.get(web.viewer_token_env, ""),
                                   "operator": env.get(web.operator_token_env, "")}
        users: dict[Role, tuple[str, str]] = {
            "viewer": (env.get(web.viewer_user_env, ""), env.get(web.viewer_password_env, "")),
            "operator": (env.get(web.operator_user_env, ""), env.get(web.operator_password_env, ""))}
        return cls(tokens, users)

    def __repr__(self) -> str:
        return f"Credentials(tokens={sorted(self._tokens)}, users={sorted(self._users)})"

    @property
    def configured(self) -> bool:
        return bool(self._tokens or self._users)

    def check_token(self, token: str) -> Principal | None:
        found: Principal | None = None
        for role in ROLES:  # every role compared: no early exit
            expected = self._tokens.get(role)
            if expected is not None and _same(token, expected):
                found = Principal(role, f"{role} token", "bearer")
        return found

    def check_password(self, user: str, password: str, method: Literal["basic", "session"] = "basic"
                       ) -> Principal | None:
        found: Principal | None = None
        for role in ROLES:
            expected = self._users.get(role)
            if expected is not None and _same(user, expected[0]) & _same(password, expected[1]):
                found = Principal(role, user, method)
        return found

    def from_header(self, authorization: str | None) -> Principal | None:
        """The principal an ``Authorization`` header proves, or None."""
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if scheme == "bearer" and value:
            return self.check_token(value)
        if scheme == "basic" and value:
            try:
                user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return self.check_password(user, password) if sep else None
        return None

    # -- sessions (the console's login) and CSRF ------------------------------------------------------------
    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def issue_session(self, principal: Principal, lifetime_seconds: int, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + lifetime_seconds)
        nonce = secrets.token_urlsafe(16)
        name = base64.urlsafe_b64encode(principal.name.encode()).decode()
        payload = f"{principal.role}.{name}.{expires}.{nonce}"
        return f"{payload}.{self._sign(payload)}"

    def read_session(self, cookie: str | None, now: float | None = None) -> Principal | None:
        if not cookie or not self.configured:
            return None
        payload, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(self._sign(payload).encode(), signature.encode()):
            return None
        try:
            role, name, expires, nonce = payload.split(".")
            user = base64.urlsafe_b64decode(name.encode()).decode()
            expired = int(expires) < (time.time() if now is None else now)
        except (ValueError, UnicodeDecodeError):
            return None
        if expired or role not in _RANK:
            return None
        return Principal(role, user, "session", nonce)  # type: ignore[arg-type]

    def csrf_token(self, principal: Principal) -> str:
        """A token bound to the session (or to the role and name for header authentication)."""
        return self._sign(f"csrf.{principal.role}.{principal.name}.{principal.session}")[:40]

    def check_csrf(self, principal: Principal, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(principal).encode(), (token or "").encode())
