"""What assistive technology needs and ipywidgets cannot set: attribute rules for ``KeyShield``.

Pure functions of the form's state, so each rule is tested as data. A rule is
``[css selector, attribute, value]`` (``None`` removes the attribute); the selectors use the
classes the form puts on its widgets.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from .._models import DAYS
from ._schedule import handle_names

__all__ = ["FIELD_SELECTORS", "Rule", "aria_rules"]

Rule = list[str | None]

# A field's controls, by the key its problems are filed under.
FIELD_SELECTORS = {
    "name": ".alsona-name input",
    "campaign_id": ".alsona-campaign-id input",
    "timezone": ".alsona-timezone input",
    "seats": ".alsona-seats input",
    "status": ".alsona-status .widget-toggle-button",
    **{day: f".alsona-day-{day} input, .alsona-hours-{day} .noUi-handle" for day in DAYS},
}

_STATIC: list[Rule] = [
    # Outcomes and problems are announced, politely, where they appear.
    [".alsona-message", "role", "status"],
    [".alsona-message", "aria-live", "polite"],
    [".alsona-message", "tabindex", "-1"],  # where the focus goes when Create is disabled
    [".alsona-reason", "aria-live", "polite"],
    [".alsona-conflict", "role", "alert"],
    [".alsona-status .widget-toggle-buttons, .alsona-status", "role", "group"],
    [".alsona-status", "aria-label", "Status"],
]


def aria_rules(
    statuses: Sequence[str], chosen: str, days_on: Collection[str], invalid: Collection[str]
) -> list[Rule]:
    """The attribute rules for the form's state: each slider handle named ("Monday, from"),
    the chosen status ``aria-pressed``, unticked days' handles out of the Tab order, and
    ``aria-invalid`` on the fields in ``invalid`` (keys of ``FIELD_SELECTORS``)."""
    rules = [list(r) for r in _STATIC]
    for i, status in enumerate(statuses, start=1):
        button = f".alsona-status .widget-toggle-button:nth-of-type({i})"
        rules.append([button, "aria-pressed", "true" if status == chosen else "false"])
    for day in DAYS:
        lower, upper = handle_names(day)
        handles = f".alsona-hours-{day} .noUi-handle"
        rules.append([f"{handles}.noUi-handle-lower", "aria-label", lower])
        rules.append([f"{handles}.noUi-handle-upper", "aria-label", upper])
        rules.append([handles, "tabindex", "0" if day in days_on else "-1"])
    for key, selector in FIELD_SELECTORS.items():
        rules.append([selector, "aria-invalid", "true" if key in invalid else "false"])
    return rules
