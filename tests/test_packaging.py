"""What PyPI gets: the wheel and sdist carry the licence, the sdist the tests and notebooks,
the metadata its URLs and classifiers, and the README no link that breaks off GitHub."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_readme_has_no_relative_links() -> None:
    """PyPI shows README.md alone: a relative link or image there is a broken one."""
    text = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)", text) + re.findall(r'src="([^"]+)"', text)
    relative = [t for t in targets if not re.match(r"(https?:|mailto:|#)", t)]
    assert not relative, f"relative links in README.md: {relative}"


def test_test_tools_for_the_floors_are_test_extras() -> None:
    """constraints/test-tools.txt pins only what the test extra asks for (same names)."""
    extra = (REPO / "pyproject.toml").read_text().split("test = [", 1)[1].split("]", 1)[0]
    wanted = {re.sub(r"[-_.]+", "-", n).lower() for n in re.findall(r'"([A-Za-z0-9._-]+)', extra)}
    lines = (REPO / "constraints" / "test-tools.txt").read_text().splitlines()
    pinned = {re.sub(r"[-_.]+", "-", ln.split("==")[0]).lower() for ln in lines if "==" in ln}
    assert pinned <= wanted, f"not in the test extra: {sorted(pinned - wanted)}"


@pytest.mark.slow
def test_wheel_and_sdist_carry_the_license(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    (wheel,) = tmp_path.glob("*.whl")
    (sdist,) = tmp_path.glob("*.tar.gz")

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(zf.read(metadata_name).decode())
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
        license_name = next(n for n in names if n.endswith("licenses/LICENSE"))
        assert "MIT License" in zf.read(license_name).decode()
        assert "alsona_nb/py.typed" in names
        assert "alsona_nb/openapi.yaml" in names

    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls), urls
    classifiers = metadata.get_all("Classifier") or []
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert metadata["Description-Content-Type"] == "text/markdown"

    with tarfile.open(sdist) as tf:
        top = tf.getnames()[0].split("/")[0]
        files = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for needed in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "tests/conftest.py"):
        assert needed in files, f"{needed} missing from {top}.tar.gz"
    assert any(f.startswith("notebooks/") and f.endswith(".ipynb") for f in files)
    assert not any(
        "__pycache__" in f or (f.endswith(".jsonl") and "/data/" not in f) for f in files
    )


def test_pre_commit_runs_the_pinned_ruff() -> None:
    """The pre-commit hook and `make lint` must agree: same ruff version."""
    config = (REPO / ".pre-commit-config.yaml").read_text()
    rev = re.search(r"ruff-pre-commit\s+rev:\s*v(\S+)", config)
    pinned = re.search(r'"ruff==([^"]+)"', (REPO / "pyproject.toml").read_text())
    assert rev and pinned and rev[1] == pinned[1], (rev, pinned)
