"""How the CLI proves a role to a worker's web port: the same environment variables the worker reads."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping

from streams.config import WebSettings


def auth_headers(web: WebSettings | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """An ``Authorization`` header from the first credential set in the environment (the viewer's first:
    the least privilege that reads), or no header."""
    web = web or WebSettings()
    env = os.environ if environ is None else environ
    for token_env in (web.viewer_token_env, web.operator_token_env):
        if env.get(token_env):
            return {"Authorization": f"Bearer {env[token_env]}"}
    for user_env, password_env in ((web.viewer_user_env, web.viewer_password_env),
                                   (web.operator_user_env, web.operator_password_env)):
        if env.get(user_env) and env.get(password_env):
            pair = f"{env[user_env]}:{env[password_env]}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return {}
