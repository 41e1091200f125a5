"""The error tree, the errors built from answers, and notices that do not fill a cell."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import alsona_nb as an
from alsona_nb._errors import error_from_response, notify


def test_a_notice_repeated_in_a_loop_is_shown_once_under_the_default_filter() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        for _ in range(50):
            notify("the same notice, in a loop")
        notify("another notice")
    assert [str(w.message) for w in seen] == ["the same notice, in a loop", "another notice"]
    assert all(w.category is an.AlsonaWarning and w.filename == "alsona_nb" for w in seen)


def test_a_users_always_filter_still_shows_every_notice() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(3):
            notify("told each time")
    assert len(seen) == 3


def test_a_fresh_interpreter_shows_a_repeated_notice_once_on_stderr() -> None:
    code = "from alsona_nb._errors import notify\nfor _ in range(20): notify('once please')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stderr.count("once please") == 1


@pytest.mark.parametrize(
    ("status", "kind", "phrase"),
    [
        (400, an.BadRequestError, "Bad Request"),
        (401, an.AuthenticationError, "Unauthorized"),
        (403, an.PermissionDeniedError, "Forbidden"),
        (404, an.NotFoundError, "Not Found"),
        (429, an.RateLimitError, "Too Many Requests"),
        (502, an.ServerError, "Bad Gateway"),
        (418, an.UnexpectedResponseError, "I'm a Teapot"),
        (599, an.ServerError, "Unexpected answer"),
    ],
)
def test_an_answer_without_a_message_is_named_by_its_standard_phrase(
    status: int, kind: type[an.AlsonaError], phrase: str
) -> None:
    error = error_from_response(status, b"", "")
    assert type(error) is kind and error.status_code == status
    assert error.message == f"{phrase} (empty body)"
    assert isinstance(error, an.APIError) and not isinstance(error, an.InputError)


def test_input_errors_are_value_errors_and_not_api_errors() -> None:
    assert issubclass(an.InvalidDraftError, an.InputError)
    assert issubclass(an.InputError, ValueError) and issubclass(an.InputError, an.AlsonaError)
    assert not issubclass(an.InputError, an.APIError)
    for cls in (an.JournalError, an.NotSentError, an.BatchInterruptedError):
        assert issubclass(cls, an.AlsonaError) and not issubclass(cls, an.APIError)
    error = an.TransportError("no answer", kind=an.TransportKind.DROPPED)
    assert error.kind is an.TransportKind.DROPPED and str(error.kind) == "dropped"
