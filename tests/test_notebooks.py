"""Every notebook in notebooks/: Run All twice in one kernel gives no error and the same outputs,
and the committed files are small, without stored widget state, machine paths or keys.

Strict nbval (``make test``) compares the committed outputs with a fresh run; this module adds
what nbval does not check. To refresh a notebook's committed outputs after editing it:

    .venv/bin/python tests/test_notebooks.py notebooks/02_campaign_form.ipynb
"""

from __future__ import annotations

import configparser
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
MAX_BYTES = 120_000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# What changes from run to run by design (the ids, ports and times nbval also sanitizes).
_SANITIZE = configparser.ConfigParser()
_SANITIZE.read(REPO / "tests" / "nbval_sanitize.cfg")
_PATTERNS = [(re.compile(s["regex"]), s["replace"]) for s in _SANITIZE.values() if "regex" in s]
_MACHINE = re.compile(r"/(?:work|home|root|tmp|Users)/|\\Users\\|sandbox_[0-9a-f]{24}")


def _kernel_env() -> dict[str, str]:
    """No Alsona credentials: the notebooks run on the sandbox."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ALSONA_")}


def _client(nb: Any, path: Path) -> NotebookClient:
    return NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )


def _texts(nb: Any) -> list[list[str]]:
    """Each code cell's outputs as sanitized text (widget views left out: their ids are new).

    Stream text is joined per stream first: how a kernel happens to split stdout or stderr
    into outputs (one write or three) is timing, not what the cell shows."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        streams: dict[str, str] = {}
        shown = []
        for out in cell.outputs:
            if out.get("output_type") == "stream":
                streams[out.get("name", "")] = streams.get(out.get("name", ""), "") + out.text
                continue
            data = {k: v for k, v in out.get("data", {}).items() if k != WIDGET_VIEW}
            shown.append(json.dumps(data, sort_keys=True) + out.get("ename", ""))
        shown += [f"{name}: {text}" for name, text in sorted(streams.items())]
        cells.append([_sanitized(text) for text in shown])
    return cells


def _sanitized(text: str) -> str:
    for regex, replace in _PATTERNS:
        text = regex.sub(replace, text)
    return text


def run(path: Path, times: int = 1) -> list[Any]:
    """Run ``path``'s cells ``times`` times in one kernel; the notebook after each run.
    Raises ``nbclient.exceptions.CellExecutionError`` at the first error."""
    runs = []
    nb = nbformat.read(path, as_version=4)
    client = _client(nb, path)
    with client.setup_kernel(env=_kernel_env()):
        for _ in range(times):
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            runs.append(nbformat.from_dict(json.loads(json.dumps(nb))))
    return runs


def strip_widgets(nb: Any) -> Any:
    """Drop stored widget state and widget views: the outputs nbval compares stay."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", ()):
            out.get("data", {}).pop(WIDGET_VIEW, None)
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_run_all_twice_in_one_kernel(path: Path) -> None:
    first, second = run(path, times=2)
    assert _texts(second) == _texts(first)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebook_is_small_and_clean(path: Path) -> None:
    raw = path.read_bytes()
    assert len(raw) < MAX_BYTES, f"{path.name}: {len(raw)} bytes"
    nb = nbformat.reads(raw.decode(), as_version=4)
    assert "widgets" not in nb.metadata, "stored widget state: refresh with this module"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code if c.source.strip()), "committed without outputs"
    for cell in code:
        for out in cell.outputs:
            text = json.dumps(out)
            assert not _MACHINE.search(text), f"{path.name}: a machine path or key in an output"
            assert out.get("output_type") != "error"


def test_form_notebooks_say_run_all_first() -> None:
    for name in ("02_campaign_form.ipynb", "app.ipynb"):
        nb = nbformat.read(REPO / "notebooks" / name, as_version=4)
        assert nb.cells[0].cell_type == "markdown"
    intro = nbformat.read(REPO / "notebooks" / "02_campaign_form.ipynb", as_version=4).cells[0]
    assert "Run All" in intro.source.split("\n\n")[1]


def test_app_notebook_creates_nothing_on_load() -> None:
    nb = nbformat.read(REPO / "notebooks" / "app.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "create(" not in code and "load(" not in code
    assert [c.cell_type for c in nb.cells].count("code") == 1


def main(paths: list[str]) -> None:
    """Execute each notebook once on the sandbox and write it back without widget state."""
    for name in paths:
        path = Path(name).resolve()
        (nb,) = run(path)
        nbformat.write(strip_widgets(nb), path)
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
