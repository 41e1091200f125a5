"""``AlsonaClient``: create each campaign exactly once, read campaigns and seats back.

How a create travels: ``prepare`` validates the draft and builds the request once (with a
minted ``campaign_id``, NOTES 9); ``attempt`` journals the intent, sends it over ``_http``
as many times as ``RetryPolicy`` allows (every try the same bytes, so a retry repeats the
same create), and when a try's outcome was unknown and the last answer does not settle it,
asks the server (``GET`` by id, NOTES 10) before reporting anything.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pydantic_core
import requests
from pydantic import SecretStr, ValidationError

from ._answers import (
    NOT_REACHED,
    REFUSED,
    UNKNOWN_STATUS,
    error_for,
    judge_create,
    read_campaign,
    retry_after,
    unreadable_success,
)
from ._attempt import Attempt, PreparedCreate
from ._errors import (
    AlsonaError,
    AuthenticationError,
    InvalidDraftError,
    JournalError,
    NotFoundError,
    UnexpectedResponseError,
    notify,
)
from ._http import Answer, NoAnswer, Outcome, Transport
from ._models import Campaign, CampaignDraft, mint_campaign_id, problems
from ._results import AttemptSink, ResultsLog, rows_to_frame
from ._retry import Pause, RetryPolicy
from ._settings import DEFAULT_BASE_URL, check_base_url, key_problem
from ._version import __version__

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger("alsona_nb")

#: ``on_try(status, retry_after, seconds)``: told after every try of a create.
TryObserver = Callable[[int | None, float | None, float], object]


class AlsonaClient:
    """A client for the Alsona campaigns API.

    Arguments default to the environment: ``ALSONA_API_KEY``, ``ALSONA_ACCOUNT_ID`` and
    ``ALSONA_BASE_URL`` (``https://alsona.com``). ``timeout`` is a total deadline for one try,
    from connecting to the last byte. With ``mint_ids`` (the default) every draft without a
    ``campaign_id`` gets one before its first try, so retries cannot create a second campaign
    (NOTES 9); ``mint_ids=False`` lets the server choose ids and retries only what cannot
    duplicate (NOTES 7). ``mode`` is ``"live"`` or ``"sandbox"`` (set by ``Sandbox.client``).
    ``clock``, ``sleep`` and ``rng`` are for tests.

    Raises ``AuthenticationError`` (no usable key) and ``ValueError`` (bad account id or
    base URL); the key never appears in a message.
    """

    def __init__(
        self,
        api_key: str | None = None,
        account_id: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
        *,
        max_retries: int = 3,
        max_retry_wait: float = 60.0,
        mint_ids: bool = True,
        mode: str = "live",
        session: requests.Session | None = None,
        log: AttemptSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("ALSONA_API_KEY")
        problem = key_problem(key)
        if problem is not None:
            del key, api_key  # not in this frame's locals for a verbose traceback
            raise AuthenticationError(problem)
        assert isinstance(key, str)
        self._api_key = SecretStr(key.strip())  # its repr is '**********'
        del key, api_key
        self.account_id = account_id or os.environ.get("ALSONA_ACCOUNT_ID") or None
        if self.account_id is not None and (
            not isinstance(self.account_id, str)
            or not self.account_id.strip()
            or any(c.isspace() for c in self.account_id)
        ):
            raise ValueError(f"account_id must be non-empty without whitespace: {account_id!r}")
        self.base_url = check_base_url(
            base_url or os.environ.get("ALSONA_BASE_URL") or DEFAULT_BASE_URL
        )
        if mode not in ("live", "sandbox"):
            raise ValueError(f"mode must be 'live' or 'sandbox', not {mode!r}")
        if not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.mode = mode
        self.timeout = float(timeout)
        self.mint_ids = mint_ids
        self.log = log
        self.retry_policy = RetryPolicy(max_retries=max_retries, max_wait=max_retry_wait)
        self._pause = Pause(clock, sleep)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._transport = Transport(
            self.base_url,
            self.timeout,
            session=session,
            user_agent=f"alsona-nb/{__version__} python-requests/{requests.__version__}",
        )

    @property
    def is_sandbox(self) -> bool:
        """True when this client talks to the local sandbox, not to Alsona."""
        return self.mode == "sandbox"

    @property
    def max_retries(self) -> int:
        return self.retry_policy.max_retries

    @property
    def max_retry_wait(self) -> float:
        return self.retry_policy.max_wait

    def __repr__(self) -> str:
        # getattr: a verbose traceback from __init__ shows a half-built client too.
        mode = str(getattr(self, "mode", "unready")).upper()
        account, url = getattr(self, "account_id", None), getattr(self, "base_url", None)
        return f"<AlsonaClient {mode} account={account!r} base_url={url!r}>"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> AlsonaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self) -> dict[str, str]:
        """The request headers, the key among them (built per request, kept nowhere)."""
        return {
            "X-API-KEY": self._api_key.get_secret_value(),
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "Content-Type": "application/json",
        }

    def set_pool_size(self, size: int) -> None:
        """Keep up to ``size`` connections open (for that many concurrent callers)."""
        self._transport.set_pool_size(size)

    # -- creating -------------------------------------------------------------------------

    def prepare(self, draft: CampaignDraft | Mapping[str, Any] | PreparedCreate) -> PreparedCreate:
        """Validate ``draft`` (a draft, a campaign dict or a ``{"campaign": ...}`` body) and
        build the request: this client's account, ``created_at`` and (with ``mint_ids``) a
        new ``campaign_id`` filled in, the body bytes fixed. Nothing is sent.

        Raises ``InvalidDraftError`` (also a ``ValueError``) naming every problem.
        """
        if isinstance(draft, PreparedCreate):
            return draft
        if isinstance(draft, CampaignDraft):
            data = dict(draft)  # checked again: model_copy(update=...) skips validation
        elif isinstance(draft, Mapping) and isinstance(draft.get("campaign", draft), Mapping):
            data = dict(draft.get("campaign", draft))
        else:
            raise InvalidDraftError(
                f"give a CampaignDraft or a dict of campaign fields, not {type(draft).__name__}",
                problems=[("", "Give a campaign as a CampaignDraft or a dict of its fields")],
            )
        if data.get("account_id") is None and self.account_id is not None:
            data["account_id"] = self.account_id
        if data.get("created_at") is None:
            data["created_at"] = int(time.time() * 1000)
        if data.get("campaign_id") is None and self.mint_ids:
            data["campaign_id"] = mint_campaign_id()
        try:
            final = CampaignDraft.model_validate(data)
        except ValidationError as exc:
            found = problems(exc)
            raise InvalidDraftError(
                "not a valid campaign, nothing was sent: " + "; ".join(s for _, s in found),
                problems=found,
            ) from None
        if final.account_id is None:
            raise InvalidDraftError(
                "no account id: set ALSONA_ACCOUNT_ID, pass account_id= to the client, or "
                "give the draft an account_id",
                problems=[("account_id", "Give the account to create the campaign in")],
            )
        try:
            body = pydantic_core.to_json(
                {"campaign": final.model_dump(mode="json", exclude_none=True)}
            )
        except (ValueError, pydantic_core.PydanticSerializationError):
            field = next(
                (f for f in ("name", "seats", "campaign_id", "account_id") if _broken(data.get(f))),
                "",
            )
            label = {"name": "The name", "seats": "A seat id"}.get(field, "A campaign field")
            raise InvalidDraftError(
                "the campaign holds text that cannot be sent (a broken Unicode character)",
                problems=[(field, f"{label} holds a broken character; type it again")],
            ) from None
        url = f"{self.base_url}/rest/accounts/{quote(final.account_id, safe='')}/campaigns"
        return PreparedCreate(url=url, draft=final, body=body)

    def create_campaign(
        self,
        draft: CampaignDraft | Mapping[str, Any] | PreparedCreate,
        *,
        log: AttemptSink | None = None,
    ) -> Campaign:
        """Create one campaign (exactly once, whatever the network does) and return the
        server's answer. The attempt goes to ``log`` (or the client's ``log``).

        Raises a subclass of ``AlsonaError`` on every failure (``InvalidDraftError`` before
        anything is sent); ``maybe_created`` is true only when the server could not be asked.
        If the campaign was created but the journal could not be written, the campaign is
        returned and an ``AlsonaWarning`` says so.
        """
        attempt = self.attempt(draft, log=log)
        if attempt.error is not None:
            raise attempt.error
        assert attempt.campaign is not None
        return attempt.campaign

    def attempt(
        self,
        draft: Any,
        *,
        log: AttemptSink | None = None,
        may_exist: bool = False,
        on_try: TryObserver | None = None,
        retry_throttled: bool = True,
    ) -> Attempt:
        """Like ``create_campaign`` but never raises: the outcome is in the returned
        ``Attempt`` (invalid input included, with nothing sent).

        ``may_exist=True`` says an earlier attempt with this draft's ``campaign_id`` may have
        created it: then a refusal is checked by asking the server. ``on_try(status,
        retry_after, seconds)`` is called after every try (``status`` is ``None`` when no
        answer came), so a caller can pace itself from what the server says; with
        ``retry_throttled=False`` a 429 or 503 ends the attempt instead of pausing this client
        (nothing was created: the caller sends it again at its own pace).
        """
        sink = log if log is not None else self.log
        attempt = Attempt(datetime.now(timezone.utc), self.mode, self.account_id)
        t0 = time.perf_counter()
        try:
            self._attempt(attempt, draft, sink, may_exist, (on_try, retry_throttled))
        except Exception as exc:  # a last guard: attempt() must never raise
            attempt.error = AlsonaError(
                f"unexpected failure ({type(exc).__name__}); the campaign may or may not exist",
                maybe_created=attempt.tries > 0,
            )
        attempt.elapsed_ms = (time.perf_counter() - t0) * 1000
        if sink is not None and not isinstance(attempt.error, JournalError):
            try:
                sink.record(attempt)
            except Exception as exc:
                attempt.journal_error = _journal_error(exc)
                notify(
                    f"{attempt.journal_error.message}; the attempt's outcome was "
                    f"{attempt.outcome}"
                    + (f" (campaign {attempt.campaign.campaign_id})" if attempt.campaign else "")
                )
        return attempt

    def _attempt(
        self, attempt: Attempt, draft: Any, sink: Any, may_exist: bool, pacing: Any
    ) -> None:
        try:
            prepared = self.prepare(draft)
        except InvalidDraftError as exc:
            attempt.input, attempt.error = draft, exc
            return
        attempt.prepared, attempt.account_id = prepared, prepared.draft.account_id
        intent = getattr(sink, "intent", None)
        if intent is not None:
            try:
                intent(attempt)
            except Exception as exc:
                error = _journal_error(exc)
                attempt.error = JournalError(error.message + "; nothing was sent")
                return
        self._create(attempt, prepared, may_exist, *pacing)

    def _create(
        self,
        attempt: Attempt,
        prepared: PreparedCreate,
        may_exist: bool,
        on_try: TryObserver | None,
        retry_throttled: bool,
    ) -> None:
        repeatable = prepared.campaign_id is not None
        unknown = may_exist and repeatable
        waited = 0.0
        while True:
            self._pause.wait()
            attempt.tries += 1
            started = time.perf_counter()
            outcome = self._transport.send("POST", prepared.url, self._headers(), prepared.body)
            _log_try("POST", prepared.url, outcome, attempt.tries)
            if on_try is not None:
                status = outcome.status if isinstance(outcome, Answer) else None
                on_try(status, retry_after(outcome), time.perf_counter() - started)
            campaign, verdict = judge_create(outcome)
            if isinstance(outcome, Answer):
                attempt.http_status = outcome.status
            if campaign is not None:
                attempt.campaign = campaign
                if unknown:
                    attempt.settled = "created (the answer of an earlier try was lost)"
                return
            unknown = unknown or verdict == "unknown"
            gave_up = ""
            throttled = isinstance(outcome, Answer) and outcome.status in REFUSED
            if throttled and not retry_throttled:
                verdict = "final"  # the caller paces and sends it again
            if verdict == "refused" or (verdict == "unknown" and repeatable):
                decision = self.retry_policy.decide(
                    attempt.tries, waited, retry_after(outcome), jitter=self._rng.random()
                )
                if not isinstance(decision, str):
                    waited += decision
                    if isinstance(outcome, Answer) and outcome.status in REFUSED:
                        self._pause.hold(decision)  # every thread of this client waits
                    else:
                        self._sleep(decision)
                    continue
                gave_up = decision
            self._finish(attempt, prepared, outcome, unknown, gave_up)
            return

    def _finish(
        self,
        attempt: Attempt,
        prepared: PreparedCreate,
        outcome: Outcome,
        unknown: bool,
        gave_up: str,
    ) -> None:
        """Build the one error for a create that did not plainly succeed, asking the server
        first when the outcome is unknown and the campaign has an id to ask about."""
        note = f" ({gave_up})" if gave_up else ""
        if not unknown:
            attempt.error = self._error(outcome, note, maybe_created=False)
            return
        cid = prepared.campaign_id
        if cid is None:
            attempt.error = self._error(
                outcome,
                note + "; the campaign may or may not have been created (the server chose "
                "its id, so it cannot be asked): check in Alsona before creating it again",
                maybe_created=True,
            )
            return
        try:
            found = self.get_campaign(cid)
        except NotFoundError:
            attempt.settled = "not created (the server has no such campaign)"
            attempt.error = self._error(
                outcome,
                note + f"; nothing was created: asked afterwards, the server has no campaign {cid}",
                maybe_created=False,
            )
            return
        except AlsonaError as exc:
            attempt.error = self._error(
                outcome,
                note + f"; campaign {cid} may or may not have been created, and the server "
                f"could not be asked ({exc.message})",
                maybe_created=True,
            )
            return
        if found.name != prepared.draft.name or found.account_id != prepared.draft.account_id:
            attempt.error = self._error(
                outcome,
                note + f"; the server has a different campaign with the id {cid}",
                maybe_created=False,
            )
            return
        attempt.campaign = found
        attempt.settled = "created (confirmed by asking the server after a lost answer)"

    def _error(self, outcome: Outcome, note: str, *, maybe_created: bool) -> AlsonaError:
        return error_for(outcome, self.base_url, self.timeout, note, maybe_created=maybe_created)

    # -- reading --------------------------------------------------------------------------

    def get_campaign(self, campaign_id: str) -> Campaign:
        """The campaign with this id, as the server has it (NOTES 10).

        Raises ``NotFoundError`` when it does not exist, another ``AlsonaError`` otherwise.
        """
        if (
            not isinstance(campaign_id, str)
            or not campaign_id
            or campaign_id != campaign_id.strip()
        ):
            raise InvalidDraftError(f"not a campaign id: {campaign_id!r}")
        answer = self._get(f"/campaigns/{quote(campaign_id, safe='')}")
        campaign = read_campaign(answer.body)
        if campaign is None:
            raise unreadable_success(answer, "", False)
        return campaign

    def list_campaigns(self, *, progress: bool = True) -> pd.DataFrame:
        """Every campaign of the account, following ``last_key`` to the last page (NOTES 11),
        as a DataFrame: one row per campaign, epoch-ms fields as UTC datetimes.

        Raises ``AlsonaError`` when a page cannot be read.
        """
        import pandas as pd

        from ._results import ms_datetimes

        rows = [
            {
                "campaign_id": c.campaign_id,
                "name": c.name,
                "status": c.status,
                "seats": list(c.seats),
                "timezone": c.timezone,
                "created_at": c.created_at,
                "priority": c.priority,
                "wait_until": c.wait_until,
                "schedule": c.schedule,
            }
            for c in self._campaign_pages(progress)
        ]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=_CAMPAIGN_COLUMNS)
        for col in ("created_at", "priority", "wait_until"):
            frame[col] = ms_datetimes(frame[col])
        frame["timezone"] = pd.to_numeric(frame["timezone"], errors="coerce").astype("Int64")
        for col in ("campaign_id", "name", "status"):
            frame[col] = frame[col].astype("string")
        return frame

    def _campaign_pages(self, progress: bool) -> Iterator[Campaign]:
        bar: Any = None
        try:
            for number, items in enumerate(self._pages("/campaigns", "campaigns"), 1):
                if number == 2 and progress:
                    from tqdm.auto import tqdm

                    bar = tqdm(desc="reading campaigns", unit="page", initial=1)
                if bar is not None and number > 1:
                    bar.update(1)
                for item in items:
                    try:
                        yield Campaign.model_validate(item)
                    except ValidationError:
                        logger.debug("skipped an unreadable campaign in a list page")
        finally:
            if bar is not None:
                bar.close()

    def list_seats(self) -> dict[str, str]:
        """The account's seats as ``{label: seat_id}`` (NOTES 12): the seat's name when the
        server gives one (with the id added when two share a name), else its id.

        Raises ``AlsonaError`` when the seats cannot be read.
        """
        seats: list[tuple[str, str]] = []
        for items in self._pages("/seats", "seats"):
            for item in items:
                sid = item.get("seat_id") if isinstance(item, dict) else item
                if isinstance(sid, str) and sid.strip():
                    name = item.get("name") if isinstance(item, dict) else None
                    seats.append(
                        (name.strip() if isinstance(name, str) and name.strip() else sid, sid)
                    )
        names = [label for label, _ in seats]
        return {
            (f"{label} ({sid})" if names.count(label) > 1 and label != sid else label): sid
            for label, sid in seats
        }

    def _pages(self, path: str, key: str) -> Iterator[list[Any]]:
        last_key: Any = None
        seen: set[str] = set()
        while True:
            suffix = ""
            if last_key is not None:
                token = last_key if isinstance(last_key, str) else json.dumps(last_key)
                if token in seen:
                    raise UnexpectedResponseError(f"the server repeated a page of {key}")
                seen.add(token)
                suffix = "?last_key=" + quote(token, safe="")
            answer = self._get(path + suffix)
            try:
                data = json.loads(answer.body)
            except ValueError:
                data = None
            items = None
            if isinstance(data, dict):
                items = next(
                    (data[k] for k in (key, "items", "data") if isinstance(data.get(k), list)),
                    None,
                )
            if items is None:
                raise unreadable_success(answer, f" (no list of {key} in the answer)", False)
            yield items
            last_key = data.get("last_key") if isinstance(data, dict) else None
            if last_key is None:
                return

    def _get(self, path: str) -> Answer:
        """GET on the account's path, retried (it is safe to repeat); a 2xx answer or an
        ``AlsonaError``."""
        if self.account_id is None:
            raise InvalidDraftError("no account id: set ALSONA_ACCOUNT_ID or pass account_id=")
        url = f"{self.base_url}/rest/accounts/{quote(self.account_id, safe='')}{path}"
        waited = 0.0
        tries = 0
        while True:
            self._pause.wait()
            tries += 1
            outcome = self._transport.send("GET", url, self._headers())
            _log_try("GET", url, outcome, tries)
            if isinstance(outcome, Answer) and 200 <= outcome.status < 300:
                return outcome
            if isinstance(outcome, NoAnswer):
                retry = outcome.reached_server or outcome.kind in NOT_REACHED
            else:
                retry = outcome.status in REFUSED + UNKNOWN_STATUS
            note = ""
            if retry:
                decision = self.retry_policy.decide(
                    tries, waited, retry_after(outcome), jitter=self._rng.random()
                )
                if not isinstance(decision, str):
                    waited += decision
                    self._sleep(decision)
                    continue
                note = f" ({decision})"
            raise self._error(outcome, note, maybe_created=False)

    # -- settling unknown outcomes --------------------------------------------------------

    def reconcile(self, results: Any) -> pd.DataFrame:
        """Settle every attempt whose outcome is unknown (or was never recorded) by asking
        the server, and return the results with those rows settled.

        ``results`` is a ``ResultsLog``, the path of a journal, or a results DataFrame (from
        bulk or ``to_frame()``). The ``settled`` column says how each row was settled; a row
        whose id the server chose (``mint_ids=False``) is reported as not checkable, never
        guessed. A journal (or a log with one) gets the settled rows appended.

        Raises ``JournalError`` when a journal cannot be read.
        """
        import pandas as pd

        log: ResultsLog | None = None
        if isinstance(results, ResultsLog):
            log = results
        elif isinstance(results, (str, os.PathLike)):
            try:
                log = ResultsLog(results)
            except JournalError:
                log = ResultsLog.read(results)  # settle in memory only
        if log is not None:
            rows = log.rows
            for row in rows:
                if self._settle(row) and not log.read_only:
                    log.settle(row)
            settled: pd.DataFrame = rows_to_frame(rows)
            return settled
        if not isinstance(results, pd.DataFrame):
            raise TypeError("give a ResultsLog, the path of a journal, or a results DataFrame")
        frame: pd.DataFrame = results.copy()
        if "settled" not in frame.columns:
            frame["settled"] = pd.Series([None] * len(frame), index=frame.index, dtype="string")
        for index, record in zip(frame.index, frame.to_dict("records"), strict=True):
            row = {str(k): (None if _is_missing(v) else v) for k, v in record.items()}
            if self._settle(row):
                for col in ("ok", "maybe_created", "outcome", "settled", "error_message"):
                    if col in frame.columns:
                        frame.at[index, col] = row[col]
        return frame

    def _settle(self, row: dict[str, Any]) -> bool:
        """Settle one row in place; true when it changed."""
        outcome = row.get("outcome")
        unknown = outcome == "unknown" or (
            outcome is None and bool(row.get("maybe_created")) and not row.get("ok")
        )
        if not unknown:
            return False
        cid = row.get("campaign_id")
        if not isinstance(cid, str) or not cid:
            row["settled"] = "not checkable: the server chose the id; check in Alsona"
            return True
        try:
            campaign = self.get_campaign(cid)
        except NotFoundError:
            row.update(
                outcome="failed",
                ok=False,
                maybe_created=False,
                settled="not created (the server has no such campaign)",
            )
            return True
        except AlsonaError as exc:
            row["settled"] = f"still unknown: the server could not be asked ({exc.message})"
            return True
        row.update(
            outcome="created",
            ok=True,
            maybe_created=False,
            error_message=None,
            settled="created (confirmed by the server)",
        )
        if "priority" in row and "wait_until" in row:
            row.update(priority=campaign.priority, wait_until=campaign.wait_until)
        return True


_CAMPAIGN_COLUMNS = [
    "campaign_id",
    "name",
    "status",
    "seats",
    "timezone",
    "created_at",
    "priority",
    "wait_until",
    "schedule",
]


def _broken(value: Any) -> bool:
    """True when text (or a list of it) cannot be encoded as UTF-8 (a lone surrogate)."""
    texts = value if isinstance(value, list) else [value]
    for text in texts:
        try:
            if isinstance(text, str):
                text.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False


def _is_missing(value: Any) -> bool:
    if isinstance(value, (list, dict)):
        return False
    try:
        return value is None or bool(value != value)
    except (TypeError, ValueError):
        return False


def _journal_error(exc: Exception) -> JournalError:
    if isinstance(exc, JournalError):
        return exc
    return JournalError(f"the results log failed ({type(exc).__name__})")


def _log_try(method: str, url: str, outcome: Outcome, tries: int) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    if isinstance(outcome, Answer):
        logger.debug(
            "%s %s -> %d in %.0f ms (try %d)",
            method,
            url,
            outcome.status,
            outcome.elapsed_ms,
            tries,
        )
    else:
        logger.debug("%s %s -> no answer: %s (try %d)", method, url, outcome.kind, tries)
