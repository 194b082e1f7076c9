"""Roles, credentials from the environment, sessions and CSRF tokens, the Host check and the guard."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streams.config import WebSettings, load_settings
from streams.web.auth import Credentials, Principal
from streams.web.client import auth_headers
from streams.web.guard import SESSION_COOKIE, make_guard, require
from streams.web.hosts import host_allowed, host_name, plain_http_to_remote

ENV = {"EDFI_STREAM_WEB_VIEWER_TOKEN": "view-token-123", "EDFI_STREAM_WEB_OPERATOR_TOKEN": "op-token-456",
       "EDFI_STREAM_WEB_OPERATOR_USER": "ops", "EDFI_STREAM_WEB_OPERATOR_PASSWORD": "pa:ss"}


def creds(env: dict[str, str] | None = None) -> Credentials:
    return Credentials.from_settings(WebSettings(), ENV if env is None else env)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_tokens_and_passwords_prove_their_role_only() -> None:
    c = creds()
    assert c.from_header("Bearer view-token-123") == Principal("viewer", "viewer token", "bearer")
    assert c.from_header("bearer op-token-456").role == "operator"  # type: ignore[union-attr]
    assert c.from_header(basic("ops", "pa:ss")).role == "operator"  # type: ignore[union-attr]
    for bad in ("Bearer view-token-12", "Bearer ", "Bearer view-token-1234", basic("ops", "pa"),
                basic("viewer", "pa:ss"), "Basic !!!", "Digest x", "", None,
                "Basic " + base64.b64encode(b"x").decode()):
        assert c.from_header(bad) is None, bad
    assert "view-token" not in repr(c) and "pa:ss" not in repr(c)


def test_nothing_configured_proves_nothing() -> None:
    c = creds({})
    assert not c.configured
    assert c.from_header("Bearer ") is None and c.check_password("", "") is None
    assert c.read_session(c.issue_session(Principal("operator", "x", "session"), 60)) is None


def test_roles_rank() -> None:
    viewer, operator = Principal("viewer", "v", "bearer"), Principal("operator", "o", "bearer")
    assert viewer.may("viewer") and not viewer.may("operator")
    assert operator.may("viewer") and operator.may("operator")


def test_sessions_are_signed_expire_and_end_when_a_credential_rotates() -> None:
    c = creds()
    cookie = c.issue_session(Principal("viewer", "Dana", "session"), 60, now=1000.0)
    seen = c.read_session(cookie, now=1030.0)
    assert seen is not None and seen.role == "viewer" and seen.name == "Dana" and seen.session
    assert c.read_session(cookie, now=1061.0) is None  # expired
    forged = cookie.replace("viewer.", "operator.", 1)
    assert c.read_session(forged, now=1030.0) is None
    rotated = creds({**ENV, "EDFI_STREAM_WEB_VIEWER_TOKEN": "new-token"})
    assert rotated.read_session(cookie, now=1030.0) is None
    assert creds().read_session(cookie, now=1030.0) is not None  # another worker with the same secrets


def test_csrf_tokens_are_bound_to_the_session() -> None:
    c = creds()
    a = c.read_session(c.issue_session(Principal("operator", "o", "session"), 60))
    b = c.read_session(c.issue_session(Principal("operator", "o", "session"), 60))
    assert a is not None and b is not None
    assert c.check_csrf(a, c.csrf_token(a))
    assert not c.check_csrf(a, c.csrf_token(b)) and not c.check_csrf(a, "") and not c.check_csrf(a, None)


@pytest.mark.parametrize(("header", "ok"), [
    ("localhost", True), ("localhost:6066", True), ("LOCALHOST.", True), ("127.0.0.1:6066", True),
    ("[::1]:6066", True), ("10.2.3.4", True), ("worker.edfi.svc", True), ("a.worker.edfi.svc:80", True),
    ("edfi.svc", True), ("attacker.example", False), ("localhost.attacker.example", False),
    ("evilworker.edfi.svc", True), ("xedfi.svc", False), ("", False), (None, False),
])
def test_host_check(header: str | None, ok: bool) -> None:
    assert host_allowed(header, ["localhost", ".edfi.svc"]) is ok


def test_host_name_strips_the_port() -> None:
    assert host_name("Example.org:8080") == "example.org" and host_name("[::1]") == "::1"


@pytest.mark.parametrize(("url", "warn"), [
    ("http://ods.district.example/api", True), ("http://10.0.0.5:8001", True), ("https://ods.example", False),
    ("http://localhost:8001", False), ("http://127.0.0.1:8001", False), ("http://[::1]:8001", False),
])
def test_plain_http_warning(url: str, warn: bool) -> None:
    assert plain_http_to_remote(url) is warn


def test_web_settings_from_file_and_environment(tmp_path: Any) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("web: {allowedHosts: [worker.example], viewerTokenEnv: MY_TOKEN}\n")
    settings = load_settings(path, environ={"EDFI_STREAM_WEB__TIME_ZONE": "America/Denver"})
    assert settings.web.allowed_hosts == ["worker.example"] and settings.web.viewer_token_env == "MY_TOKEN"
    assert settings.web.time_zone == "America/Denver"


def test_cli_headers_prefer_the_viewer() -> None:
    assert auth_headers(environ=ENV) == {"Authorization": "Bearer view-token-123"}
    only_user = {"EDFI_STREAM_WEB_OPERATOR_USER": "ops", "EDFI_STREAM_WEB_OPERATOR_PASSWORD": "pa:ss"}
    assert auth_headers(environ=only_user) == {"Authorization": basic("ops", "pa:ss")}
    assert auth_headers(environ={}) == {}


async def client_for(c: Credentials) -> TestClient:
    async def data(request: web.Request) -> web.Response:
        return web.json_response({"secret": "student row"})

    async def act(request: web.Request) -> web.Response:
        require(request, "operator")
        return web.json_response({"done": True})

    async def probe(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    app = web.Application(middlewares=[make_guard(c, ["localhost", "127.0.0.1"], public_paths={"/console/login"},
                                                  login_path="/console/login")])
    app.router.add_get("/healthz", probe)
    app.router.add_get("/explain", data)
    app.router.add_get("/console/", data)
    app.router.add_get("/console/login", probe)
    app.router.add_post("/act", act)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_guard_denies_by_default_and_checks_roles() -> None:
    client = await client_for(creds())
    try:
        assert (await client.get("/healthz")).status == 200
        response = await client.get("/explain")
        assert response.status == 401 and "Bearer" in response.headers["WWW-Authenticate"]
        ok = await client.get("/explain", headers={"Authorization": "Bearer view-token-123"})
        assert ok.status == 200 and ok.headers["Cache-Control"] == "no-store"
        assert ok.headers["X-Frame-Options"] == "DENY"
        assert (await client.post("/act", headers={"Authorization": "Bearer view-token-123"})).status == 403
        assert (await client.post("/act", headers={"Authorization": "Bearer op-token-456"})).status == 200
        assert (await client.post("/act")).status == 401
        redirected = await client.get("/console/", allow_redirects=False)
        assert redirected.status == 303 and redirected.headers["Location"] == "/console/login"
        assert (await client.get("/console/login")).status == 200
        c = creds()
        cookie = c.issue_session(Principal("viewer", "v", "session"), 60)
        assert (await client.get("/explain", cookies={SESSION_COOKIE: cookie})).status == 200
        assert (await client.get("/healthz", headers={"Host": "attacker.example"})).status == 421
    finally:
        await client.close()


async def test_guard_refuses_everything_when_no_credentials_are_configured() -> None:
    client = await client_for(creds({}))
    try:
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/explain")).status == 403
        assert (await client.get("/explain", headers={"Authorization": "Bearer "})).status == 403
    finally:
        await client.close()
