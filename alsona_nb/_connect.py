"""``connect()``: a live client when a key is configured, the local sandbox otherwise."""

from __future__ import annotations

import getpass
import os
import threading
from typing import Any

from ._client import AlsonaClient
from .sandbox import Sandbox

_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox() -> Sandbox:
    """The one sandbox this process uses for ``connect()``, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Sandbox().start()
        return _shared


def connect(*, ask_key: bool = False, quiet: bool = False, **kwargs: Any) -> AlsonaClient:
    """Return a client: live when ``ALSONA_API_KEY`` is set (or, with ``ask_key=True``, typed
    at a password prompt), otherwise bound to a local in-process sandbox, which says so.

    Keyword arguments go to ``AlsonaClient``. The key is never echoed or stored in a notebook.
    """
    key = kwargs.pop("api_key", None) or os.environ.get("ALSONA_API_KEY")
    if not key and ask_key:
        key = getpass.getpass("Alsona API key (input hidden): ").strip() or None
    if key:
        return AlsonaClient(api_key=key, **kwargs)
    sandbox = shared_sandbox()
    client = sandbox.client(**kwargs)
    if not quiet:
        print(
            f"alsona_nb: no ALSONA_API_KEY set, so this is the local SANDBOX at {sandbox.url} "
            f"(account {sandbox.account_id}); nothing is sent to Alsona."
        )
    return client
