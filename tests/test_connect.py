"""connect(): the sandbox without a key, a live client with one; import stays light."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import alsona_nb
from alsona_nb import CampaignDraft, WeeklySchedule


def test_without_a_key_it_is_the_sandbox_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    client = alsona_nb.connect()
    out = capsys.readouterr().out
    assert client.is_sandbox and client.mode == "sandbox"
    assert "SANDBOX" in out and "nothing is sent to Alsona" in out
    assert "SANDBOX" in repr(client)
    draft = CampaignDraft(name="n", seats=["s"], schedule=WeeklySchedule.weekdays())
    assert client.create_campaign(draft).campaign_id in client.sandbox.campaigns  # type: ignore[union-attr]
    assert alsona_nb.connect(quiet=True).sandbox is client.sandbox  # one per process


def test_with_a_key_it_is_live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALSONA_API_KEY", "sk-live-example")
    monkeypatch.setenv("ALSONA_ACCOUNT_ID", "account_123")
    client = alsona_nb.connect()
    assert not client.is_sandbox
    assert (client.base_url, client.account_id) == ("https://alsona.com", "account_123")
    assert repr(client) == "<AlsonaClient LIVE account='account_123' base_url='https://alsona.com'>"


def test_password_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: " sk-typed ")
    client = alsona_nb.connect(ask_key=True, account_id="a")
    assert not client.is_sandbox
    assert client._api_key.get_secret_value() == "sk-typed"


def test_import_and_connect_from_a_fresh_interpreter() -> None:
    code = (
        "import sys, alsona_nb; c = alsona_nb.connect(); "
        "assert c.is_sandbox; "
        "assert 'pandas' not in sys.modules and 'ipywidgets' not in sys.modules, 'heavy import'"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALSONA_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "SANDBOX" in result.stdout


def test_public_surface() -> None:
    for name in alsona_nb.__all__:
        assert getattr(alsona_nb, name) is not None
    with pytest.raises(AttributeError):
        alsona_nb.no_such_thing  # noqa: B018
