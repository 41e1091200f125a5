"""Build hook: no release may point its badges and project URLs at the ``OWNER/`` placeholder.

README.md (the PyPI page) and pyproject.toml (the Project-URL metadata) say ``OWNER/alsona_nb``
until ``make badge`` writes the real GitHub ``owner/name`` in. Building an sdist or a wheel
from them is refused with that advice; an editable install (``pip install -e .``, what the
Makefile does) is not a release and always builds. Setting ``ALSONA_NB_ALLOW_PLACEHOLDER=1``
allows a local, unpublished build (Binder's install of the package does that).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PLACEHOLDER = "OWNER/"
CHECKED = ("README.md", "pyproject.toml")
OVERRIDE = "ALSONA_NB_ALLOW_PLACEHOLDER"


def placeholder_lines(root: Path) -> list[str]:
    """``file:line`` of every line of README.md and pyproject.toml under root naming OWNER/."""
    found: list[str] = []
    for name in CHECKED:
        path = root / name
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PLACEHOLDER in line:
                found.append(f"{name}:{number}")
    return found


class PlaceholderGuard(BuildHookInterface):  # type: ignore[type-arg]
    """Refuses release builds (sdist, wheel) while the placeholder is still there."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Raise RuntimeError naming the lines that still say OWNER/ (editable builds pass)."""
        if version == "editable" or os.environ.get(OVERRIDE) == "1":
            return
        found = placeholder_lines(Path(self.root))
        if found:
            raise RuntimeError(
                f"the badges and project URLs still say {PLACEHOLDER} ({', '.join(found)}): "
                "run `make badge REPO_SLUG=owner/name` first "
                f"(or set {OVERRIDE}=1 for a local build that is never published)"
            )
