"""A test double of an OpenAI-compatible chat-completions server, on 127.0.0.1.

It replays a script of answers in order, one per request, and keeps every request body so tests
can assert what the client sent (a re-ask message, a schema). A script entry is a dict:

- ``{"json": {...}}``: a well-formed answer; sent as a tool call when the request offers tools,
  otherwise as the message content.
- ``{"text": "..."}``: raw message content (broken JSON, prose, a fenced block).
- ``{"status": 429, "headers": {"Retry-After": "1"}}``: an HTTP error.
- ``{"body": b"..."}``: raw bytes as a 200 answer (invalid UTF-8, JSON nested 100,000 deep).
- ``{"delay": 2.0, ...}``: wait before answering (a hang, when longer than the client timeout).
- a callable taking the request body and returning one of the above.

A ``json`` answer is written with the template's row keys ({"new_received": [...], ...}); when
the request's schema asks for the "rows" shape (prompt v2: ``{"rows": [[...]]}`` or
``{"cells": [...]}``, template order), the double sends the same values in that shape, so one
script serves both shapes; a report call (prompt v3, a field per section numeral 二 三 四) is
scripted per section, ``{"applications": {keyed rows}, ...}``. The pre-batch mode check
(`endpoint.MODE_CHECK`) is answered by the double itself, as any server would, outside the
script and `requests` (kept in `checks`); with `rejects_tools` it answers 400 to any request
offering tools, as servers without tool calling do; with `stalls` every completion request
waits that long first (a server that never answers). Usage numbers are fixed per answer so
token accounting is checkable. Not a model: it only replays what the test scripted.
``GET /v1/models`` lists `models`; with `api_key` set, a request carrying another key gets
401, as a hosted API answers. `gold_double.GoldServer` builds on it to answer like a model
that reads the report it was sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from extraction import template
from extraction.model.endpoint import MODE_CHECK

Entry = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]
PROMPT_TOKENS = 100
COMPLETION_TOKENS = 20


class ScriptedServer:
    def __init__(
        self,
        script: list[Entry] | None = None,
        models: tuple[str, ...] = ("double",),
        api_key: str | None = None,
        rejects_tools: bool = False,
        stalls: float = 0.0,
    ) -> None:
        self.rejects_tools = rejects_tools
        self.stalls = stalls  # seconds every completion request waits, the mode check included
        self.checks: list[dict[str, Any]] = []
        self.script: list[Entry] = list(script or [])
        self.models = models
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, *entries: Entry) -> None:
        with self.lock:
            self.script.extend(entries)

    def user_messages(self, index: int) -> list[str]:
        return [m["content"] for m in self.requests[index]["messages"] if m["role"] in ("user", "tool")]

    def _next(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.requests.append(body)
            entry = self.script.pop(0) if self.script else {"status": 500, "error": "test double: script exhausted"}
        return entry(body) if callable(entry) else entry

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _refused(self) -> bool:
                if double.api_key is None or self.headers.get("Authorization") == f"Bearer {double.api_key}":
                    return False
                refusal = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
                self._send(401, {"error": refusal}, {})
                return True

            def do_GET(self) -> None:
                if self._refused():
                    return
                if not self.path.rstrip("/").endswith("/models"):
                    self._send(404, {"error": {"message": "not found", "type": "test_double"}}, {})
                    return
                data = [{"id": m, "object": "model", "owned_by": "double"} for m in double.models]
                self._send(200, {"object": "list", "data": data}, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self._refused():
                    return
                if body.get("model") not in double.models:
                    message = f"The model `{body.get('model')}` does not exist"
                    self._send(404, {"error": {"message": message, "type": "invalid_request_error"}}, {})
                    return
                if double.stalls:
                    time.sleep(double.stalls)
                if double.rejects_tools and body.get("tools"):
                    refusal = {"message": "this model does not support tools", "type": "invalid_request_error"}
                    self._send(400, {"error": refusal}, {})
                    return
                if any(m.get("content") == MODE_CHECK for m in body.get("messages", [])):
                    with double.lock:
                        double.checks.append(body)
                    self._send(200, _completion(body, {"json": {"token": "ok"}}), {})
                    return
                entry = double._next(body)
                if entry.get("trickle"):  # bytes one at a time: alive under any per-read timeout
                    self._trickle(entry["trickle"])
                    return
                if entry.get("delay"):
                    time.sleep(entry["delay"])
                if "body" in entry:  # raw bytes as the 200 answer: invalid UTF-8, JSON nested too deep
                    self._raw(entry["body"])
                    return
                status = entry.get("status", 200)
                if status != 200:
                    payload = {"error": {"message": entry.get("error", f"status {status}"), "type": "test_double"}}
                    self._send(status, payload, entry.get("headers", {}))
                    return
                self._send(200, _completion(body, entry), {})

            def _raw(self, data: bytes) -> None:
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _trickle(self, seconds: float) -> None:
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    deadline = time.monotonic() + seconds
                    while time.monotonic() < deadline:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        return Handler


def request_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The response schema a request carries: in `tools`, in `response_format`, or (MD_JSON)
    written into its messages."""
    if body.get("tools"):
        return body["tools"][0]["function"]["parameters"]
    response_format = body.get("response_format") or {}
    if "json_schema" in response_format:
        return response_format["json_schema"].get("schema")
    decoder = json.JSONDecoder()
    for message in body.get("messages", []):
        text = message.get("content")
        if not isinstance(text, str):
            continue
        for at in (m.start() for m in re.finditer(r"\{", text)):
            try:
                value, _ = decoder.raw_decode(text, at)
            except ValueError:
                continue
            if isinstance(value, dict) and "properties" in value:
                return value
    return None


def keyed_section(keys: set[str]) -> tuple[str, str] | None:
    """The template section and version whose row keys are exactly `keys`."""
    for section in template.SECTIONS:
        for version in ("2019", "2021"):
            if {r.key for r in template.spec(section, version).rows} == keys:  # type: ignore[arg-type]
                return section, version
    return None


_NUMERALS = {"proactive": "二", "applications": "三", "review_litigation": "四"}


def shaped(answer: Any, body: dict[str, Any]) -> Any:
    """A keyed answer in the shape the request's schema asks for (unchanged when keyed).

    For a report call (prompt shape "report": a field per section numeral, 二 三 四) the answer
    is given per section, ``{"applications": {keyed rows}, ...}``, and each part is shaped alike.
    """
    schema = request_schema(body) or {}
    wanted = set(schema.get("properties", {}))
    if wanted and wanted <= set(_NUMERALS.values()) and isinstance(answer, dict) and set(answer) <= set(_NUMERALS):
        return {_NUMERALS[s]: _rows_shape(s, part) for s, part in answer.items()}
    found = keyed_section(set(answer)) if isinstance(answer, dict) else None
    if found is None or not wanted & {"rows", "cells"}:
        return answer
    rows = [answer[r.key] for r in template.spec(*found).rows]  # type: ignore[arg-type]
    return {"rows": rows} if "rows" in wanted else {"cells": [v for cells in rows for v in cells]}


def _rows_shape(section: str, keyed: dict[str, list[Any]]) -> list[Any]:
    """One section's keyed rows as its part of a report answer: 三 as rows, 二 and 四 flat."""
    rows = [keyed[r.key] for r in template.spec(section, _version(section, keyed)).rows]  # type: ignore[arg-type]
    return rows if section == "applications" else [v for cells in rows for v in cells]


def _version(section: str, keyed: dict[str, list[Any]]) -> str:
    found = keyed_section(set(keyed))
    return found[1] if found else "2021"


def _completion(request: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if "json" in entry:
        entry = {**entry, "json": shaped(entry["json"], request)}
    if "json" in entry and request.get("tools"):
        name = request["tools"][0]["function"]["name"]
        arguments = json.dumps(entry["json"], ensure_ascii=False)
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}
        ]
        finish = "tool_calls"
    else:
        message["content"] = json.dumps(entry["json"], ensure_ascii=False) if "json" in entry else entry.get("text", "")
        finish = "stop"
    usage = entry.get("usage", {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS})
    return {
        "id": "chatcmpl-double",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "double"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
    }
