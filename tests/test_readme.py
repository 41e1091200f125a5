"""The README's example runs as written (against the sandbox)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    shutil.copy(ROOT / "notebooks" / "data" / "campaigns.csv", tmp_path / "sheet.csv")
    monkeypatch.chdir(tmp_path)
    # The sheet holds one bad row on purpose; the README's one-liner takes the good ones.
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    log = namespace["log"]
    assert len(log) == 1 and (tmp_path / "campaigns.jsonl").exists()  # type: ignore[arg-type]
