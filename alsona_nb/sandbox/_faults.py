"""Scripted misbehaviour: error answers, HTML pages, dropped and cut connections, stalls."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ._answer import Answer


@dataclass
class Fault:
    """One scripted misbehaviour. Build them with the class methods.

    ``after_create`` makes the sandbox handle the request first (store the campaign) and then
    misbehave, as a server whose answer is lost on the way back. ``methods`` are the HTTP
    methods the fault waits for (POST only unless told otherwise).
    """

    status: int = 500
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "answer"  # "answer", "drop", "cut" (half an answer) or "stall"
    stall_seconds: float = 0.0
    after_create: bool = False
    methods: tuple[str, ...] = ("POST",)

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        shape: str = "error",
        retry_after: float | str | None = None,
        after_create: bool = False,
        methods: tuple[str, ...] = ("POST",),
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
        return cls(
            status=status,
            body=json.dumps(data).encode(),
            headers=headers,
            after_create=after_create,
            methods=methods,
        )

    @classmethod
    def html(
        cls, status: int = 502, *, after_create: bool = False, methods: tuple[str, ...] = ("POST",)
    ) -> Fault:
        """An HTML error page, as a gateway in front of the API would send."""
        page = (
            f"<html><head><title>{status} Bad Gateway</title></head><body>"
            f"<center><h1>{status} Bad Gateway</h1></center><hr><center>nginx</center>"
            "</body></html>"
        )
        return cls(
            status=status,
            body=page.encode(),
            content_type="text/html",
            after_create=after_create,
            methods=methods,
        )

    @classmethod
    def raw(
        cls,
        status: int,
        body: bytes | str,
        content_type: str = "application/json",
        *,
        after_create: bool = False,
        methods: tuple[str, ...] = ("POST",),
    ) -> Fault:
        """Any status with any body: malformed JSON, an empty 200, ``success: false``..."""
        data = body.encode() if isinstance(body, str) else body
        return cls(
            status=status,
            body=data,
            content_type=content_type,
            after_create=after_create,
            methods=methods,
        )

    @classmethod
    def drop(cls, *, after_create: bool = False, methods: tuple[str, ...] = ("POST",)) -> Fault:
        """Close the connection without answering."""
        return cls(action="drop", after_create=after_create, methods=methods)

    @classmethod
    def cut(cls, *, after_create: bool = True, methods: tuple[str, ...] = ("POST",)) -> Fault:
        """Send the head of a 200 answer and half its body, then close the connection."""
        return cls(action="cut", after_create=after_create, methods=methods)

    @classmethod
    def stall(
        cls, seconds: float, *, after_create: bool = False, methods: tuple[str, ...] = ("POST",)
    ) -> Fault:
        """Wait ``seconds`` before answering (past the client's timeout, it sees none).

        Over HTTP a stall before the create still handles the request once the time is up.
        """
        return cls(
            action="stall", stall_seconds=seconds, after_create=after_create, methods=methods
        )

    def on(self, *methods: str) -> Fault:
        """The same fault, waiting for other HTTP methods: ``Fault.error(500).on("GET")``."""
        return replace(self, methods=tuple(m.upper() for m in methods))

    def answer(self) -> Answer:
        """The answer an ``"answer"`` fault sends."""
        body = self.body
        if body is None:
            data = {"error": f"http_{self.status}", "message": f"scripted fault {self.status}"}
            body = json.dumps(data).encode()
        headers = {"Content-Type": self.content_type, "X-Alsona-Sandbox": "true", **self.headers}
        return Answer(self.status, headers, body)


class FaultQueue:
    """Queued faults (first one waiting for the method wins) and optional random ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self._random: tuple[float, list[Fault], random.Random] | None = None

    def inject(self, faults: Iterable[Fault], times: int) -> None:
        with self._lock:
            for fault in faults:
                self._queue.extend([fault] * times)

    def inject_random(self, rate: float, faults: Iterable[Fault], seed: int) -> None:
        with self._lock:
            self._random = (rate, list(faults), random.Random(seed))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._random = None

    def __len__(self) -> int:
        return len(self._queue)

    def next_for(self, method: str) -> Fault | None:
        """The fault this request meets, if any (taken off the queue)."""
        with self._lock:
            for i, fault in enumerate(self._queue):
                if method in fault.methods:
                    return self._queue.pop(i)
            if self._random is not None:
                rate, faults, rng = self._random
                fitting = [f for f in faults if method in f.methods]
                if fitting and rng.random() < rate:
                    return rng.choice(fitting)
        return None
