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


def _token(emu: EdfiEmulator, method: str, hdrs: dict[str, str], body: bytes) -> EmulatorResponse:
    ctype = hdrs.get("content-type", "")
    if not ctype:
        return _json(415, problem(415, UNSUPPORTED_MEDIA_TYPE, "The request construction was invalid."))
    fields: dict[str, str] = {}
    try:
        if "json" in ctype:
            fields = {k: str(v) for k, v in (json.loads(body or b"{}") or {}).items()}
        else:
            fields = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
    except (ValueError, UnicodeDecodeError):
        return _json(400, {"error": "invalid_request"})
    key = secret = None
    authz = hdrs.get("authorization")
    if authz:
        scheme, _, value = authz.partition(" ")
        if scheme.lower() != "basic":
            return _json(401, {"error": "invalid_client"})
        try:
            key, _, secret = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return _json(400, {"error": "invalid_request"})
        if "client_id" in fields:
            return _json(400, {"error": "invalid_client"})
    else:
        key, secret = fields.get("client_id"), fields.get("client_secret")
    if fields.get("grant_type") != "client_credentials":
        return _json(400, {"error": "unsupported_grant_type"})
    if not key or not secret:
        return _json(401, {"error": "invalid_request"})
    if emu.clients.get(key) != secret:
        return _json(401, {"error": "invalid_client"})
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
    emu.stats["tokens_issued"] = emu.stats.get("tokens_issued", 0) + 1
    return _json(200, {"access_token": token, "expires_in": int(ttl), "token_type": "bearer"})

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
