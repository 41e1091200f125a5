"""Check that every runtime dependency is installed at exactly its declared floor.

Run by ``make floors`` inside the floors venv, after ``uv pip install --resolution
lowest-direct``: if a declared floor cannot be installed (no wheel for this Python, a yanked
release), the resolver quietly takes a higher version and the floor would be a claim no test
backs. This turns that into a failure naming the dependency.

Requirements are read with ``packaging`` (a dependency of pytest, pinned in test-tools.txt):
one with an environment marker (``pandas>=2.2.2; python_version < '3.13'``) is checked only
where its marker holds, so a dependency may have one floor per Python. Requirements of the
extras named with ``--extra`` are checked too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

DIST = "alsona-nb"


def floor_of(requirement: Requirement) -> str | None:
    """The version of the requirement's only ``>=`` clause, or None when it has not one."""
    floors = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    return floors[0] if len(floors) == 1 else None


def applies(
    requirement: Requirement, extras: Iterable[str], environment: Mapping[str, str] | None = None
) -> bool:
    """Whether the requirement's marker holds here (or in environment) for one of extras."""
    if requirement.marker is None:
        return True
    # The runtime dependencies are those whose marker holds with no extra asked for.
    for extra in ("", *extras):
        env = {**(environment or {}), "extra": extra}
        if requirement.marker.evaluate(env):
            return True
    return False


def check(
    declared: Iterable[str],
    installed: Callable[[str], str | None],
    extras: Iterable[str] = (),
    environment: Mapping[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """(report lines, problems) for the declared requirement strings.

    ``installed(name)`` gives the installed version or None. A requirement whose marker does
    not hold (in environment, by default this interpreter) is left out.
    """
    wanted = tuple(extras)
    lines: list[str] = []
    problems: list[str] = []
    for text in declared:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            problems.append(f"{text!r}: {exc}")
            continue
        if not applies(requirement, wanted, environment):
            continue
        floor = floor_of(requirement)
        if floor is None:
            problems.append(f"{text!r}: declare one floor as name>=version")
            continue
        name = canonicalize_name(requirement.name)
        found = installed(name)
        if found is None:
            problems.append(f"{name} is not installed")
            continue
        ok = _same_release(found, floor)
        lines.append(
            f"  {name:<12} floor {floor:<10} installed {found:<10} {'ok' if ok else 'DIFFERS'}"
        )
        if not ok:
            problems.append(f"{name}: declared >={floor} but {found} was installed")
    return lines, problems


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _same_release(installed: str, floor: str) -> bool:
    """2.0 is 2.0.0 (trailing zeros do not count); a local version (+cpu) is ignored."""
    try:
        return _trimmed(Version(installed).release) == _trimmed(Version(floor).release)
    except InvalidVersion:
        return False


def _trimmed(release: tuple[int, ...]) -> tuple[int, ...]:
    parts = list(release)
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def main(argv: list[str] | None = None) -> int:
    """Print each dependency with its floor and installed version; 1 if any differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", action="append", default=[], help="check this extra too")
    args = parser.parse_args(argv)
    declared = requires(DIST) or []
    lines, problems = check(declared, _installed, extras=args.extra)
    if not declared:
        problems.append(f"{DIST} declares no dependencies (is it installed?)")
    print("\n".join(lines))
    for problem in problems:
        print(f"floors: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
