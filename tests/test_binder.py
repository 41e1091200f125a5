"""The Binder files are complete and coherent with repo2docker's own environment.

repo2docker does not start from an empty environment: it builds its base environment first
(for Python 3.11: notebook 7.4, jupyterlab 4.4, jupyter_server 2.17, jupyterhub 5.4, ...),
then runs ``pip install -r binder/requirements.txt`` on top of it, then binder/postBuild. pip
does not re-check the packages already there, so a requirements file that moves JupyterLab
past what the base's Notebook allows installs without complaint and leaves Notebook broken.

The slow test does the same: a venv of the Python that binder/runtime.txt names, the base pins
kept in tests/data/repo2docker-py3.11-base.txt, then requirements.txt with pip (as repo2docker),
then postBuild; then ``pip check`` must find nothing broken, and strict nbval runs every
notebook with the notebooks' own kernel (no ``--nbval-current-env``), without ``ALSONA_*``
variables, as on Binder where there is no key. The base and the test tools go in with uv when
it is there (it links from its cache: seconds), requirements.txt with pip and its cache.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from importlib.metadata import requires
from pathlib import Path

import pytest
from conftest import NOT_COPIED

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"
BASE_PINS = REPO / "tests" / "data" / "repo2docker-py3.11-base.txt"
# Same versions as the project's own .venv, so the check runs the tools it is tested with.
TEST_TOOLS = ("pytest==9.2.0", "nbval==0.11.0")


def _names(lines: list[str]) -> dict[str, str]:
    """{normalised name: version} of the ``name==version`` lines (comments skipped)."""
    pins: dict[str, str] = {}
    for line in lines:
        match = re.match(r"^\s*([A-Za-z0-9._-]+)\s*==\s*(\S+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def _pins(path: Path) -> dict[str, str]:
    return _names(path.read_text().splitlines())


def test_binder_pins_every_runtime_dependency() -> None:
    """postBuild installs alsona_nb with --no-deps: requirements.txt must pin all it needs."""
    declared = [r for r in requires("alsona-nb") or [] if "extra ==" not in r]
    names = {
        re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]).lower()
        for r in declared
    }
    pinned = _pins(BINDER / "requirements.txt")
    assert names, "alsona-nb declares no dependencies: is it installed?"
    assert not names - set(pinned), f"binder/requirements.txt lacks {sorted(names - set(pinned))}"


def test_binder_moves_notebook_with_jupyterlab() -> None:
    """Any JupyterLab pin beyond the base's needs Notebook pinned with it (7.4 wants < 4.5)."""
    base, pinned = _pins(BASE_PINS), _pins(BINDER / "requirements.txt")
    assert {"notebook", "jupyterlab"} <= set(base), "the base pins lost notebook or jupyterlab"
    if pinned.get("jupyterlab", base["jupyterlab"]) != base["jupyterlab"]:
        assert "notebook" in pinned, "jupyterlab is pinned past the base without notebook"


CULLING = ("cull_idle_timeout", "cull_interval", "cull_connected")


def test_binder_and_make_demo_save_the_form_as_its_placeholder() -> None:
    """A saved form notebook shows the placeholder elsewhere, not "model not found"."""
    config = json.loads((BINDER / "jupyter_server_config.json").read_text())
    hook = config["ContentsManager"]["pre_save_hook"]
    assert hook == "alsona_nb.form.placeholder_outputs"
    module, _, name = hook.rpartition(".")
    assert callable(getattr(__import__(module, fromlist=[name]), name))
    makefile = (REPO / "Makefile").read_text()
    assert f"--ContentsManager.pre_save_hook={hook}" in makefile


def test_binder_and_make_app_cull_idle_kernels_alike() -> None:
    """Every closed Voila page leaves a kernel: both Binder's server and `make app` cull them."""
    config = json.loads((BINDER / "jupyter_server_config.json").read_text())
    binder = config["MappingKernelManager"]
    assert set(binder) == set(CULLING), binder
    assert binder["cull_idle_timeout"] > 0 and 0 < binder["cull_interval"] <= 300, binder
    assert binder["cull_connected"] is False, "an open page's kernel must stay"
    makefile = (REPO / "Makefile").read_text()
    assert re.search(rf"^CULL_IDLE\s*\?= {binder['cull_idle_timeout']}$", makefile, re.M)
    assert re.search(rf"^CULL_INTERVAL\s*\?= {binder['cull_interval']}$", makefile, re.M)
    app = makefile.split("\napp:", 1)[1].split("\n\n", 1)[0]
    assert "$(CULL)" in app, "make app does not pass the culling options to voila"
    assert "--MappingKernelManager.cull_connected=False" in makefile


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
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
        return str(getattr(sys, "_base_executable", sys.executable))
    found = shutil.which(f"python{version}")
    if found is None:
        pytest.fail(f"binder/runtime.txt names Python {version}, which is not installed here")
    return found


def _installer(python: str) -> list[str]:
    """uv pip install into that venv when uv is beside this interpreter, else its own pip."""
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        return [str(uv), "pip", "install", "-q", "--python", python]
    return [python, "-m", "pip", "install", "-q"]


@pytest.mark.slow
def test_binder_environment_runs_every_notebook(tmp_path: Path) -> None:
    started = time.monotonic()
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo, ignore=NOT_COPIED)
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
        # jupyter_core 5.8 (the base's) warns at import until told to use platformdirs, and
        # pytest turns warnings into errors here: say yes, as jupyter_core 6 will by default.
        JUPYTER_PLATFORM_DIRS="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_PYTHON_DOWNLOADS="never",
    )
    for name in ("config", "data", "runtime", "ipython"):
        (home / name).mkdir(parents=True)
    _run([_binder_python(), "-m", "venv", str(venv)], repo, env, 120)
    python = str(venv / "bin" / "python")
    _run([*_installer(python), "-r", str(BASE_PINS)], repo, env, 600)
    # What repo2docker runs, with pip: on top of the base, without re-checking it.
    _run([python, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"], repo, env, 900)
    _run(["bash", "binder/postBuild"], repo, env, 300)
    built = time.monotonic() - started
    _run([python, "-m", "pip", "check"], repo, env, 120)
    # postBuild's culling settings are where Binder's jupyter_server reads them.
    shown = _run([python, "-m", "jupyter", "server", "--show-config"], repo, env, 120)
    wanted = json.loads((BINDER / "jupyter_server_config.json").read_text())
    for name, value in wanted["MappingKernelManager"].items():
        assert re.search(rf"\.{name} = {value!r}", shown), f"{name} not configured:\n{shown}"

    # The package came from postBuild's install, not from the source tree beside it.
    code = "import alsona_nb; print(alsona_nb.__file__)"
    where = _run([python, "-c", code], home.parent, env, 60)
    assert str(venv) in where, where
    _run([*_installer(python), *TEST_TOOLS], repo, env, 300)
    notebooks = sorted(p.name for p in (repo / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks to check"
    out = _run(
        [
            python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            # Warnings as errors is the main suite's job (in .venv); here the question is whether
            # the notebooks run in Binder's environment, whose older pieces warn on their own.
            "-o",
            "filterwarnings=default",
            "--nbval",
            "--nbval-sanitize-with",
            "tests/nbval_sanitize.cfg",
            "notebooks",
        ],
        repo,
        env,
        600,
    )
    assert re.search(r"\b\d+ passed\b", out) and " failed" not in out, out[-3000:]
    total = time.monotonic() - started
    print(f"binder venv built in {built:.0f}s, checked {notebooks} in {total:.0f}s in all")
