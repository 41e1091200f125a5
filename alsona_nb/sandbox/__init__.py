"""A local sandbox of the Alsona create-campaign API: a real HTTP server on loopback.

It answers as the contract says (``spec/NOTES.md``), validates with the same models as the
client, and can be told to be slow or to fail in scripted ways, for tests, benchmarks and
demos. Nothing it receives leaves this machine.

    with Sandbox() as sb:
        client = sb.client()
        client.create_campaign(draft)

Or from a shell: ``python -m alsona_nb.sandbox --port 8765`` (see ``__main__.py``).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import secrets
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import ValidationError

from .._client import AlsonaClient
from .._models import CampaignDraft, describe_errors

__all__ = ["DEFAULT_ACCOUNT_ID", "Fault", "ReceivedRequest", "Sandbox"]

DEFAULT_ACCOUNT_ID = "account_cd855c2bb1cc72097238"
_PATH = re.compile(r"^/rest/accounts/([^/]+)/campaigns/?$")


@dataclass
class Fault:
    """One scripted misbehaviour. Build them with the class methods.

    ``after_create`` makes the sandbox store the campaign first and then misbehave, as a
    server whose answer is lost on the way back.
    """

    status: int = 500
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "answer"  # "answer", "drop", "cut" (half an answer) or "stall"
    stall_seconds: float = 0.0
    after_create: bool = False

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        shape: str = "error",
        retry_after: float | str | None = None,
    ) -> Fault:
        """A JSON error; ``shape`` is ``"error"`` (``{"error", "message"}``) or
        ``"success_false"`` (``{"success": false, "message"}``), the two shapes of NOTES 2."""
        text = message or f"scripted fault {status}"
        data: dict[str, Any] = (
            {"success": False, "message": text}
            if shape == "success_false"
            else {"error": f"http_{status}", "message": text}
        )
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return cls(status=status, body=json.dumps(data).encode(), headers=headers)

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        """An HTML error page, as a gateway in front of the API would send."""
        page = (
            f"<html><head><title>{status} Bad Gateway</title></head><body>"
            f"<center><h1>{status} Bad Gateway</h1></center><hr><center>nginx</center>"
            "</body></html>"
        )
        return cls(status=status, body=page.encode(), content_type="text/html")

    @classmethod
    def raw(cls, status: int, body: bytes | str, content_type: str = "application/json") -> Fault:
        """Any status with any body: malformed JSON, an empty 200, ``success: false``..."""
        data = body.encode() if isinstance(body, str) else body
        return cls(status=status, body=data, content_type=content_type)

    @classmethod
    def drop(cls, *, after_create: bool = False) -> Fault:
        """Close the connection without answering."""
        return cls(action="drop", after_create=after_create)

    @classmethod
    def cut(cls, *, after_create: bool = True) -> Fault:
        """Send the start of a 200 answer, then close the connection mid-body."""
        return cls(action="cut", after_create=after_create)

    @classmethod
    def stall(cls, seconds: float, *, after_create: bool = False) -> Fault:
        """Wait ``seconds`` before answering normally (past the client's timeout)."""
        return cls(action="stall", stall_seconds=seconds, after_create=after_create)


@dataclass
class ReceivedRequest:
    """What the sandbox saw of one request (the API key itself is not kept)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    key_ok: bool
    status: int | None = None


class Sandbox:
    """An in-process HTTP server on loopback that plays the Alsona create-campaign API.

    ``url``, ``api_key`` and ``account_id`` are what a client needs; ``campaigns`` holds
    what was created, by id; ``requests`` every request received. ``latency`` (seconds) is
    added to every answer; ``inject`` queues faults.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        latency: float = 0.0,
        keep_requests: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key or "sandbox_" + secrets.token_hex(12)
        self.account_id = account_id
        self.latency = latency
        self.keep_requests = keep_requests
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.requests: list[ReceivedRequest] = []
        self._faults: deque[Fault] = deque()
        self._random_faults: tuple[float, list[Fault], random.Random] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() or use `with`")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.sandbox = self
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="alsona-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"<Sandbox {where} account={self.account_id!r} campaigns={len(self.campaigns)}>"

    def client(self, **kwargs: Any) -> AlsonaClient:
        """A client bound to this sandbox (``is_sandbox`` is true)."""
        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("account_id", self.account_id)
        kwargs.setdefault("base_url", self.url)
        return AlsonaClient(sandbox=self, **kwargs)

    # -- faults -----------------------------------------------------------------------

    def inject(self, *faults: Fault, times: int = 1) -> None:
        """Queue faults: the next requests get them in order, each ``times`` times."""
        with self._lock:
            for fault in faults:
                self._faults.extend([fault] * times)

    def inject_random(self, rate: float, faults: Iterable[Fault], seed: int = 0) -> None:
        """From now on, each request meets one of ``faults`` with probability ``rate``."""
        with self._lock:
            self._random_faults = (rate, list(faults), random.Random(seed))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._random_faults = None

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            if self._random_faults is not None:
                rate, faults, rng = self._random_faults
                if rng.random() < rate:
                    return rng.choice(faults)
        return None

    # -- the API ----------------------------------------------------------------------

    def handle(self, account_id: str, key_ok: bool, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one create call: ``(status, JSON body)``, as the contract says."""
        if not key_ok:
            return 401, {"error": "unauthorized", "message": "Invalid or missing API key"}
        if account_id != self.account_id:
            return 404, {"success": False, "message": f"account {account_id!r} not found"}
        try:
            data = json.loads(raw)
        except ValueError:
            return 400, {"error": "invalid_json", "message": "the body is not valid JSON"}
        campaign = data.get("campaign") if isinstance(data, dict) else None
        if not isinstance(campaign, dict):
            return 400, {"error": "invalid_request", "message": "the body needs a campaign object"}
        try:
            draft = CampaignDraft.model_validate(campaign)
        except ValidationError as exc:
            return 400, {"error": "invalid_campaign", "message": "; ".join(describe_errors(exc))}
        missing = [f for f in ("account_id", "created_at") if f not in campaign]
        if missing:
            return 400, {"error": "invalid_campaign", "message": f"missing {', '.join(missing)}"}
        if draft.account_id != account_id:
            return 400, {
                "error": "invalid_campaign",
                "message": f"account_id {draft.account_id!r} does not match the path",
            }
        now_ms = int(time.time() * 1000)
        answer = draft.model_dump(mode="json", exclude_none=True)
        answer.setdefault("timezone", 0)
        answer["priority"] = now_ms
        answer["wait_until"] = now_ms
        with self._lock:
            campaign_id = draft.campaign_id or "campaign_" + secrets.token_hex(10)
            if campaign_id in self.campaigns:
                return 400, {
                    "error": "campaign_exists",
                    "message": f"a campaign with id {campaign_id!r} already exists",
                }
            answer["campaign_id"] = campaign_id
            self.campaigns[campaign_id] = answer
        return 200, {"success": True, "campaign": answer}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    sandbox: Sandbox

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.open_connections: set[socket.socket] = set()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        self.open_connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.open_connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or hung up is part of the game here, not a server error.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End kept-alive connections too, so a stopped sandbox answers nothing more."""
        for conn in list(self.open_connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API would offer
    server: _Server
    server_version = "AlsonaSandbox"
    timeout = 60  # idle keep-alive connections close after a minute
    # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms to each.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the sandbox runs inside notebooks and tests

    def do_POST(self) -> None:
        sandbox = self.server.sandbox
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key_ok = secrets.compare_digest(
            self.headers.get("X-API-KEY", "").encode(), sandbox.api_key.encode()
        )
        record = ReceivedRequest(
            method="POST",
            path=self.path,
            headers={k: v for k, v in self.headers.items() if k.lower() != "x-api-key"},
            body=_json_or_none(raw),
            key_ok=key_ok,
        )
        if sandbox.keep_requests:
            with sandbox._lock:
                sandbox.requests.append(record)
        if sandbox.latency:
            sandbox._stopping.wait(sandbox.latency)
        match = _PATH.match(self.path.split("?", 1)[0])
        if match is None:
            record.status = 404
            self._send(404, {"success": False, "message": f"no route for POST {self.path}"})
            return
        fault = sandbox._next_fault()
        if fault is not None and fault.action == "stall" and not fault.after_create:
            if sandbox._stopping.wait(fault.stall_seconds):
                self._hang_up()
                return
            fault = None  # stalled before doing anything, then answers as usual
        if fault is not None and not fault.after_create:
            record.status = self._misbehave(fault, None)
            return
        status, answer = sandbox.handle(match.group(1), key_ok, raw)
        if fault is not None:
            record.status = self._misbehave(fault, (status, answer))
            return
        record.status = status
        self._send(status, answer)

    def do_GET(self) -> None:
        self._send(405, {"success": False, "message": "only POST is served here"})

    def _send(
        self,
        status: int,
        answer: dict[str, Any] | None = None,
        *,
        body: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body if body is not None else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Alsona-Sandbox", "true")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _misbehave(self, fault: Fault, normal: tuple[int, dict[str, Any]] | None) -> int | None:
        if fault.action == "drop":
            self._hang_up()
            return None
        if fault.action == "cut":
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b'Content-Length: 4096\r\n\r\n{"success": true, "camp'
            )
            self.wfile.flush()
            self._hang_up()
            return None
        if fault.action == "stall" and normal is not None:
            if self.server.sandbox._stopping.wait(fault.stall_seconds):
                self._hang_up()
                return None
            self._send(*normal)
            return normal[0]
        body = (
            fault.body
            if fault.body is not None
            else json.dumps(
                {"error": f"http_{fault.status}", "message": f"scripted fault {fault.status}"}
            ).encode()
        )
        self._send(fault.status, body=body, content_type=fault.content_type, headers=fault.headers)
        return fault.status

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
