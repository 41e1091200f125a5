"""The API key never shows: not in reprs, errors, tracebacks, logs, journals, frames, widgets
or executed notebooks; and it only crosses the network over TLS (or to loopback).

A recognisable key is set in the environment and the sandbox is started with it, so the
key is really used; then everything the package produces is searched for it.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import raw_server

from alsona_nb import (
    AlsonaClient,
    AuthenticationError,
    CampaignDraft,
    InputError,
    Sandbox,
    connect,
)
from alsona_nb.sandbox import Fault

KEY = "sk-LEAKCHECK-" + secrets.token_hex(8)
REPO = Path(__file__).resolve().parents[1]


def assert_no_key(*things: Any) -> None:
    for thing in things:
        text = thing if isinstance(thing, str) else repr(thing) + "\n" + str(thing)
        assert KEY not in text, f"the API key leaked into: {text[:300]}"
        assert KEY[3:] not in text  # nor a trimmed or re-cased form
        assert KEY.lower()[3:] not in text.lower()


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox that accepts only KEY, and the environment pointing at it."""
    with Sandbox(api_key=KEY) as sandbox:
        monkeypatch.setenv("ALSONA_API_KEY", KEY)
        monkeypatch.setenv("ALSONA_BASE_URL", sandbox.url)
        monkeypatch.setenv("ALSONA_ACCOUNT_ID", sandbox.account_id)
        yield sandbox


def _faults() -> list[Fault]:
    return [
        Fault.error(400, "bad seats"),
        Fault.error(401, "Invalid or missing API key"),
        Fault.error(429, retry_after=0.01),  # retried once, then created
        Fault.html(502),
        Fault.raw(200, "{not json"),
        Fault.raw(200, ""),
        Fault.cut(after_create=False),
        Fault.drop(after_create=True),
        Fault.stall(30.0),
    ]


def test_client_errors_attempts_and_logs_never_show_the_key(
    keyed: Sandbox, draft: CampaignDraft, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from alsona_nb import ResultsLog

    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    journal = tmp_path / "journal.jsonl"
    log = ResultsLog(journal)
    with AlsonaClient(timeout=2.0, max_retries=1, log=log, sleep=lambda s: None) as client:
        assert client.create_campaign(draft).campaign_id in keyed.campaigns  # the key works
        shown: list[Any] = [client, vars(client), log]
        for fault in _faults():
            keyed.inject(fault)
            attempt = client.attempt(draft)
            shown += [attempt, attempt.error, vars(attempt.error or attempt)]
            try:
                client.create_campaign(draft)
            except Exception as exc:
                shown.append("".join(traceback.format_exception(exc)))
                shown.append(_with_locals(exc))
                shown.extend(_reachable(exc))
            keyed.clear_faults()
        invalid = client.attempt({"name": "", "seats": []})
        shown += [invalid, invalid.error]
    refused = AlsonaClient(base_url=_closed_port(), max_retries=0).attempt(draft)
    shown += [refused, refused.error, *_reachable(refused.error)]
    frame = log.to_frame()
    shown += [frame, frame.to_csv(), frame.to_json(date_format="iso"), log.rows]
    assert_no_key(*shown)
    assert_no_key(journal.read_text(encoding="utf-8"), caplog.text)
    assert_no_key(*[vars(r) for r in keyed.requests])  # the sandbox does not keep it either
    assert any("POST" in r.getMessage() for r in caplog.records)  # logging really ran


def _with_locals(exc: BaseException) -> str:
    """What a verbose traceback (IPython's ``%xmode Verbose``) shows of the package's own
    frames: their locals, repr'd. (The caller's frames hold whatever the caller holds.)"""
    summary = traceback.TracebackException.from_exception(exc, capture_locals=True)
    package = str(REPO / "alsona_nb")
    frames = [f for f in summary.stack if f.filename.startswith(package)]
    return "\n".join(f"{f.filename}:{f.lineno} {f.locals}" for f in frames)


def _reachable(root: object, depth: int = 4) -> Iterator[str]:
    """The text of everything an error reporter could walk to from ``root``: the exception
    chain (``__cause__``, ``__context__``), ``args`` and attributes, a few levels deep."""
    seen: set[int] = set()
    todo: list[tuple[object, int]] = [(root, 0)]
    while todo:
        thing, level = todo.pop()
        if id(thing) in seen or thing is None or level > depth:
            continue
        seen.add(id(thing))
        yield repr(thing)
        if isinstance(thing, BaseException):
            todo += [(thing.__cause__, level + 1), (thing.__context__, level + 1)]
            todo += [(a, level + 1) for a in thing.args]
        if isinstance(thing, dict):
            todo += [(v, level + 1) for v in thing.values()]
        elif isinstance(thing, (list, tuple)):
            todo += [(v, level + 1) for v in thing]
        elif hasattr(thing, "__dict__") and not isinstance(thing, type):
            todo += [(v, level + 1) for v in vars(thing).values()]


@pytest.mark.parametrize(
    "pasted",
    [
        KEY + "\u200b",
        "\u200b" + KEY,
        KEY + "…",
        KEY[:8] + "\n" + KEY[8:],
        KEY[:8] + "\r\n" + KEY[8:],
        KEY + "é",
    ],
    ids=["zero-width after", "zero-width before", "ellipsis", "line break", "crlf", "accent"],
)
def test_a_key_that_cannot_be_sent_is_refused_plainly_at_construction(pasted: str) -> None:

    with pytest.raises(AuthenticationError, match="copy the key again") as info:
        AlsonaClient(api_key=pasted, account_id="a", base_url="http://127.0.0.1:9")
    assert_no_key(info.value, _with_locals(info.value), *_reachable(info.value))


def test_no_error_chains_to_the_request_that_held_the_key(
    keyed: Sandbox, draft: CampaignDraft
) -> None:
    """requests' exceptions keep the prepared request, headers included: none of the
    project's errors may lead to one."""
    import requests

    errors: list[BaseException] = []
    with AlsonaClient(timeout=2.0, max_retries=0, sleep=lambda s: None) as client:
        for fault in (Fault.drop(), Fault.cut(after_create=False), Fault.stall(30.0)):
            keyed.inject(fault)
            try:
                client.create_campaign(draft.model_copy(update={"campaign_id": None}))
            except Exception as exc:
                errors.append(exc)
            keyed.clear_faults()
    with AlsonaClient(base_url=_closed_port(), max_retries=0) as gone:
        try:
            gone.create_campaign(draft)
        except Exception as exc:
            errors.append(exc)
    assert len(errors) == 4
    for error in errors:
        assert error.__cause__ is None and error.__context__ is None
        walked = list(_reachable(error))
        assert not [w for w in walked if "PreparedRequest" in w or "X-API-KEY" in w]
        assert_no_key(*walked, _with_locals(error))
    assert not [e for e in errors if isinstance(e, requests.RequestException)]


def test_wrong_key_error_does_not_echo_either_key(keyed: Sandbox, draft: CampaignDraft) -> None:
    wrong = KEY + "x"
    with AlsonaClient(api_key=wrong) as client:
        attempt = client.attempt(draft)
    text = (
        repr(attempt)
        + str(attempt.error)
        + "".join(
            traceback.format_exception(attempt.error)  # type: ignore[arg-type]
        )
    )
    assert attempt.http_status == 401
    assert wrong not in text and KEY not in text


def test_form_and_bulk_never_show_the_key(
    keyed: Sandbox, draft: CampaignDraft, tmp_path: Path
) -> None:
    from alsona_nb import CampaignForm, ResultsLog, create_campaigns

    client = AlsonaClient(timeout=2.0, max_retries=0, sleep=lambda s: None)
    form = CampaignForm(client, log=ResultsLog(tmp_path / "form.jsonl"))
    form.load(draft)
    ok = form.create()
    keyed.inject(Fault.error(401))
    form.create_as_new("second")
    failed = form.create()
    assert ok is not None and ok.ok and failed is not None and not failed.ok
    widget_states = [w.get_state() for w in _widgets(form)]
    assert_no_key(form, widget_states, form.results, form.to_code(), form.preview_text)
    assert_no_key((tmp_path / "form.jsonl").read_text(encoding="utf-8"))

    keyed.inject(Fault.error(500), Fault.html(502))
    drafts = [draft.model_copy(update={"name": f"bulk {i}"}) for i in range(6)]
    frame = create_campaigns(client, drafts, max_workers=2, progress=False)
    assert (~frame["ok"]).sum() == 2
    assert_no_key(frame, frame.to_csv(), frame.to_json(date_format="iso"), frame.to_dict("records"))


def _widgets(root: Any) -> Iterator[Any]:
    yield root
    for child in getattr(root, "children", ()):
        yield from _widgets(child)


def _frame_locals(exc: BaseException) -> Iterator[str]:
    """What a verbose traceback (``%xmode Verbose``) prints: the locals of every frame the
    error (and whatever it chains to) passed through, repr'd; this file's frames left out
    (a test holds what it pastes)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        error = todo.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        tb = error.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename != __file__:
                yield f"{code.co_filename}:{code.co_name} {tb.tb_frame.f_locals!r}"
            tb = tb.tb_next
        todo += [error.__cause__, error.__context__]


def test_ctrl_c_during_a_request_leaves_the_key_in_no_frame(
    keyed: Sandbox, draft: CampaignDraft, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the answer is read (a socket read inside the transport raises it) comes
    out as ``KeyboardInterrupt``, through no frame whose locals hold the key."""
    me, real = threading.get_ident(), socket.socket.recv_into
    reads: list[int] = []

    def interrupted(sock: socket.socket, *args: Any, **kwargs: Any) -> int:
        if threading.get_ident() != me:  # the sandbox's own threads read on
            return real(sock, *args, **kwargs)
        reads.append(1)
        raise KeyboardInterrupt

    with AlsonaClient(timeout=5.0, max_retries=0) as client:
        monkeypatch.setattr(socket.socket, "recv_into", interrupted)
        with pytest.raises(KeyboardInterrupt) as info:
            client.create_campaign(draft)
        monkeypatch.undo()
    assert reads, "the interrupt did not come from inside the request"
    walked = list(_frame_locals(info.value))
    assert walked  # the frames really were looked at
    assert_no_key(*walked)
    assert not [w for w in walked if "X-API-KEY" in w]


def test_an_environment_proxy_is_never_dialled_for_a_loopback_base_url(
    keyed: Sandbox, draft: CampaignDraft, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``http_proxy`` set (as on many company hubs) with a plain-http loopback base URL: the
    key would reach the proxy in clear, so the proxy is not used; the server is dialled."""
    heard: list[bytes] = []
    with raw_server(lambda conn: heard.append(conn.recv(65536))) as proxy:
        for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url)
        with AlsonaClient(timeout=5.0, max_retries=0) as client:
            campaign = client.create_campaign(draft)
    assert proxy.accepted == 0 and heard == []
    assert campaign.campaign_id in keyed.campaigns
    assert [r.key_ok for r in keyed.requests] == [True]  # the key went to the server only


def test_the_requests_debugging_recipe_prints_no_key(
    keyed: Sandbox,
    draft: CampaignDraft,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``http.client.HTTPConnection.debuglevel = 1`` with DEBUG logging prints every header a
    connection sends; the package's connections print none of theirs."""
    import http.client

    import requests

    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(http.client.HTTPConnection, "debuglevel", 1)
    requests.get(keyed.url + "/rest/ping", headers={"X-Shown": "yes"}, timeout=5)
    control = capfd.readouterr()
    assert "X-Shown: yes" in control.out  # the recipe is on: a plain connection prints
    with AlsonaClient(timeout=5.0, max_retries=0) as client:
        campaign = client.create_campaign(draft)
        assert client.get_campaign(campaign.campaign_id) == campaign
    printed = capfd.readouterr()
    assert_no_key(printed.out, printed.err, caplog.text)
    assert "X-API-KEY" not in printed.out + printed.err


@pytest.mark.parametrize(
    "setting",
    [
        {"ALSONA_API_KEY": KEY + "\u200b"},
        {"ALSONA_API_KEY": "\u200b" + KEY},
        {"ALSONA_API_KEY": KEY, "ALSONA_BASE_URL": "http://10.0.0.5:8000"},
        {"ALSONA_API_KEY": KEY, "ALSONA_BASE_URL": "ftp://alsona.com"},
        {"ALSONA_API_KEY": KEY, "ALSONA_ACCOUNT_ID": "has space"},
    ],
    ids=["zero-width after", "zero-width before", "plain http", "not http", "bad account"],
)
def test_connect_refusing_leaves_the_key_in_no_frame(
    setting: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    with pytest.raises((AuthenticationError, InputError)) as info:
        connect()
    walked = list(_frame_locals(info.value))
    assert [w for w in walked if "_connect.py:connect " in w]  # connect's frame was looked at
    assert_no_key(info.value, *walked)


def test_a_pasted_key_at_the_prompt_leaves_the_key_in_no_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": KEY + "\u200b")
    with pytest.raises(AuthenticationError, match="copy the key again") as info:
        connect(ask_key=True, account_id="a")
    walked = list(_frame_locals(info.value))
    assert [w for w in walked if "_connect.py:connect " in w]
    assert_no_key(info.value, *walked)


def test_password_prompt_is_the_only_other_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], draft: CampaignDraft
) -> None:
    with Sandbox(api_key=KEY) as sandbox:
        prompts: list[str] = []

        def fake_getpass(prompt: str = "") -> str:
            prompts.append(prompt)
            return KEY + "  "

        monkeypatch.setattr("getpass.getpass", fake_getpass)
        client = connect(ask_key=True, base_url=sandbox.url, account_id=sandbox.account_id)
        assert prompts and not client.is_sandbox
        assert client.create_campaign(draft).campaign_id in sandbox.campaigns
        out = capsys.readouterr()
        assert_no_key(prompts[0], out.out, out.err, client)


# -- TLS ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://alsona.com",
        "http://10.0.0.5:8080",
        "http://example.invalid",
        "http://127.0.0.1.nip.io",
        "http://[2001:db8::1]",
    ],
)
def test_plain_http_off_loopback_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="unencrypted") as info:
        AlsonaClient(api_key=KEY, account_id="a", base_url=url)
    assert KEY not in str(info.value)
    monkeypatch.setenv("ALSONA_BASE_URL", url)  # the environment is held to the same rule
    with pytest.raises(ValueError, match="https://"):
        AlsonaClient(api_key=KEY, account_id="a")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://alsona.com"]
)
def test_loopback_http_and_https_are_allowed(url: str) -> None:
    assert AlsonaClient(api_key=KEY, account_id="a", base_url=url).base_url == url


def test_a_redirect_is_not_followed_with_the_key(keyed: Sandbox, draft: CampaignDraft) -> None:
    elsewhere = Sandbox(api_key="other").start()
    try:
        keyed.inject(Fault(status=307, body=b"", headers={"Location": elsewhere.url + "/x"}))
        attempt = AlsonaClient().attempt(draft)
        assert attempt.http_status == 307 and not attempt.ok
        assert not elsewhere.requests
    finally:
        elsewhere.stop()


# -- executed notebooks --------------------------------------------------------------------


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


_SANDBOX_OUTPUT: dict[str, Any] = {}


@pytest.fixture
def sandbox_process() -> Iterator[str]:
    """``python -m alsona_nb.sandbox`` in a subprocess, accepting only KEY."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "alsona_nb.sandbox", "--port", str(port), "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()  # type: ignore[union-attr]
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"

        def output() -> str:
            proc.terminate()
            proc.wait(10)
            return proc.stdout.read()  # type: ignore[union-attr]

        _SANDBOX_OUTPUT[url] = output
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        proc.stdout.close()  # type: ignore[union-attr]


@pytest.mark.slow
def test_executed_notebooks_never_show_the_key(
    sandbox_process: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import nbformat
    from nbclient import NotebookClient

    from alsona_nb.sandbox import DEFAULT_ACCOUNT_ID

    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks to check"
    monkeypatch.setenv("ALSONA_API_KEY", KEY)
    monkeypatch.setenv("ALSONA_BASE_URL", sandbox_process)
    monkeypatch.setenv("ALSONA_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)
    for path in notebooks:
        source = path.read_text(encoding="utf-8")
        assert_no_key(source)
        assert "ALSONA_API_KEY=" not in source and 'api_key="' not in source, path.name
        nb = nbformat.read(path, as_version=4)
        run_dir = tmp_path / path.stem  # a copy, so the notebook finds its data files
        shutil.copytree(REPO / "notebooks", run_dir)
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(run_dir)}}
        ).execute()
        assert_no_key(nbformat.writes(nb))
        for written in run_dir.rglob("*"):  # journals, CSVs the notebook wrote
            if written.is_file():
                assert_no_key(written.read_bytes().decode("utf-8", errors="replace"))


def test_sandbox_command_does_not_echo_a_given_key(sandbox_process: str) -> None:
    """``--api-key K`` is the user's own choice of key: printing it back puts it in a
    terminal log or a notebook output (``!python -m alsona_nb.sandbox ...``)."""
    import requests

    # The process is up and really uses KEY (a wrong key is refused).
    url = sandbox_process + "/rest/accounts/x/campaigns"
    assert requests.post(url, json={}, headers={"X-API-KEY": "nope"}, timeout=5).status_code == 401
    printed = _SANDBOX_OUTPUT[sandbox_process]()
    assert "ALSONA_BASE_URL=" in printed
    assert_no_key(printed)
