"""The one send-with-retries loop every call goes through: POST, GET, PUT and DELETE.

A try's verdict (``_answers.judge``) alone decides what happens next: a refusal (429, 503)
or a request that never reached the server is sent again after the policy's wait (a refusal
holds every thread of the client); a try whose outcome is unknown is sent again only when the
request repeats safely (the same bytes give the same result: a GET, a PUT, a DELETE, a create
with the client's own id). What the tries came to is returned as data (``Sent``); asking the
server about an unknown outcome is the caller's next step (``_settle``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._answers import Judgement, Reader, Verdict, error_for, judge, retry_after
from ._errors import APIError
from ._http import Answer, Outcome, Transport
from ._retry import Pause, RetryPolicy

logger = logging.getLogger("alsona_nb")

#: ``on_try(status, retry_after, seconds)``: told after every try (``status`` is ``None``
#: when no answer came), so a caller can pace itself from what the server says.
TryObserver = Callable[[int | None, float | None, float], object]

_HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
    "Content-Type": "application/json",
}


@dataclass(frozen=True)
class Request:
    """One request to send, perhaps more than once. ``repeatable``: a try whose outcome is
    unknown may be sent again (the same bytes give the same result)."""

    method: str
    url: str
    body: bytes | None = None
    repeatable: bool = True


@dataclass(frozen=True)
class Sent:
    """What the tries of one request came to: the last try's outcome and verdict, how many
    tries, whether any may have been applied without an answer saying so (``unknown``), and
    why retrying stopped (``gave_up``, empty when it did not)."""

    outcome: Outcome
    judgement: Judgement
    tries: int
    unknown: bool
    gave_up: str = ""

    @property
    def done(self) -> bool:
        return self.judgement.verdict is Verdict.DONE

    @property
    def value(self) -> Any:
        return self.judgement.value

    @property
    def status(self) -> int | None:
        return self.outcome.status if isinstance(self.outcome, Answer) else None


class Caller:
    """Sends ``Request``s through one transport under one retry policy and one pause."""

    def __init__(
        self,
        transport: Transport,
        policy: RetryPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.transport = transport
        self.policy = policy
        self.pause = Pause(clock, sleep)
        self.sleep = sleep
        self._rng = rng or random.Random()

    def send(
        self,
        request: Request,
        read: Reader,
        *,
        on_try: TryObserver | None = None,
        retry_throttled: bool = True,
        unknown: bool = False,
    ) -> Sent:
        """Send ``request`` until a try is done or the policy says stop.

        With ``retry_throttled=False`` a 429 or 503 ends the call at once (the caller paces
        and sends it again); ``unknown=True`` says an earlier call may already have applied
        it."""
        tries, waited = 0, 0.0
        while True:
            self.pause.wait()
            tries += 1
            started = time.perf_counter()
            outcome = self.transport.send(request.method, request.url, _HEADERS, request.body)
            _log_try(request, outcome, tries)
            asked = retry_after(outcome)
            if on_try is not None:
                status = outcome.status if isinstance(outcome, Answer) else None
                on_try(status, asked, time.perf_counter() - started)
            judgement = judge(outcome, read)
            verdict = judgement.verdict
            unknown = unknown or verdict is Verdict.UNKNOWN
            if verdict is Verdict.DONE or (verdict is Verdict.REFUSED and not retry_throttled):
                return Sent(outcome, judgement, tries, unknown)
            again = verdict in (Verdict.REFUSED, Verdict.NOT_REACHED) or (
                verdict is Verdict.UNKNOWN and request.repeatable
            )
            if not again:
                return Sent(outcome, judgement, tries, unknown)
            decision = self.policy.decide(tries, waited, asked, jitter=self._rng.random())
            if decision.wait is None:
                return Sent(outcome, judgement, tries, unknown, decision.reason)
            waited += decision.wait
            if verdict is Verdict.REFUSED:
                self.pause.hold(decision.wait)  # every thread of this client waits
            else:
                self.sleep(decision.wait)

    def error(self, sent: Sent, note: str = "", *, maybe_created: bool = False) -> APIError:
        """The one error for a call whose tries came to ``sent``; ``note`` says what was
        done about it."""
        gave_up = f" ({sent.gave_up})" if sent.gave_up else ""
        return error_for(
            sent.outcome,
            self.transport.base_url,
            self.transport.timeout,
            gave_up + note,
            maybe_created=maybe_created,
        )

    def read(self, url: str, read: Reader, *, note: str = "") -> Any:
        """GET ``url`` (retried: it repeats safely) and what ``read`` makes of the answer.

        Raises the call's ``APIError`` when no readable success came."""
        sent = self.send(Request("GET", url), read)
        if not sent.done:
            raise self.error(sent, note)
        return sent.value


def _log_try(request: Request, outcome: Outcome, tries: int) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    if isinstance(outcome, Answer):
        logger.debug(
            "%s %s -> %d in %.0f ms (try %d)",
            request.method,
            request.url,
            outcome.status,
            outcome.elapsed_ms,
            tries,
        )
    else:
        logger.debug(
            "%s %s -> no answer: %s (try %d)", request.method, request.url, outcome.kind, tries
        )
