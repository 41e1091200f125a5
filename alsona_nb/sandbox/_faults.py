"""Scripted misbehaviour: error answers, HTML pages, dropped and cut connections, stalls,
before or after the request was carried out."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ._actions import FaultAction
from ._answer import SANDBOX_HEADERS, Reply

_POST = ("POST",)


def _applied(after_apply: bool | None, after_create: bool | None, default: bool) -> bool:
    """``after_apply``, or its older name ``after_create``, or ``default``."""
    if after_apply is not None:
        return after_apply
    return default if after_create is None else after_create


@dataclass
class Fault:
    """One scripted misbehaviour. Build them with the class methods.

    ``after_apply`` (also spelt ``after_create``) makes the sandbox carry the request out
    first (store the campaign, replace it, delete it) and then misbehave, as a server whose
    answer is lost on the way back. ``methods`` are the HTTP methods the fault waits for
    (POST only unless told otherwise, see ``on``). ``action`` is a ``FaultAction``.
    """

    status: int = 500
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    action: FaultAction = FaultAction.ANSWER
    stall_seconds: float = 0.0
    after_apply: bool = False
    methods: tuple[str, ...] = _POST

    def __post_init__(self) -> None:
        self.action = FaultAction(self.action)
        self.methods = tuple(m.upper() for m in self.methods)

    @property
    def after_create(self) -> bool:
        """The older name of ``after_apply``."""
        return self.after_apply

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        shape: str = "error",
        retry_after: float | str | None = None,
        after_apply: bool | None = None,
        after_create: bool | None = None,
        methods: tuple[str, ...] = _POST,
    ) -> Fault:
        """A JSON error; ``shape`` is ``"error"`` (``{"error", "message"}``) or
        ``"success_false"`` (``{"success": false, "message"}``), the API's two error shapes."""
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
            after_apply=_applied(after_apply, after_create, False),
            methods=methods,
        )

    @classmethod
    def html(
        cls,
        status: int = 502,
        *,
        after_apply: bool | None = None,
        after_create: bool | None = None,
        methods: tuple[str, ...] = _POST,
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
            after_apply=_applied(after_apply, after_create, False),
            methods=methods,
        )

    @classmethod
    def raw(
        cls,
        status: int,
        body: bytes | str,
        content_type: str = "application/json",
        *,
        after_apply: bool | None = None,
        after_create: bool | None = None,
        methods: tuple[str, ...] = _POST,
    ) -> Fault:
        """Any status with any body: malformed JSON, an empty 200, ``success: false``..."""
        data = body.encode() if isinstance(body, str) else body
        return cls(
            status=status,
            body=data,
            content_type=content_type,
            after_apply=_applied(after_apply, after_create, False),
            methods=methods,
        )

    @classmethod
    def drop(
        cls,
        *,
        after_apply: bool | None = None,
        after_create: bool | None = None,
        methods: tuple[str, ...] = _POST,
    ) -> Fault:
        """Close the connection without answering."""
        applied = _applied(after_apply, after_create, False)
        return cls(action=FaultAction.DROP, after_apply=applied, methods=methods)

    @classmethod
    def cut(
        cls,
        *,
        after_apply: bool | None = None,
        after_create: bool | None = None,
        methods: tuple[str, ...] = _POST,
    ) -> Fault:
        """Send the head of a 200 answer and half its body, then close the connection
        (after carrying the request out, unless told otherwise)."""
        applied = _applied(after_apply, after_create, True)
        return cls(action=FaultAction.CUT, after_apply=applied, methods=methods)

    @classmethod
    def stall(
        cls,
        seconds: float,
        *,
        after_apply: bool | None = None,
        after_create: bool | None = None,
        methods: tuple[str, ...] = _POST,
    ) -> Fault:
        """Wait ``seconds`` before answering (past the client's timeout, it sees none).

        Over HTTP a stall before carrying the request out still carries it out once the
        time is up; in process, a client whose timeout is shorter gives up at once.
        """
        return cls(
            action=FaultAction.STALL,
            stall_seconds=seconds,
            after_apply=_applied(after_apply, after_create, False),
            methods=methods,
        )

    def on(self, *methods: str) -> Fault:
        """The same fault, waiting for other HTTP methods: ``Fault.error(500).on("GET")``."""
        return replace(self, methods=tuple(m.upper() for m in methods))

    def answer(self) -> Reply:
        """The answer an ``ANSWER`` fault sends."""
        body = self.body
        if body is None:
            data = {"error": f"http_{self.status}", "message": f"scripted fault {self.status}"}
            body = json.dumps(data).encode()
        headers = {**SANDBOX_HEADERS, "Content-Type": self.content_type, **self.headers}
        return Reply(self.status, headers, body)


class FaultQueue:
    """Queued faults (the first one waiting for the method wins) and optional random ones.
    Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self._random: tuple[float, list[Fault], random.Random] | None = None

    def inject(self, faults: Iterable[Fault], times: int) -> None:
        """Queue each of ``faults`` ``times`` times."""
        with self._lock:
            for fault in faults:
                self._queue.extend([fault] * times)

    def inject_random(self, rate: float, faults: Iterable[Fault], seed: int) -> None:
        """From now on, draw one of ``faults`` with probability ``rate`` (seeded)."""
        with self._lock:
            self._random = (rate, list(faults), random.Random(seed))

    def clear(self) -> None:
        """Drop queued and random faults."""
        with self._lock:
            self._queue.clear()
            self._random = None

    def __len__(self) -> int:
        return len(self._queue)

    def next_for(self, method: str) -> Fault | None:
        """The fault a request of ``method`` meets, if any (taken off the queue)."""
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
