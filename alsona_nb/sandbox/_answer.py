"""What the sandbox answers: a status, headers and body bytes, plus the record it belongs to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ReceivedRequest:
    """What the sandbox saw of one request (the API key itself is not kept).

    ``status`` is what the client was sent (``None`` when it got no full answer).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    key_ok: bool
    status: int | None = None


@dataclass
class Answer:
    """One answer. It unpacks as ``status, headers, body = answer``."""

    status: int
    headers: dict[str, str]
    body: bytes
    record: ReceivedRequest | None = field(default=None, repr=False, compare=False)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.headers, self.body))

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body)


def json_answer(status: int, data: Any, headers: dict[str, str] | None = None) -> Answer:
    """A JSON answer with the sandbox's usual headers."""
    return Answer(
        status,
        {"Content-Type": "application/json", "X-Alsona-Sandbox": "true", **(headers or {})},
        json.dumps(data).encode(),
    )


def parse_json(raw: bytes) -> Any:
    """``json.loads`` that raises only ``ValueError`` (also for absurdly deep nesting)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None


def json_or_none(raw: bytes) -> Any:
    """The body parsed, or ``None`` when it is not JSON."""
    try:
        return parse_json(raw)
    except ValueError:
        return None
