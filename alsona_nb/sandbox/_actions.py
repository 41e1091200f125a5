"""What a fault does, and what a shell (the HTTP server or the in-process adapter) does with
the answer the sandbox gives it. Every such action is one of these values."""

from __future__ import annotations

from enum import Enum


class _Named(str, Enum):
    """A value that is also its plain string (``FaultAction.DROP == "drop"``)."""

    def __str__(self) -> str:
        return str(self.value)


class FaultAction(_Named):
    """How a scripted fault misbehaves."""

    ANSWER = "answer"  # send the fault's own answer (an error, an HTML page, any body)
    DROP = "drop"  # close the connection without answering
    CUT = "cut"  # send the head of a 200 and half its body, then close
    STALL = "stall"  # wait before answering (past the client's timeout, it sees none)


class Delivery(_Named):
    """What a shell does with an ``Reply`` (its ``action``)."""

    SEND = "send"  # send it; the connection may stay open
    CLOSE = "close"  # send it, then close: a body was refused unread or could not be read
    DROP = "drop"  # send nothing and close the connection
    CUT = "cut"  # send the head and half the body, then close
    GONE = "gone"  # the client stopped waiting, or the sandbox stopped or reset: hang up
