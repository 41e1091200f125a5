"""The README's examples run as written, in order, against the sandbox."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pytest

from alsona_nb import AlsonaWarning, local_sandbox

ROOT = Path(__file__).resolve().parent.parent


def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(examples) == 3  # one campaign's life, bulk creation, a plan
    shutil.copy(ROOT / "notebooks" / "data" / "campaigns.csv", tmp_path / "sheet.csv")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    sandbox = local_sandbox()
    before = len(sandbox.campaigns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlsonaWarning)  # connect()'s "this is the sandbox"
        for example in examples:
            exec(compile(example, "README.md", "exec"), namespace)
    assert (tmp_path / "campaigns.jsonl").exists() and (tmp_path / "bulk.jsonl").exists()
    log = namespace["log"]
    actions = log.to_frame()[["action", "outcome"]].values.tolist()  # type: ignore[attr-defined]
    assert actions == [
        ["create", "created"],
        ["update", "updated"],
        ["update", "updated"],
        ["delete", "deleted"],
    ]
    results = namespace["results"]
    created = results["ok"].sum()  # type: ignore[index]
    assert created > 0
    # The first example's campaign was deleted; bulk made one per valid sheet row, feeding
    # the journal back made nothing more, and the plan (the same sheet, without ids yet)
    # made one per valid row again; planning the saved sheet finds nothing to do.
    assert len(sandbox.campaigns) - before == 2 * created
    again = namespace["an"].plan_campaigns(namespace["client"], "sheet.csv")  # type: ignore[attr-defined]
    assert set(again.frame["action"]) <= {"unchanged", "invalid"}


def test_readme_names_only_real_make_targets() -> None:
    """Every `make <target>` the README tells a reader to run is a target of the Makefile."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bmake ([a-z][a-z-]*)\b", text))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    assert {"demo", "test"} <= named, f"the README no longer says make demo / make test: {named}"
    assert named <= targets, f"the README names targets the Makefile lacks: {named - targets}"
