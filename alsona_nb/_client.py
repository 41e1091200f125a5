"""The create-campaign client: transport, error mapping and the retry rules of NOTES 7."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

import pydantic_core
import requests
from pydantic import BaseModel, SecretStr, ValidationError

from ._errors import (
    AlsonaError,
    AuthenticationError,
    RateLimitError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    error_from_response,
)
from ._models import Campaign, CampaignDraft
from ._version import __version__

if TYPE_CHECKING:
    from .sandbox import Sandbox

logger = logging.getLogger("alsona_nb")

DEFAULT_BASE_URL = "https://alsona.com"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class AttemptSink(Protocol):
    """Anything that keeps attempts, such as a ``ResultsLog``."""

    def record(self, attempt: Attempt) -> object: ...


@dataclass
class Attempt:
    """One create call as it happened: what was asked, what came back, how long it took.

    It never holds the API key.
    """

    started_at: datetime
    mode: str
    account_id: str | None
    draft: CampaignDraft | None
    campaign: Campaign | None = None
    error: BaseException | None = None
    http_status: int | None = None
    elapsed_ms: float = 0.0
    tries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.campaign is not None and self.error is None


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must look like https://host, got {base_url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(
            f"refusing plain http:// to {parts.hostname}: the API key would cross the network "
            "unencrypted. Use https://, or http:// only to a loopback address (127.0.0.1)."
        )
    return base_url.rstrip("/")


def _retry_after_seconds(value: str | None) -> float | None:
    """Read a ``Retry-After`` header: delta seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _says_already_exists(error: AlsonaError) -> bool:
    return error.status_code in (400, 409) and (
        error.error == "campaign_exists" or "already exists" in error.message.lower()
    )


def _is_connect_failure(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server (safe to send again)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the cause
        name = type(reason).__name__
        return name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError")
    return False


class _SuccessAnswer(BaseModel):
    success: bool | None = None
    campaign: Campaign


class AlsonaClient:
    """A client for ``POST /rest/accounts/{account_id}/campaigns``.

    Arguments default to the environment: ``ALSONA_API_KEY``, ``ALSONA_ACCOUNT_ID`` and
    ``ALSONA_BASE_URL`` (``https://alsona.com``). One HTTP session is kept (keep-alive) and
    every request has a timeout. Retries follow NOTES 7: a retry happens only where it cannot
    create a duplicate (connect failures, 429 and 503 with ``Retry-After``), or where the
    draft carries its own ``campaign_id``.
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
        session: requests.Session | None = None,
        log: AttemptSink | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("ALSONA_API_KEY")
        if not key or not key.strip():
            raise AuthenticationError(
                "no API key: set ALSONA_API_KEY, pass api_key=, or use alsona_nb.connect() "
                "for the local sandbox"
            )
        self._api_key = SecretStr(key.strip())
        self.account_id = account_id or os.environ.get("ALSONA_ACCOUNT_ID") or None
        if self.account_id is not None and (
            not self.account_id.strip() or any(c.isspace() for c in self.account_id)
        ):
            raise ValueError(
                f"account_id must be non-empty without whitespace: {self.account_id!r}"
            )
        self.base_url = _check_base_url(
            base_url or os.environ.get("ALSONA_BASE_URL") or DEFAULT_BASE_URL
        )
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.log = log
        self.sandbox = sandbox
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = (
            f"alsona-nb/{__version__} python-requests/{requests.__version__}"
        )
        # Shared by every thread: a 429/503 pauses the whole client, not just one worker.
        self._gate = threading.Lock()
        self._not_before = 0.0

    @property
    def is_sandbox(self) -> bool:
        """True when this client talks to the local sandbox, not to Alsona."""
        return self.sandbox is not None

    @property
    def mode(self) -> str:
        return "sandbox" if self.is_sandbox else "live"

    def __repr__(self) -> str:
        return (
            f"<AlsonaClient {self.mode.upper()} account={self.account_id!r} "
            f"base_url={self.base_url!r}>"
        )

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> AlsonaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the call -------------------------------------------------------------------------

    def prepare(self, draft: CampaignDraft | Mapping[str, Any]) -> CampaignDraft:
        """Validate ``draft`` (a draft, a campaign dict or a ``{"campaign": ...}`` body) and
        fill in this client's account. Raises ``pydantic.ValidationError`` or ``ValueError``;
        nothing is sent."""
        if isinstance(draft, CampaignDraft):
            # Checked again, with the account in one step: model_copy(update=...) can build a
            # draft that skipped validation.
            data = dict(draft)
        else:
            inner = draft.get("campaign", draft)
            data = dict(inner) if isinstance(inner, Mapping) else {"campaign": inner}
        if data.get("account_id") is None:
            if self.account_id is None:
                CampaignDraft.model_validate(data)  # report what else is wrong first
                raise ValueError(
                    "no account id: set ALSONA_ACCOUNT_ID, pass account_id= to the client, "
                    "or give the draft an account_id"
                )
            data["account_id"] = self.account_id
        return CampaignDraft.model_validate(data)

    def create_campaign(
        self, draft: CampaignDraft | Mapping[str, Any], *, log: AttemptSink | None = None
    ) -> Campaign:
        """Create one campaign and return the server's answer.

        The draft is validated before anything is sent. Every API failure raises a subclass
        of ``AlsonaError``. The attempt goes to ``log`` (or the client's ``log``) either way.
        """
        attempt = self.attempt(draft, log=log)
        if attempt.error is not None:
            raise attempt.error
        assert attempt.campaign is not None
        return attempt.campaign

    def attempt(
        self,
        draft: CampaignDraft | Mapping[str, Any],
        *,
        log: AttemptSink | None = None,
        may_exist: bool = False,
    ) -> Attempt:
        """Like ``create_campaign`` but never raises: the outcome is in the returned
        ``Attempt`` (invalid drafts included, with nothing sent).

        ``may_exist=True`` says an earlier attempt with this draft's own ``campaign_id`` may
        have created it (its answer was lost): then "that id already exists" counts as done.
        """
        sink = log if log is not None else self.log
        started = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        try:
            prepared = self.prepare(draft)
        except (ValidationError, ValueError) as exc:
            attempt = Attempt(started, self.mode, self.account_id, None, error=exc)
            attempt.extra["input"] = draft
        else:
            attempt = Attempt(started, self.mode, prepared.account_id, prepared)
            try:
                attempt.campaign = self._send(prepared, attempt, may_exist)
            except AlsonaError as exc:
                attempt.error = exc
                attempt.http_status = exc.status_code
        attempt.elapsed_ms = (time.perf_counter() - t0) * 1000
        if sink is not None:
            sink.record(attempt)
        return attempt

    def _send(self, draft: CampaignDraft, attempt: Attempt, may_exist: bool) -> Campaign:
        assert draft.account_id is not None
        url = f"{self.base_url}/rest/accounts/{quote(draft.account_id, safe='')}/campaigns"
        payload = draft.to_payload()
        body = pydantic_core.to_json(payload)
        idempotent = draft.campaign_id is not None
        waited = 0.0
        unknown_outcome = may_exist and idempotent  # an earlier try may have reached the server
        while True:
            attempt.tries += 1
            self._wait_for_gate()
            try:
                response = self._session.post(
                    url,
                    data=body,
                    headers={
                        "X-API-KEY": self._api_key.get_secret_value(),
                        "Content-Type": "application/json",
                        "Accept": "application/json",
                    },
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                lost = self._transport_error(exc)
                safe = _is_connect_failure(exc)
                logger.debug("POST %s -> %s (try %d)", url, lost.message, attempt.tries)
                if attempt.tries <= self.max_retries and (safe or idempotent):
                    unknown_outcome = unknown_outcome or not safe
                    wait = self._retry_wait(attempt.tries, None)
                    waited += wait
                    time.sleep(wait)
                    continue
                raise lost from None
            status = response.status_code
            attempt.http_status = status
            logger.debug(
                "POST %s -> %d in %.0f ms (try %d)",
                url,
                status,
                response.elapsed.total_seconds() * 1000,
                attempt.tries,
            )
            if 200 <= status < 300:
                return self._read_success(response)
            error: AlsonaError = error_from_response(
                status, response.content, response.headers.get("Content-Type", "")
            )
            if status in (301, 302, 303, 307, 308):
                error = UnexpectedResponseError(
                    f"the server redirected to {response.headers.get('Location')!r}; "
                    "check base_url (nothing was created)",
                    status_code=status,
                )
            if isinstance(error, ServerError) and status != 503:
                # It failed somewhere, perhaps after creating; a 503 refuses up front.
                error.maybe_created = True
                error.message += " (the campaign may or may not have been created)"
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            if isinstance(error, RateLimitError):
                error.retry_after = retry_after
            safe = status in (429, 503)
            retryable = safe or (idempotent and isinstance(error, ServerError))
            if retryable and attempt.tries <= self.max_retries:
                wait = self._retry_wait(attempt.tries, retry_after)
                if waited + wait <= self.max_retry_wait:
                    unknown_outcome = unknown_outcome or not safe
                    waited += wait
                    self._pause(wait)
                    continue
                error.message += (
                    f" (gave up after {attempt.tries} tries: waiting {wait:.0f} s more would "
                    f"pass max_retry_wait={self.max_retry_wait:.0f} s)"
                )
            elif retryable:
                error.message += f" (still failing after {attempt.tries} tries)"
            if unknown_outcome and _says_already_exists(error):
                # Our own id, sent by a try whose answer was lost: the campaign is ours.
                logger.warning(
                    "campaign %r already existed after a lost answer: counted as created",
                    draft.campaign_id,
                )
                attempt.extra["answer_lost"] = True
                return Campaign.model_validate(payload["campaign"])
            if unknown_outcome and status in (400, 409, 422):
                error.maybe_created = True
                error.message += (
                    f" - an earlier try whose answer was lost may already have created "
                    f"campaign {draft.campaign_id!r}; check before creating it again"
                )
            raise error

    def create_campaigns(self, drafts: Any, **options: Any) -> Any:
        """Create many campaigns concurrently; one result row per input (see
        ``alsona_nb._bulk.create_campaigns`` for the options). Returns a DataFrame."""
        from ._bulk import create_campaigns

        return create_campaigns(self, drafts, **options)

    def _read_success(self, response: requests.Response) -> Campaign:
        try:  # the usual answer, parsed in one step
            answer = _SuccessAnswer.model_validate_json(response.content)
            if answer.success is not False:
                return answer.campaign
        except ValidationError:
            pass  # below, the same answer is taken apart to say what is wrong with it
        status = response.status_code
        text = response.content.decode("utf-8", errors="replace")  # JSON is UTF-8
        if not text.strip():
            raise UnexpectedResponseError(
                "the server answered success with an empty body; the campaign may or may not "
                "exist, check before creating it again",
                status_code=status,
                maybe_created=True,
            )
        try:
            data = json.loads(text)
        except ValueError:
            raise UnexpectedResponseError(
                "the server answered success but the body is not JSON; the campaign may or "
                "may not exist, check before creating it again",
                status_code=status,
                maybe_created=True,
                body_excerpt=text[:300],
            ) from None
        if not isinstance(data, dict) or data.get("success") is False:
            message = data.get("message") if isinstance(data, dict) else None
            raise UnexpectedResponseError(
                f"the server answered success: false ({message or 'no message'})",
                status_code=status,
                error=data.get("error") if isinstance(data, dict) else None,
                body_excerpt=text[:300],
            )
        raw = data.get("campaign")
        if not isinstance(raw, dict):
            raise UnexpectedResponseError(
                "the server's answer has no campaign in it; the campaign may or may not exist, "
                "check before creating it again",
                status_code=status,
                maybe_created=True,
                body_excerpt=text[:300],
            )
        try:
            return Campaign.model_validate(raw)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            cid = raw.get("campaign_id")
            where = f" (id {cid!r})" if isinstance(cid, str) and cid else ""
            raise UnexpectedResponseError(
                f"the server's campaign is missing or has invalid fields ({fields}); it was "
                f"probably created{where}; check before creating it again",
                status_code=status,
                maybe_created=True,
                body_excerpt=text[:300],
            ) from None

    def _transport_error(self, exc: requests.RequestException) -> TransportError:
        maybe_created = False
        if isinstance(exc, requests.ConnectTimeout):
            what = f"could not connect to {self.base_url} within {self.timeout:g} s"
        elif isinstance(exc, requests.Timeout):
            maybe_created = True
            what = (
                f"no answer from {self.base_url} within {self.timeout:g} s; the campaign may "
                "or may not have been created"
            )
        elif _is_connect_failure(exc):
            reason = exc.args[0] if exc.args else exc
            reason = getattr(reason, "reason", reason)
            if type(reason).__name__ == "NameResolutionError":
                what = f"could not resolve the host of {self.base_url}"
            else:
                what = f"could not connect to {self.base_url} (connection refused)"
        else:
            maybe_created = True
            what = (
                f"the connection to {self.base_url} was dropped before a full answer; the "
                "campaign may or may not have been created"
            )
        return TransportError(what, maybe_created=maybe_created)

    # -- pacing ---------------------------------------------------------------------------

    def _retry_wait(self, tries: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after + random.uniform(0, 0.1 * retry_after + 0.05)
        return random.uniform(0.5, 1.0) * min(8.0, 0.25 * 2.0 ** (tries - 1))

    def _pause(self, seconds: float) -> None:
        """Hold every request of this client (all threads) for ``seconds``."""
        with self._gate:
            self._not_before = max(self._not_before, time.monotonic() + seconds)
        self._wait_for_gate()

    def _wait_for_gate(self) -> None:
        # A loop: another thread may push the pause further while this one sleeps.
        while (delay := self._not_before - time.monotonic()) > 0:
            time.sleep(delay)
