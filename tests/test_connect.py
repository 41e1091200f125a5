"""connect(): the sandbox of the right account without a key (and a notice saying so), a live
client with one; Sandbox clients; the public surface; ``import alsona_nb`` stays light."""

from __future__ import annotations

import inspect
import os
import re
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import alsona_nb
from alsona_nb import (
    AlsonaError,
    AlsonaWarning,
    CampaignDraft,
    InvalidDraftError,
    NotFoundError,
    Sandbox,
    WeeklySchedule,
)
from alsona_nb.sandbox import DEFAULT_ACCOUNT_ID

DRAFT = CampaignDraft(name="n", seats=["s"], schedule=WeeklySchedule.weekdays())


class TestWithoutAKey:
    def test_it_is_the_sandbox_and_says_so(self) -> None:
        with pytest.warns(AlsonaWarning) as notices:
            client = alsona_nb.connect()
        (notice,) = [str(n.message) for n in notices if n.category is AlsonaWarning]
        assert "SANDBOX" in notice and "nothing is sent to Alsona" in notice
        assert client.base_url in notice and DEFAULT_ACCOUNT_ID in notice
        assert client.mode == "sandbox" and client.is_sandbox
        assert client.account_id == DEFAULT_ACCOUNT_ID
        assert "SANDBOX" in repr(client)
        campaign = client.create_campaign(DRAFT)
        assert client.get_campaign(campaign.campaign_id) == campaign

    def test_quiet_says_nothing_and_shares_the_sandbox(self) -> None:
        with pytest.warns(AlsonaWarning):
            first = alsona_nb.connect()
        created = first.create_campaign(DRAFT)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # any notice fails the test
            second = alsona_nb.connect(quiet=True)
        assert second.is_sandbox and second.base_url == first.base_url  # one per process
        assert second.get_campaign(created.campaign_id).name == "n"

    def test_a_sandbox_of_the_account_asked_for(self) -> None:
        with pytest.warns(AlsonaWarning, match="account_x"):
            client = alsona_nb.connect(account_id="account_x")
        assert client.is_sandbox and client.account_id == "account_x"
        campaign = client.create_campaign(DRAFT)
        assert campaign.account_id == "account_x"
        assert client.get_campaign(campaign.campaign_id) == campaign
        # another account is another sandbox: it does not have this campaign
        other = alsona_nb.connect(quiet=True)
        assert other.account_id == DEFAULT_ACCOUNT_ID and other.base_url != client.base_url
        with pytest.raises(NotFoundError):
            other.get_campaign(campaign.campaign_id)

    def test_the_account_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ALSONA_ACCOUNT_ID", "account_env")
        with pytest.warns(AlsonaWarning, match="account_env"):
            client = alsona_nb.connect()
        assert client.is_sandbox and client.account_id == "account_env"
        assert client.create_campaign(DRAFT).account_id == "account_env"

    def test_client_arguments_are_passed_on(self) -> None:
        client = alsona_nb.connect(quiet=True, mint_ids=False, timeout=3.0)
        assert (client.mint_ids, client.timeout, client.is_sandbox) == (False, 3.0, True)
        assert client.prepare(DRAFT).campaign_id is None


class TestWithAKey:
    def test_it_is_live(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ALSONA_API_KEY", "sk-live-example")
        monkeypatch.setenv("ALSONA_ACCOUNT_ID", "account_123")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a live client needs no notice
            client = alsona_nb.connect()
        assert client.mode == "live" and not client.is_sandbox
        assert (client.base_url, client.account_id) == ("https://alsona.com", "account_123")
        assert repr(client) == (
            "<AlsonaClient LIVE account='account_123' base_url='https://alsona.com'>"
        )
        assert "sk-live-example" not in repr(client)

    def test_a_key_argument_is_live(self) -> None:
        client = alsona_nb.connect(api_key="sk-arg", account_id="account_1")
        assert client.mode == "live" and client.account_id == "account_1"

    def test_the_key_in_the_environment_needs_no_prompt(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ALSONA_API_KEY", "sk-env")

        def no_prompt(prompt: str = "") -> str:
            raise AssertionError("asked for a key that was already set")

        monkeypatch.setattr("getpass.getpass", no_prompt)
        assert alsona_nb.connect(ask_key=True, account_id="a").mode == "live"


@pytest.fixture
def keyed_sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_key="sk-typed", account_id="account_typed") as sandbox:
        yield sandbox


class TestPasswordPrompt:
    def test_the_typed_key_is_used(
        self, monkeypatch: pytest.MonkeyPatch, keyed_sandbox: Sandbox
    ) -> None:
        prompts: list[str] = []

        def getpass(prompt: str = "") -> str:
            prompts.append(prompt)
            return " sk-typed \n"

        monkeypatch.setattr("getpass.getpass", getpass)
        client = alsona_nb.connect(
            ask_key=True, account_id="account_typed", base_url=keyed_sandbox.url
        )
        assert client.mode == "live" and len(prompts) == 1
        assert "sk-typed" not in prompts[0] and "key" in prompts[0].lower()
        # the sandbox accepts only "sk-typed": the key typed, trimmed, is the key sent
        assert client.create_campaign(DRAFT).account_id == "account_typed"
        assert [r.key_ok for r in keyed_sandbox.requests] == [True]

    def test_nothing_typed_is_the_sandbox(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("getpass.getpass", lambda prompt="": "   ")
        with pytest.warns(AlsonaWarning, match="SANDBOX"):
            client = alsona_nb.connect(ask_key=True)
        assert client.is_sandbox


class TestSandboxClients:
    def test_over_http(self, sandbox: Sandbox) -> None:
        client = sandbox.client()
        assert client.mode == "sandbox" and client.base_url == sandbox.url
        client.create_campaign(DRAFT)
        assert sandbox.counts["POST"] == 1

    def test_in_process_opens_no_socket(
        self, monkeypatch: pytest.MonkeyPatch, offline_sandbox: Sandbox
    ) -> None:
        client = offline_sandbox.client(in_process=True)

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("the in-process client opened a connection")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse)
        assert client.mode == "sandbox" and client.is_sandbox
        campaign = client.create_campaign(DRAFT)
        assert client.get_campaign(campaign.campaign_id) == campaign
        assert campaign.campaign_id in offline_sandbox.campaigns
        assert client.list_seats()


def _run_fresh(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALSONA_")}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


def test_import_and_connect_from_a_fresh_interpreter_stay_light() -> None:
    code = (
        "import sys, alsona_nb\n"
        "heavy = {'pandas', 'ipywidgets'}\n"
        "assert not heavy & set(sys.modules), 'import loaded ' + str(heavy & set(sys.modules))\n"
        "c = alsona_nb.connect()\n"
        "assert c.is_sandbox\n"
        "d = alsona_nb.CampaignDraft(name='n', seats=['s'],"
        " schedule=alsona_nb.WeeklySchedule.weekdays())\n"
        "c.create_campaign(d)\n"
        "assert not heavy & set(sys.modules), 'create loaded ' + str(heavy & set(sys.modules))\n"
    )
    result = _run_fresh(code)
    assert result.returncode == 0, result.stderr
    assert "SANDBOX" in result.stderr and "AlsonaWarning" in result.stderr


def _own_doc(thing: Any) -> str:
    """The docstring ``thing`` was written with (a dataclass's generated one does not count)."""
    doc = (thing.__doc__ or "").strip()
    name = getattr(thing, "__name__", "")
    return "" if doc.startswith(f"{name}(") else doc


class TestPublicSurface:
    @pytest.mark.parametrize("name", alsona_nb.__all__)
    def test_every_exported_name_resolves_and_says_what_it_is(self, name: str) -> None:
        thing = getattr(alsona_nb, name)
        if name == "__version__":
            assert re.fullmatch(r"\d+\.\d+\.\d+\S*", thing)
            return
        assert callable(thing), name
        assert _own_doc(thing), f"{name} has no docstring of its own"

    def test_nothing_public_is_left_out_of_all(self) -> None:
        for name in alsona_nb.__all__:
            getattr(alsona_nb, name)  # lazy names land in the namespace
        missing = [
            name
            for name, thing in vars(alsona_nb).items()
            if not name.startswith("_")
            and not inspect.ismodule(thing)
            and str(getattr(thing, "__module__", "")).startswith("alsona_nb")
            and name not in alsona_nb.__all__
        ]
        assert missing == []
        assert len(set(alsona_nb.__all__)) == len(alsona_nb.__all__)

    def test_no_other_names(self) -> None:
        with pytest.raises(AttributeError, match="no_such_thing"):
            alsona_nb.no_such_thing  # noqa: B018

    def test_errors_form_one_tree(self) -> None:
        from alsona_nb import (
            APIError,
            BatchInterruptedError,
            InputError,
            JournalError,
            NotSentError,
            TransportError,
        )

        errors = [getattr(alsona_nb, n) for n in alsona_nb.__all__ if n.endswith("Error")]
        assert len(errors) >= 16
        assert all(issubclass(e, AlsonaError) for e in errors)
        beside_the_api = {InputError, InvalidDraftError, JournalError, NotSentError}
        beside_the_api |= {AlsonaError, BatchInterruptedError, alsona_nb.InvalidRowsError}
        for error in errors:
            assert (error in beside_the_api) != issubclass(error, APIError), error
        assert issubclass(TransportError, APIError) and issubclass(InvalidDraftError, InputError)
        assert issubclass(InputError, ValueError) and not issubclass(APIError, ValueError)
        assert issubclass(AlsonaWarning, UserWarning)
