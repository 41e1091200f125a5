"""The Binder files are complete: an environment built from binder/ alone runs every notebook.

As repo2docker would: a fresh venv of the Python that binder/runtime.txt names, ``pip install -r
binder/requirements.txt``, then binder/postBuild run from a copy of the repository root. Then
pytest and nbval (test tools only) go into that venv and run strict nbval over notebooks/ with
the notebooks' own kernel (no ``--nbval-current-env``), without ``ALSONA_*`` variables, as on
Binder where there is no key.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"
# Same versions as the project's own .venv, so the check runs the tools it is tested with.
TEST_TOOLS = ("pytest==9.2.0", "nbval==0.11.0")
_NOT_COPIED = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "*.egg-info", ".pytest_cache", ".mypy_cache",
    ".ruff_cache", ".hypothesis", ".ipynb_checkpoints", "test-artifacts", "build", "dist",
    "*.jsonl",
)


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{output[-6000:]}"
    return output


def _binder_python() -> str:
    """The interpreter binder/runtime.txt asks for (repo2docker's default may be older)."""
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", text)
    assert match, f"binder/runtime.txt should read python-X.Y, not {text!r}"
    version = f"{match[1]}.{match[2]}"
    if sys.version_info[:2] == (int(match[1]), int(match[2])):
        return sys._base_executable  # type: ignore[attr-defined]
    found = shutil.which(f"python{version}")
    if found is None:
        pytest.fail(f"binder/runtime.txt names Python {version}, which is not installed here")
    return found


@pytest.mark.slow
def test_binder_environment_runs_every_notebook(tmp_path: Path) -> None:
    started = time.monotonic()
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo, ignore=_NOT_COPIED)
    venv = tmp_path / "venv"
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALSONA_", "JUPYTER", "PIP_"))}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    _run([_binder_python(), "-m", "venv", str(venv)], repo, env, 120)
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"], repo, env, 900)
    _run(["bash", "binder/postBuild"], repo, env, 300)
    built = time.monotonic() - started

    # The package came from postBuild's install, not from the source tree beside it.
    code = "import alsona_nb; print(alsona_nb.__file__)"
    where = _run([python, "-c", code], home.parent, env, 60)
    assert str(venv) in where, where
    _run([python, "-m", "pip", "install", "-q", *TEST_TOOLS], repo, env, 300)
    notebooks = sorted(p.name for p in (repo / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks to check"
    out = _run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", "--nbval",
         "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "notebooks"],
        repo, env, 600,
    )
    assert re.search(r"\b\d+ passed\b", out) and " failed" not in out, out[-3000:]
    total = time.monotonic() - started
    print(f"binder venv built in {built:.0f}s, checked {notebooks} in {total:.0f}s in all")
