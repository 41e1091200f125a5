"""Check that every runtime dependency is installed at exactly its declared floor.

Run by ``make floors`` inside the floors venv, after ``uv pip install --resolution
lowest-direct``: if a declared floor cannot be installed (no wheel for this Python, a yanked
release), the resolver quietly takes a higher version and the floor would be a claim no test
backs. This turns that into a failure naming the dependency. Standard library only, so it
runs on the oldest Python the project supports.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, requires, version

DIST = "alsona-nb"
# "name>=1.2" with an optional "; marker"; extras are not used in our runtime dependencies.
FLOOR = re.compile(r"^\s*([A-Za-z0-9._-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,[^;]*)?(;.*)?$")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> int:
    """Print each dependency with its floor and installed version; 1 if any differs."""
    problems: list[str] = []
    runtime = [r for r in requires(DIST) or [] if "extra ==" not in r]
    if not runtime:
        problems.append(f"{DIST} declares no runtime dependencies (is it installed?)")
    for requirement in runtime:
        match = FLOOR.match(requirement)
        if match is None:
            problems.append(f"{requirement!r}: declare a floor as name>=version")
            continue
        name, floor, marker = match.groups()
        if marker:
            problems.append(f"{requirement!r}: markers are not checked here; keep one floor")
            continue
        try:
            installed = version(name)
        except PackageNotFoundError:
            problems.append(f"{name} is not installed")
            continue
        ok = _release(installed) == _release(floor)
        print(
            f"  {name:<12} floor {floor:<10} installed {installed:<10} {'ok' if ok else 'DIFFERS'}"
        )
        if not ok:
            problems.append(f"{name}: declared >={floor} but {installed} was installed")
    for problem in problems:
        print(f"floors: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _release(text: str) -> tuple[int, ...]:
    """(2, 0) for "2", (2, 0, 2) for "2.0.2": trailing zeros do not count."""
    parts = [int(p) for p in re.findall(r"\d+", text.split("+")[0])]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


if __name__ == "__main__":
    sys.exit(main())
