"""A local sandbox of the Alsona API: ``Sandbox.serve``, one entry that answers a request,
with a real HTTP server on loopback and an in-process ``requests`` transport over it.

It answers as the API's contract reads (create, get, replace and delete one campaign, list
campaigns and seats in cursor pages, a gateway-like throttle), scopes every campaign to the
account in the path, validates with the same models as the client, and can be told to be
slow, to fail in scripted ways, to ignore client-chosen ids or to let reads lag behind
writes, for tests, benchmarks and demos. It keeps counts and only the latest requests.
Nothing it receives leaves this machine.

    with Sandbox() as sb:                      # over HTTP on 127.0.0.1
        client = sb.client()
        client.create_campaign(draft)

    sb = Sandbox(page_size=2, rate=20.0, burst=5)
    client = sb.client(in_process=True)        # no socket at all

Or from a shell: ``python -m alsona_nb.sandbox --port 8765`` (see ``__main__.py``).
"""

from __future__ import annotations

from ._actions import Delivery, FaultAction
from ._adapter import SandboxAdapter
from ._answer import Incoming, ReceivedRequest, Reply, UnreadableBody
from ._faults import Fault
from ._sandbox import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_PAGE_SIZE,
    DEFAULT_SEATS,
    KEPT_BODY_BYTES,
    KEPT_REQUESTS,
    Sandbox,
)
from ._server import BODY_READ_TIMEOUT, MAX_BODY_BYTES
from ._throttle import TokenBucket

__all__ = [
    "BODY_READ_TIMEOUT",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_SEATS",
    "KEPT_BODY_BYTES",
    "KEPT_REQUESTS",
    "MAX_BODY_BYTES",
    "Delivery",
    "Fault",
    "FaultAction",
    "Incoming",
    "ReceivedRequest",
    "Reply",
    "Sandbox",
    "SandboxAdapter",
    "TokenBucket",
    "UnreadableBody",
]
