"""``connect()``: a live client when a key is configured, the local sandbox otherwise."""

from __future__ import annotations

import getpass
import os
import threading
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from ._client import AlsonaClient
from ._errors import InputError, notify
from ._settings import check_account_id

if TYPE_CHECKING:
    from .sandbox import Sandbox

_shared: dict[str, Sandbox] = {}
_shared_lock = threading.Lock()


def local_sandbox(account_id: str | None = None) -> Sandbox:
    """The sandbox ``connect()`` uses without a key, for that account (``ALSONA_ACCOUNT_ID``
    or the default one), started on first use: inspect it or inject faults into it."""
    from .sandbox import DEFAULT_ACCOUNT_ID, Sandbox

    account_id = account_id or os.environ.get("ALSONA_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
    with _shared_lock:
        if account_id not in _shared:
            _shared[account_id] = Sandbox(account_id=account_id).start()
        return _shared[account_id]


def connect(*, ask_key: bool = False, quiet: bool = False, **kwargs: Any) -> AlsonaClient:
    """Return a client: live when ``ALSONA_API_KEY`` is set (or, with ``ask_key=True``, typed
    at a password prompt), otherwise bound to a local in-process sandbox of the same account
    (``account_id=`` or ``ALSONA_ACCOUNT_ID``), which an ``AlsonaWarning`` says (``quiet=True``
    says nothing).

    Keyword arguments go to ``AlsonaClient``. The key is never echoed or stored in a notebook.
    Raises what ``AlsonaClient`` raises.
    """
    key = _key(kwargs, ask_key)  # a SecretStr: this frame never holds the key in clear
    if key is not None:
        return AlsonaClient(api_key=key, **kwargs)
    try:
        account = check_account_id(
            kwargs.pop("account_id", None) or os.environ.get("ALSONA_ACCOUNT_ID")
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    sandbox = local_sandbox(account)
    client = sandbox.client(**kwargs)
    if not quiet:
        notify(
            f"no ALSONA_API_KEY set, so this is the local SANDBOX at {sandbox.url} "
            f"(account {sandbox.account_id}); nothing is sent to Alsona."
        )
    return client


def _key(kwargs: dict[str, Any], ask_key: bool) -> SecretStr | None:
    given = kwargs.pop("api_key", None) or os.environ.get("ALSONA_API_KEY")
    if not given and ask_key:
        given = getpass.getpass("Alsona API key (input hidden): ")
    return SecretStr(given) if given and given.strip() else None
