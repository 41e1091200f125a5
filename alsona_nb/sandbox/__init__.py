"""A local sandbox of the Alsona API: a pure request handler, a real HTTP server on
loopback over it, and an in-process ``requests`` transport over it.

It answers as the contract says (``spec/NOTES.md`` 9-13: create, get one, list campaigns,
list seats, cursor pages, a gateway-like throttle), validates with the same models as the
client, and can be told to be slow or to fail in scripted ways, for tests, benchmarks and
demos. Nothing it receives leaves this machine.

    with Sandbox() as sb:                      # over HTTP on 127.0.0.1
        client = sb.client()
        client.create_campaign(draft)

    sb = Sandbox(page_size=2, rate=20.0, burst=5)
    client = sb.client(in_process=True)        # no socket at all

Or from a shell: ``python -m alsona_nb.sandbox --port 8765`` (see ``__main__.py``).
"""

from __future__ import annotations

from ._adapter import SandboxAdapter
from ._answer import Answer, ReceivedRequest
from ._faults import Fault
from ._sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PAGE_SIZE, DEFAULT_SEATS, Sandbox
from ._server import BODY_READ_TIMEOUT, MAX_BODY_BYTES
from ._throttle import TokenBucket

__all__ = [
    "BODY_READ_TIMEOUT",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_SEATS",
    "MAX_BODY_BYTES",
    "Answer",
    "Fault",
    "ReceivedRequest",
    "Sandbox",
    "SandboxAdapter",
    "TokenBucket",
]
