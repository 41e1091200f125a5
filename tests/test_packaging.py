"""What PyPI gets: the wheel and sdist carry the licence, the sdist what its own tests need, the
metadata its URLs and classifiers and no contributors' tools, and the README no link that
breaks off GitHub. `make badge` and the build hook that refuses the OWNER/ placeholder are
exercised on temporary copies (never on the real README)."""

from __future__ import annotations

import importlib.util
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import zipfile
from email.parser import Parser
from importlib.metadata import requires
from pathlib import Path
from types import ModuleType

import pytest
import requests
from conftest import NOT_COPIED

REPO = Path(__file__).resolve().parents[1]
PLACEHOLDER = "OWNER/"
SLUG = "example-org/alsona_nb"
# The contributors' tools: none of them may be a requirement of the published package.
DEV_TOOLS = {"ruff", "mypy", "pytest", "playwright", "uv", "build", "hypothesis", "nbval"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _group(name: str) -> list[str]:
    """The requirement strings of one [dependency-groups] list in pyproject.toml."""
    text = (REPO / "pyproject.toml").read_text()
    groups = text.split("[dependency-groups]", 1)[1].split("\n[", 1)[0]
    match = re.search(rf"^{name} = \[(.*?)^\]", groups, flags=re.S | re.M)
    assert match, f"no dependency group {name!r}"
    return re.findall(r'"([^"]+)"', match[1])


def _check_floors() -> ModuleType:
    """constraints/check_floors.py, imported from its file (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "check_floors", REPO / "constraints" / "check_floors.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_has_no_relative_links() -> None:
    """PyPI shows README.md alone: a relative link or image there is a broken one."""
    text = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)", text) + re.findall(r'src="([^"]+)"', text)
    relative = [t for t in targets if not re.match(r"(https?:|mailto:|#)", t)]
    assert not relative, f"relative links in README.md: {relative}"


def test_test_tools_for_the_floors_are_in_the_test_group() -> None:
    """constraints/test-tools.txt pins only what the test dependency group asks for."""
    wanted = {_normal(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in _group("test")}
    lines = (REPO / "constraints" / "test-tools.txt").read_text().splitlines()
    pinned = {_normal(ln.split("==")[0]) for ln in lines if "==" in ln}
    assert pinned, "constraints/test-tools.txt pins nothing"
    assert pinned <= wanted, f"not in the test group: {sorted(pinned - wanted)}"


def test_dev_tools_are_not_published() -> None:
    """Installing alsona-nb (any extra) never pulls in a linter, a test runner or Playwright."""
    declared = requires("alsona-nb") or []
    assert declared, "alsona-nb declares no dependencies: is it installed?"
    names = {_normal(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in declared}
    assert not names & DEV_TOOLS, f"published requirements include {sorted(names & DEV_TOOLS)}"
    assert any(r.startswith("ruff==") for r in _group("lint")), "ruff lost its exact pin"
    assert any(r.startswith("mypy==") for r in _group("lint")), "mypy lost its exact pin"


def test_floors_check_reads_environment_markers() -> None:
    """One floor per Python: pandas 2.2.2 (Colab's) below 3.13, 2.2.3 from 3.13 on."""
    floors = _check_floors()
    declared = requires("alsona-nb") or []
    have = {"pandas": "2.2.2", "openpyxl": "3.1.0"}
    installed = {**have, **{n: "999" for n in ("requests", "urllib3", "pydantic")}}

    def found(name: str) -> str | None:
        return installed.get(name)

    pandas_only = [r for r in declared if r.startswith(("pandas", "openpyxl", "jupyterlab"))]
    lines, problems = floors.check(pandas_only, found, ["excel"], {"python_version": "3.12"})
    assert problems == [], problems
    assert any("pandas" in ln and "2.2.2" in ln for ln in lines), lines
    assert any("openpyxl" in ln for ln in lines), "the excel extra's floor was not checked"
    _, problems = floors.check(pandas_only, found, [], {"python_version": "3.13"})
    assert problems == ["pandas: declared >=2.2.3 but 2.2.2 was installed"], problems
    # No floor at all, or two, is refused rather than guessed.
    _, problems = floors.check(["tqdm", "tqdm>=4,>=5"], lambda _: "4", [], None)
    assert len(problems) == 2 and all("one floor" in p for p in problems), problems


def test_every_runtime_dependency_has_one_floor_per_python() -> None:
    floors = _check_floors()
    from packaging.requirements import Requirement

    declared = [Requirement(r) for r in requires("alsona-nb") or []]
    for minor in (10, 11, 12, 13):
        env = {"python_version": f"3.{minor}", "python_full_version": f"3.{minor}.0"}
        runtime = [r for r in declared if floors.applies(r, [], env)]
        names = [_normal(r.name) for r in runtime]
        assert len(names) == len(set(names)), f"3.{minor}: two requirements for one name: {names}"
        assert {"pandas", "babel", "ipywidgets"} <= set(names), names
        assert all(floors.floor_of(r) for r in runtime), runtime


def test_pre_commit_runs_the_pinned_ruff() -> None:
    """The pre-commit hook and `make lint` must agree: same ruff version."""
    config = (REPO / ".pre-commit-config.yaml").read_text()
    rev = re.search(r"ruff-pre-commit\s+rev:\s*v(\S+)", config)
    pinned = re.search(r'"ruff==([^"]+)"', (REPO / "pyproject.toml").read_text())
    assert rev and pinned and rev[1] == pinned[1], (rev, pinned)


# -- make demo / make notebook: the printed link is the one a newcomer can use --------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[str], seen: list[str]) -> None:
    """Jupyter logs "is running at" just before it binds its port: wait for the bind itself,
    paced by the server's own output (at most a quarter second between tries)."""
    assert proc.stdout is not None
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except ConnectionRefusedError:
            if proc.poll() is not None:
                pytest.fail(f"the server exited {proc.returncode}:\n{''.join(seen)[-3000:]}")
        if select.select([proc.stdout], [], [], 0.25)[0]:
            seen.append(proc.stdout.readline())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "prefix"), [("demo", "/lab/tree/"), ("notebook", "/notebooks/")]
)
def test_printed_link_opens_the_form(target: str, prefix: str) -> None:
    """The link `make demo`/`make notebook` prints names a notebook the server really has.

    Run with this venv (VENV=) and its install stamp taken as up to date (-o): the test never
    installs anything. Jupyter hides its own token, so the printed link is the only one.
    """
    venv = Path(sys.prefix)
    stamp = venv / ".installed-lab"
    port = _free_port()
    cmd = ["make", "-s", target, f"VENV={venv}", "-o", str(stamp), f"PORT={port}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "MAKE"))}
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env={**env, "BROWSER": "true"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    # The server gets two minutes to start; the watchdog ends our own process group then.
    watchdog = threading.Timer(120, os.killpg, (proc.pid, signal.SIGKILL))
    watchdog.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(rf"(http://127\.0\.0\.1:{port}{prefix}(\S+)\?token=(\w+))", first)
        assert match, f"make {target} printed {first!r}"
        link, path, token = match.groups()
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if f"http://127.0.0.1:{port}/" in line:  # the line after "is running at:"
                break
        else:
            pytest.fail(f"make {target} ended before serving:\n{''.join(seen)[-3000:]}")
        _wait_listening(port, proc, seen)
        assert requests.get(link, timeout=30).status_code == 200
        # The page is served whatever the path; the contents API says whether the file is there.
        api = f"http://127.0.0.1:{port}/api/contents/{path}"
        answer = requests.get(api, params={"content": "0", "token": token}, timeout=30)
        assert answer.status_code == 200, f"{path} is not in the served directory: {answer.text}"
        assert answer.json()["type"] == "notebook"
    finally:
        watchdog.cancel()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        if proc.stdout is not None:
            proc.stdout.close()


# -- make badge, on a copy of README.md, pyproject.toml and the Makefile ----------------------


@pytest.fixture
def badge_copy(tmp_path: Path) -> Path:
    """A directory with copies of the files `make badge` edits, as they are committed."""
    for name in ("README.md", "pyproject.toml", "Makefile"):
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def _slug_now(texts: dict[str, str]) -> str:
    """The owner/name the badges carry now: OWNER/alsona_nb in the repository, a real one in
    a released sdist."""
    found = re.findall(
        r"mybinder\.org/v2/gh/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/", texts["README.md"]
    )
    assert found and len(set(found)) == 1, f"the Binder badges carry {set(found)}"
    return str(found[0])


def _with_slug(texts: dict[str, str], slug: str) -> dict[str, str]:
    """The texts with every link's current owner/name replaced by slug (what badge must do)."""
    link = re.compile(rf"(?<=/){re.escape(_slug_now(texts))}(?=[/#\")])")
    return {name: link.sub(slug, text) for name, text in texts.items()}


def _badge(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MAKE"))}
    env.pop("REPO_SLUG", None)
    return _run(["make", "-s", "badge", *args], where, env)


def _texts(where: Path) -> dict[str, str]:
    return {name: (where / name).read_text() for name in ("README.md", "pyproject.toml")}


def test_badge_is_repeatable_with_another_slug(badge_copy: Path) -> None:
    original = _texts(badge_copy)
    now = _slug_now(original)
    places = sum(t.count(f"/{now}") for t in original.values())
    assert places >= 10, f"only {places} links carry {now}: did the README lose its badges?"
    for slug in ("first-owner/alsona_nb", "Second.Owner/alsona-nb.fork"):
        proc = _badge(badge_copy, f"REPO_SLUG={slug}")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert _texts(badge_copy) == _with_slug(original, slug)
        assert PLACEHOLDER not in "".join(_texts(badge_copy).values())


@pytest.mark.parametrize(
    "slug",
    [
        "git@gitlab.com:team/alsona_nb",
        "https://gitlab.com/team/alsona_nb",
        "/srv/git/alsona_nb",
        "solo",
        "a/b/c",
        "a b/c",
    ],
)
def test_badge_refuses_what_is_not_owner_name(badge_copy: Path, slug: str) -> None:
    original = _texts(badge_copy)
    proc = _badge(badge_copy, f"REPO_SLUG={slug}")
    assert proc.returncode != 0, proc.stdout
    assert "owner/name" in proc.stdout + proc.stderr
    assert _texts(badge_copy) == original


def test_badge_takes_the_slug_from_a_github_origin_only(badge_copy: Path) -> None:
    original = _texts(badge_copy)
    git_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(badge_copy)}
    assert _run(["git", "init", "-q"], badge_copy, git_env).returncode == 0
    remote = ["git", "remote", "add", "origin", "https://gitlab.com/team/alsona_nb.git"]
    assert _run(remote, badge_copy, git_env).returncode == 0
    proc = _badge(badge_copy)
    assert proc.returncode != 0 and "not a GitHub owner/name" in proc.stdout, proc.stdout
    assert _texts(badge_copy) == original
    seturl = ["git", "remote", "set-url", "origin", "git@github.com:someone/alsona_nb.git"]
    assert _run(seturl, badge_copy, git_env).returncode == 0
    proc = _badge(badge_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _texts(badge_copy) == _with_slug(original, "someone/alsona_nb")


# -- building: the hook, the wheel, the sdist ---------------------------------------------------


def _copy_tree(where: Path) -> Path:
    tree = where / "alsona_nb-src"
    shutil.copytree(REPO, tree, ignore=NOT_COPIED)
    return tree


def _build(tree: Path, outdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ALSONA_NB_ALLOW_PLACEHOLDER"}
    return _run(
        [sys.executable, "-m", "build", *args, "--outdir", str(outdir), str(tree)], tree, env
    )


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of the tree after `make badge`, built: {"tree", "wheel", "sdist"}."""
    where = tmp_path_factory.mktemp("release")
    tree = _copy_tree(where)
    proc = _badge(tree, f"REPO_SLUG={SLUG}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _build(tree, where / "dist")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    (wheel,) = (where / "dist").glob("*.whl")
    (sdist,) = (where / "dist").glob("*.tar.gz")
    return {"tree": tree, "wheel": wheel, "sdist": sdist}


@pytest.mark.slow
def test_build_refuses_the_placeholder(tmp_path: Path) -> None:
    """python -m build (sdist, and a wheel alone) fails while README/pyproject say OWNER/."""
    tree = _copy_tree(tmp_path)
    for args in ((), ("--wheel",)):
        proc = _build(tree, tmp_path / "dist", *args)
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, output[-2000:]
        assert "make badge" in output and "README.md:" in output, output[-2000:]
    assert not list(tmp_path.glob("dist/*")), "something was built"


@pytest.mark.slow
def test_wheel_and_sdist_carry_the_license(release: dict[str, Path]) -> None:
    with zipfile.ZipFile(release["wheel"]) as zf:
        names = zf.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(zf.read(metadata_name).decode())
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
        license_name = next(n for n in names if n.endswith("licenses/LICENSE"))
        assert "MIT License" in zf.read(license_name).decode()
        assert "alsona_nb/py.typed" in names
        assert "alsona_nb/openapi.yaml" in names
        assert not any(n.startswith(("tests/", "hatch_build")) for n in names), names

    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls), urls
    assert all(f"github.com/{SLUG}" in url for url in urls.values()), urls
    classifiers = metadata.get_all("Classifier") or []
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "OWNER/" not in (metadata.get_payload() or "")
    assert set(metadata.get_all("Provides-Extra") or []) == {"lab", "excel"}
    required = {
        _normal(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0])
        for r in metadata.get_all("Requires-Dist") or []
    }
    assert not required & DEV_TOOLS, sorted(required & DEV_TOOLS)

    with tarfile.open(release["sdist"]) as tf:
        top = tf.getnames()[0].split("/")[0]
        files = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for needed in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "tests/conftest.py"):
        assert needed in files, f"{needed} missing from {top}.tar.gz"
    assert any(f.startswith("notebooks/") and f.endswith(".ipynb") for f in files)
    assert not any(
        "__pycache__" in f or (f.endswith(".jsonl") and "/data/" not in f) for f in files
    )


def _makefile_sources(makefile: str) -> list[str]:
    match = re.search(r"^SOURCES := (.+)$", makefile, flags=re.M)
    assert match, "the Makefile has no SOURCES line"
    return match[1].split()


def _mypy_files(pyproject: str) -> list[str]:
    match = re.search(r"^files = \[(.*?)\]", pyproject, flags=re.M)
    assert match, "pyproject.toml's [tool.mypy] names no files"
    return re.findall(r'"([^"]+)"', match[1])


@pytest.mark.slow
def test_sdist_carries_what_its_own_tests_need(release: dict[str, Path], tmp_path: Path) -> None:
    """Unpacked, the sdist lints and runs its fast packaging tests: nothing they read is missing."""
    with tarfile.open(release["sdist"]) as tf:
        tf.extractall(tmp_path, filter="data")
    (unpacked,) = tmp_path.iterdir()
    makefile = (unpacked / "Makefile").read_text()
    needed = [
        *_makefile_sources(makefile),
        *_mypy_files((unpacked / "pyproject.toml").read_text()),
        ".pre-commit-config.yaml",
        "docs/form.png",  # the browser test writes the README's picture there
        "hatch_build.py",  # the build hook: a wheel is built from the sdist
        "constraints/test-tools.txt",
        "constraints/colab.txt",
        "tests/nbval_sanitize.cfg",
        "binder/requirements.txt",
        "binder/postBuild",
        "binder/jupyter_server_config.json",
    ]
    missing = [p for p in needed if not (unpacked / p).exists()]
    assert not missing, f"missing from the sdist: {missing}"
    in_repo = {p.relative_to(REPO) for p in (REPO / "tests").rglob("*") if p.is_file()}
    in_repo = {p for p in in_repo if "__pycache__" not in p.parts and p.suffix != ".pyc"}
    absent = sorted(str(p) for p in in_repo if not (unpacked / p).exists())
    assert not absent, f"test files missing from the sdist: {absent}"

    # ruff's E902 alone: every path `make lint` names can be read there (its findings about
    # the code itself are `make lint`'s business, in the repository).
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    cmd = [ruff, "check", "--no-cache", "--select", "E902", *_makefile_sources(makefile)]
    proc = _run(cmd, unpacked)
    assert proc.returncode == 0, f"{' '.join(cmd)} in the sdist:\n{proc.stdout}{proc.stderr}"
    fast = ["-q", "-p", "no:cacheprovider", "-n", "0", "-m", "not slow"]
    proc = _run([sys.executable, "-m", "pytest", *fast, "tests/test_packaging.py"], unpacked)
    assert proc.returncode == 0 and " passed" in proc.stdout, (
        proc.stdout[-3000:] + proc.stderr[-2000:]
    )
