"""OAuth2 client credentials of the emulated ODS (API-BEHAVIOUR.md 4, 2.7.4): issuing and checking tokens."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.parse
from typing import TYPE_CHECKING

from streams.emulator.problems import UNSUPPORTED_MEDIA_TYPE, problem
from streams.emulator.responses import EmulatorResponse, _json

if TYPE_CHECKING:
    from streams.emulator.core import EdfiEmulator

TOKEN_CAP = 15


def _fields(ctype: str, body: bytes) -> dict[str, str] | None:
    """The form or JSON fields of a token request, or None when the body cannot be read."""
    try:
        if "json" in ctype:
            data = json.loads(body or b"{}") or {}
            return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else None
        return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
    except (ValueError, UnicodeDecodeError):
        return None


def _basic_credentials(authz: str) -> tuple[str, str] | EmulatorResponse:
    """The client id and secret of a ``Basic`` header, checked in TokenController's order: not two
    space-separated parts 400 invalid_request; another scheme 401 invalid_client; no value 400
    invalid_request; not base64 400 invalid_request; decoded without exactly one colon 400 invalid_client."""
    parts = authz.split(" ")
    if len(parts) != 2:
        return _json(400, {"error": "invalid_request"})
    if parts[0].lower() != "basic":
        return _json(401, {"error": "invalid_client"})
    if not parts[1].strip():
        return _json(400, {"error": "invalid_request"})
    try:
        decoded = base64.b64decode(parts[1], validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return _json(400, {"error": "invalid_request"})
    pair = decoded.split(":")
    if len(pair) != 2:
        return _json(400, {"error": "invalid_client"})
    return pair[0], pair[1]


def _token(emu: EdfiEmulator, method: str, hdrs: dict[str, str], body: bytes) -> EmulatorResponse:
    """``POST /oauth/token`` as ODS ``TokenController.PostFromJsonAsync`` and
    ``ClientCredentialsTokenRequestProvider.HandleAsync`` answer it (API-BEHAVIOUR.md 4)."""
    ctype = hdrs.get("content-type", "")
    if not ctype:
        return _json(415, problem(415, UNSUPPORTED_MEDIA_TYPE, "The request construction was invalid."))
    fields = _fields(ctype, body)
    if fields is None:
        return _json(400, {"error": "invalid_request"})
    key, secret = fields.get("client_id", ""), fields.get("client_secret", "")
    authz = hdrs.get("authorization")
    if authz is not None:
        basic = _basic_credentials(authz)
        if isinstance(basic, EmulatorResponse):
            return basic
        if key.strip() or secret.strip():     # credentials in the header and in the body
            return _json(400, {"error": "invalid_client"})
        key, secret = basic
    if not key.strip() or not secret.strip():
        return _json(401, {"error": "invalid_request"})
    if fields.get("grant_type", "").lower() != "client_credentials":
        return _json(400, {"error": "unsupported_grant_type"})
    if emu.clients.get(key) != secret:
        return _json(401, {"error": "invalid_client"})
    scope = fields.get("scope", "").strip() or None
    if scope is not None:
        refused = _scope_error(emu, key, scope)
        if refused is not None:
            return refused
    now = time.monotonic()
    emu.tokens = {t: (c, exp) for t, (c, exp) in emu.tokens.items() if exp > now}
    if emu.token_cap and sum(1 for c, _ in emu.tokens.values() if c == key) >= TOKEN_CAP:
        return _json(429, problem(429, "urn:ed-fi:api:security:authentication:too-many-tokens",
                                  "The caller has authenticated too many times in too short of a time period.",
                                  errors=[f"Too many access tokens have been requested (limit is {TOKEN_CAP}). "
                                          "Access tokens should be reused until they expire."]))
    token = secrets.token_hex(16)
    ttl = emu.faults.settings.token_ttl_seconds or emu.token_ttl_seconds
    emu.tokens[token] = (key, now + ttl)
    if scope is not None:
        emu.token_scopes[token] = int(scope)
    emu.stats["tokens_issued"] = emu.stats.get("tokens_issued", 0) + 1
    answer: dict[str, object] = {"access_token": token, "expires_in": int(ttl), "token_type": "bearer"}
    if scope is not None:
        answer["scope"] = scope
    return _json(200, answer)


def _scope_error(emu: EdfiEmulator, key: str, scope: str) -> EmulatorResponse | None:
    """A ``scope`` must be an EducationOrganizationId the client is associated with (400 invalid_scope)."""
    if not scope.lstrip("-").isdigit():
        return _json(400, {"error": "invalid_scope", "error_description": (
            "The supplied 'scope' was not a number (it should be an EducationOrganizationId that is explicitly "
            "associated with the client).")})
    allowed = emu.client_education_organizations.get(key)
    if allowed is not None and int(scope) not in allowed:
        return _json(400, {"error": "invalid_scope", "error_description": (
            "The client is not explicitly associated with the EducationOrganizationId specified in the "
            "requested 'scope'.")})
    return None


def education_organizations(emu: EdfiEmulator, hdrs: dict[str, str]) -> frozenset[int] | None:
    """The education organizations the caller's (authenticated) token covers; None: every one."""
    token = hdrs.get("authorization", "").partition(" ")[2].strip()
    entry = emu.tokens.get(token)
    if entry is None:
        return None
    scope = emu.token_scopes.get(token)
    allowed = emu.client_education_organizations.get(entry[0])
    if scope is not None:
        return frozenset({scope})
    return allowed


def _authenticate(emu: EdfiEmulator, hdrs: dict[str, str]) -> EmulatorResponse | None:
    authz = hdrs.get("authorization")
    reason = None
    if not authz:
        reason = "Authorization header is missing."
    else:
        scheme, _, value = authz.partition(" ")
        if scheme.lower() != "bearer":
            reason = "Unknown Authorization header scheme."
        elif not value.strip():
            reason = "Missing Authorization header bearer token value."
        else:
            entry = emu.tokens.get(value.strip())
            if entry is None or entry[1] <= time.monotonic():
                reason = "Invalid token"
    if reason is None:
        return None
    return _json(401, problem(401, "urn:ed-fi:api:security:authentication",
                              "The caller could not be authenticated.",
                              errors=[reason], legacy=emu.legacy_errors),
                 {"WWW-Authenticate": 'Bearer error="invalid_token"'})
