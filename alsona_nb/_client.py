"""``AlsonaClient``: create, update and delete each campaign exactly once; read them back.

How a call travels: ``prepare`` / ``prepare_update`` / ``prepare_delete`` validate and build
the request once (``_prepare``: a create carries an id the client chose, so that a retry
repeats the same create); ``attempt`` journals the intent, sends it through the one call path
(``_calls``), settles an unknown outcome by asking the server (``_perform``, ``_settle``),
and journals the outcome.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import requests
from pydantic import SecretStr, ValidationError

from ._answers import read_campaign
from ._attempt import (
    Action,
    Attempt,
    AttemptSink,
    PreparedCreate,
    PreparedDelete,
    PreparedUpdate,
)
from ._calls import Caller, TryObserver
from ._errors import (
    AlsonaError,
    AuthenticationError,
    InputError,
    InvalidDraftError,
    JournalError,
    notify,
)
from ._http import Transport
from ._listing import page_bar, pages
from ._models import Campaign, CampaignDraft
from ._perform import Performer, Result
from ._prepare import build_create, build_delete, build_update, campaigns_url, check_id
from ._retry import RetryPolicy
from ._settings import DEFAULT_BASE_URL, check_account_id, check_base_url, key_problem
from ._version import __version__

if TYPE_CHECKING:
    import pandas as pd

Prepared = PreparedCreate | PreparedUpdate | PreparedDelete


class AlsonaClient:
    """A client for the Alsona campaigns API.

    Arguments default to the environment: ``ALSONA_API_KEY``, ``ALSONA_ACCOUNT_ID`` and
    ``ALSONA_BASE_URL`` (``https://alsona.com``). ``timeout`` is a total deadline for one try,
    from connecting to the last byte. With ``mint_ids`` (the default) every draft without a
    ``campaign_id`` gets one before its first try, so retries cannot create a second campaign;
    ``mint_ids=False`` lets the server choose ids and retries only what cannot duplicate.
    ``mode`` is ``"live"`` or ``"sandbox"`` (set by ``Sandbox.client``). ``session`` is a
    ``requests.Session`` of yours (its auth, cookies, headers and hooks are kept). ``clock``,
    ``sleep`` and ``rng`` are for tests.

    Raises ``AuthenticationError`` (no usable key) and ``InputError`` (a bad account id,
    base URL or proxy; also a ``ValueError``); the key never appears in a message.
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
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
        problem, key = _checked_key(api_key)
        del api_key  # not in this frame's locals for a verbose traceback
        if key is None:
            raise AuthenticationError(problem)
        try:
            self.account_id = check_account_id(
                account_id or os.environ.get("ALSONA_ACCOUNT_ID") or None
            )
        except ValueError as exc:
            raise InputError(str(exc)) from None
        try:
            self.base_url = check_base_url(
                base_url or os.environ.get("ALSONA_BASE_URL") or DEFAULT_BASE_URL
            )
            if mode not in ("live", "sandbox"):
                raise ValueError(f"mode must be 'live' or 'sandbox', not {mode!r}")
            if not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
                raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
            agent = f"alsona-nb/{__version__} python-requests/{requests.__version__}"
            transport = Transport(
                self.base_url, float(timeout), api_key=key, session=session, user_agent=agent
            )
        except ValueError as exc:
            raise InputError(str(exc)) from None
        self.mode = mode
        self.timeout = float(timeout)
        self.mint_ids = mint_ids
        self._ids_ignored = False  # the server answered a create with another id than sent
        self.log = log
        self.retry_policy = RetryPolicy(max_retries=max_retries, max_wait=max_retry_wait)
        self._caller = Caller(transport, self.retry_policy, clock=clock, sleep=sleep, rng=rng)
        self._performer = Performer(self._caller, self._get, sleep)

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
        self._caller.transport.close()

    def __enter__(self) -> AlsonaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_pool_size(self, size: int) -> None:
        """Keep up to ``size`` connections open (for that many concurrent callers)."""
        self._caller.transport.set_pool_size(size)

    # -- preparing ------------------------------------------------------------------------

    def prepare(self, draft: CampaignDraft | Mapping[str, Any] | PreparedCreate) -> PreparedCreate:
        """Validate ``draft`` (a draft, a campaign dict or a ``{"campaign": ...}`` body) and
        build the create request: this client's account, ``created_at``, the zone's offset
        of today when the draft names a zone and no offset, and (with ``mint_ids``) a new
        ``campaign_id`` filled in; the body bytes fixed. Nothing is sent.

        Raises ``InvalidDraftError`` (also a ``ValueError``) naming every problem.
        """
        if isinstance(draft, PreparedCreate):
            return draft
        return build_create(draft, self.base_url, self.account_id, mint_ids=self.mint_ids)

    def prepare_update(
        self, campaign_or_id: Campaign | str, *, account_id: str | None = None, **changes: Any
    ) -> PreparedUpdate:
        """The update (a full replace) that applies ``changes`` (``name``, ``status``,
        ``seats``, ``schedule``, ``timezone``, ``zone``) to the campaign, read first (under
        ``account_id``, the client's by default) when given an id. ``diff`` holds
        ``{field: (before, after)}`` for what changes. Nothing is sent. Raises
        ``InvalidDraftError`` (invalid changes), ``NotFoundError``."""
        base = campaign_or_id
        if not isinstance(base, Campaign):
            base = self.get_campaign(check_id(base), account_id=account_id)
        elif account_id is not None and account_id != base.account_id:
            raise InvalidDraftError(
                f"an update cannot move a campaign to another account ({account_id})",
                problems=[("account_id", "A campaign stays in its account")],
            )
        return build_update(base, changes, self.base_url)

    def prepare_delete(
        self, campaign_or_id: Campaign | str, *, account_id: str | None = None
    ) -> PreparedDelete:
        """The delete of one campaign (read first when given an id, so the journal names
        it). Raises ``NotFoundError`` when it is not there."""
        base = campaign_or_id
        if not isinstance(base, Campaign):
            base = self.get_campaign(check_id(base), account_id=account_id)
        prepared = build_delete(base.campaign_id, base.account_id, self.base_url)
        return PreparedDelete(prepared.url, prepared.campaign_id, prepared.account_id, base)

    # -- calling --------------------------------------------------------------------------

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
        return _raised(self.attempt(draft, log=log))  # type: ignore[return-value]

    def update_campaign(
        self,
        prepared_or_id: PreparedUpdate | Campaign | str,
        *,
        overwrite: bool = False,
        log: AttemptSink | None = None,
        account_id: str | None = None,
        **changes: Any,
    ) -> Campaign:
        """Update one campaign exactly once and return it as the server has it.

        Given an id, the campaign is read under ``account_id`` (the client's by default).
        Just before sending, the campaign is read again: when someone changed it since the
        state the update is based on, ``ConflictError`` names the fields that moved and
        nothing is sent, unless ``overwrite``. Raises ``InvalidDraftError``,
        ``NotFoundError``, ``ConflictError`` or another ``AlsonaError``."""
        prepared = prepared_or_id
        if not isinstance(prepared, PreparedUpdate):
            prepared = self.prepare_update(prepared, account_id=account_id, **changes)
        elif changes:
            prepared = self.prepare_update(prepared.based_on, **{**_changes(prepared), **changes})
        return _raised(self.attempt(prepared, log=log, overwrite=overwrite))  # type: ignore[return-value]

    def delete_campaign(
        self, campaign_or_id: PreparedDelete | Campaign | str, *, log: AttemptSink | None = None
    ) -> None:
        """Delete one campaign exactly once. Raises ``NotFoundError`` when it is not there,
        another ``AlsonaError`` when it could not be deleted."""
        prepared = campaign_or_id
        if not isinstance(prepared, PreparedDelete):
            prepared = self.prepare_delete(prepared)
        _raised(self.attempt(prepared, log=log))

    def attempt(
        self,
        request: Any,
        *,
        log: AttemptSink | None = None,
        may_exist: bool = False,
        on_try: TryObserver | None = None,
        retry_throttled: bool = True,
        overwrite: bool = False,
        attempt_id: str | None = None,
    ) -> Attempt:
        """Like ``create_campaign`` (or, for a ``PreparedUpdate`` / ``PreparedDelete``,
        ``update_campaign`` / ``delete_campaign``) but never raises: the outcome is in the
        returned ``Attempt`` (invalid input included, with nothing sent).

        ``may_exist=True`` says an earlier attempt with this draft's ``campaign_id`` may have
        created it. ``on_try(status, retry_after, seconds)`` is called after every try; with
        ``retry_throttled=False`` a 429 or 503 ends the attempt instead of pausing this
        client (nothing was created: the caller sends it again at its own pace).
        ``attempt_id`` continues a journal row (a queued one, say) instead of starting one.
        """
        sink = log if log is not None else self.log
        action = getattr(request, "action", Action.CREATE)
        attempt = Attempt(datetime.now(timezone.utc), self.mode, self.account_id, action=action)
        if attempt_id is not None:
            attempt.attempt_id = attempt_id
        t0 = time.perf_counter()
        try:
            attempt.prepared = self.prepare(request) if action is Action.CREATE else request
        except InvalidDraftError as exc:
            attempt.input, attempt.error = request, exc
        else:
            attempt.account_id = attempt.prepared.account_id
            result = self._send(attempt, sink, may_exist, on_try, retry_throttled, overwrite)
            _apply(attempt, result)
        attempt.elapsed_ms = (time.perf_counter() - t0) * 1000
        if sink is not None and not isinstance(attempt.error, JournalError):
            try:
                sink.record(attempt)
            except Exception as exc:
                attempt.journal_error = _journal_error(exc)
                notify(f"{attempt.journal_error.message}; the outcome was {attempt.outcome}")
        return attempt

    def _send(self, attempt: Attempt, sink: AttemptSink | None, *options: Any) -> Result:
        may_exist, on_try, retry_throttled, overwrite = options
        try:
            if sink is not None:
                try:
                    sink.intent(attempt)
                except Exception as exc:
                    error = _journal_error(exc)
                    return Result(False, error=JournalError(error.message + "; nothing was sent"))
            prepared = attempt.prepared
            if isinstance(prepared, PreparedUpdate):
                return self._performer.update(prepared, overwrite=overwrite)
            if isinstance(prepared, PreparedDelete):
                return self._performer.delete(prepared)
            assert isinstance(prepared, PreparedCreate)
            result = self._performer.create(
                prepared,
                may_exist=may_exist,
                on_try=on_try,
                retry_throttled=retry_throttled,
                ids_honoured=not self._ids_ignored,
            )
            if result.ids_ignored:
                # no retry of an unknown outcome can be made safe now, even for drafts
                # already prepared with an id
                self.mint_ids, self._ids_ignored = False, True
            return result
        except Exception as exc:  # a last guard: attempt() must never raise
            return Result(
                False,
                error=AlsonaError(
                    f"unexpected failure ({type(exc).__name__}); the campaign may or may not "
                    "have been changed",
                    maybe_created=True,
                ),
                tries=1,
            )

    # -- reading --------------------------------------------------------------------------

    def get_campaign(self, campaign_id: str, *, account_id: str | None = None) -> Campaign:
        """The campaign with this id, as the server has it, read under ``account_id`` (the
        client's account by default): a campaign of another account is not visible there.

        Raises ``NotFoundError`` when it does not exist, another ``AlsonaError`` otherwise.
        """
        return self._get(check_id(campaign_id), account_id)

    def _get(self, campaign_id: str, account_id: str | None) -> Campaign:
        url = campaigns_url(self.base_url, self._account(account_id), campaign_id)
        campaign: Campaign = self._caller.read(url, read_campaign)
        return campaign

    def iter_campaigns(self, *, progress: bool = False) -> Iterator[Campaign]:
        """Every campaign of the account as ``Campaign`` objects, page by page (one that
        cannot be read is skipped). Raises ``AlsonaError`` when a page cannot be read."""
        url = campaigns_url(self.base_url, self._account(None))
        with page_bar(progress, "reading campaigns") as bar:
            for items in pages(self._caller, url, "campaigns"):
                bar.update(1)
                for item in items:
                    try:
                        yield Campaign.model_validate(item)
                    except ValidationError:
                        continue  # one unreadable campaign does not hide the others

    def list_campaigns(self, *, progress: bool = True) -> pd.DataFrame:
        """Every campaign of the account, following the cursor to the last page, as a
        DataFrame: one row per campaign, epoch-ms fields as UTC datetimes.

        Raises ``AlsonaError`` when a page cannot be read.
        """
        from ._frames import campaigns_to_frame

        return campaigns_to_frame(list(self.iter_campaigns(progress=progress)))

    def list_seats(self) -> dict[str, str]:
        """The account's seats as ``{label: seat_id}``: the seat's name when the server
        gives one (with the id added when two share a name), else its id.

        Raises ``AlsonaError`` when the seats cannot be read.
        """
        url = f"{self.base_url}/rest/accounts/{_quoted(self._account(None))}/seats"
        seats: list[tuple[str, str]] = []
        for items in pages(self._caller, url, "seats"):
            for item in items:
                sid = item.get("seat_id") if isinstance(item, dict) else item
                if isinstance(sid, str) and sid.strip():
                    name = item.get("name") if isinstance(item, dict) else None
                    label = name.strip() if isinstance(name, str) and name.strip() else sid
                    seats.append((label, sid))
        names = [label for label, _ in seats]
        return {
            (f"{label} ({sid})" if names.count(label) > 1 and label != sid else label): sid
            for label, sid in seats
        }

    def reconcile(self, results: Any) -> pd.DataFrame:
        """Settle every attempt whose outcome is unknown (or was never recorded) by asking
        the server, and return the results with those rows settled (see
        ``alsona_nb._reconcile.reconcile``). Raises ``JournalError`` when a journal cannot be
        read, ``InputError`` for a frame with repeated index labels."""
        from ._reconcile import reconcile

        return reconcile(results, self._get, self._caller.sleep)

    def _account(self, account_id: str | None) -> str:
        account = account_id or self.account_id
        if account is None:
            raise InputError("no account id: set ALSONA_ACCOUNT_ID or pass account_id=")
        return account


def _checked_key(api_key: str | SecretStr | None) -> tuple[str, SecretStr | None]:
    """The key as a ``SecretStr`` (its repr is ``'**********'``), or why it cannot be used;
    never raises, so no traceback passes through a frame holding the key in clear."""
    if isinstance(api_key, SecretStr):
        api_key = api_key.get_secret_value()
    key = api_key if api_key is not None else os.environ.get("ALSONA_API_KEY")
    problem = key_problem(key)
    if problem is not None or not isinstance(key, str):
        return problem or "no API key", None
    return "", SecretStr(key.strip())


def _raised(attempt: Attempt) -> Campaign | None:
    if attempt.error is not None:
        raise attempt.error
    return attempt.campaign


def _apply(attempt: Attempt, result: Result) -> None:
    attempt.done, attempt.campaign, attempt.error = result.done, result.campaign, result.error
    attempt.tries, attempt.http_status = result.tries, result.http_status
    attempt.settled = result.settled


def _changes(prepared: PreparedUpdate) -> dict[str, Any]:
    return {f: getattr(prepared.draft, f) for f in prepared.diff if f != "account_id"}


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _journal_error(exc: Exception) -> JournalError:
    if isinstance(exc, JournalError):
        return exc
    return JournalError(f"the results log failed ({type(exc).__name__})")
