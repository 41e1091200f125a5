"""The week's schedule: seven day rows (tick box, hour range, a readout) and preset buttons.

``value`` maps each day to ``[enabled, start_hour, end_hour]``, the shape the API takes; an
unticked day keeps its hours, so ticking it again restores them. Validation is the model's:
``show_problems`` only displays what it says, next to the day. The hours are shown in a plain
readout ("9:00 – 17:00") rather than the slider's own, which can be typed into.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import traitlets

from .._models import DAYS, WeeklySchedule
from ._render import esc, line

__all__ = ["DEFAULT_HOURS", "PRESETS", "ScheduleEditor", "handle_names"]

DEFAULT_HOURS = (9, 17)
PRESETS = {"weekdays": "Weekdays 9-17", "every_day": "Every day", "clear": "Clear"}


def handle_names(day: str) -> tuple[str, str]:
    """The accessible names of a day's two slider handles: ("Monday, from", "Monday, until")."""
    return f"{day.capitalize()}, from", f"{day.capitalize()}, until"


class _DayValue(traitlets.List):  # type: ignore[type-arg]
    """``[enabled, start_hour, end_hour]``: a bool and two whole hours 0..24."""

    def validate(self, obj: Any, value: Any) -> list[Any]:
        value = super().validate(obj, value)
        if (
            len(value) != 3
            or not isinstance(value[0], bool)
            or not all(isinstance(h, int) and not isinstance(h, bool) for h in value[1:])
            or not all(0 <= h <= 24 for h in value[1:])
        ):
            self.error(obj, value)
        return list(value)


class ScheduleEditor(widgets.VBox):  # type: ignore[misc]
    """Seven rows, Monday first: a tick box for the day and a slider for its hours.

    ``value``: ``{"monday": [True, 9, 17], ...}`` with all seven days; set it to change the
    rows (a ``TraitError`` for another shape).
    """

    value = traitlets.Dict(value_trait=_DayValue())

    @traitlets.validate("value")
    def _seven_days(self, proposal: Any) -> dict[str, list[Any]]:
        value = dict(proposal["value"])
        if set(value) != set(DAYS):
            raise traitlets.TraitError(f"a schedule has the seven days {DAYS}, got {list(value)}")
        return {day: value[day] for day in DAYS}

    def __init__(self) -> None:
        self.checkboxes: dict[str, widgets.Checkbox] = {}
        self.sliders: dict[str, widgets.IntRangeSlider] = {}
        self.readouts: dict[str, widgets.HTML] = {}
        self.notes: dict[str, widgets.HTML] = {}
        self.rows: dict[str, widgets.HBox] = {}
        for day in DAYS:
            self.rows[day] = self._day_row(day)
        self.preset_buttons = {
            key: widgets.Button(description=text).add_class(
                f"alsona-preset-{key.replace('_', '-')}"
            )
            for key, text in PRESETS.items()
        }
        for key, button in self.preset_buttons.items():
            button.on_click(lambda _b, key=key: self.apply_preset(key))
        self._quiet = False
        super().__init__([*self.rows.values(), widgets.HBox(list(self.preset_buttons.values()))])
        self.add_class("alsona-schedule")
        self._sync()

    def _day_row(self, day: str) -> widgets.HBox:
        self.checkboxes[day] = widgets.Checkbox(
            description=day.capitalize(),
            value=day not in ("saturday", "sunday"),
            indent=False,
            layout={"width": "110px", "flex": "0 0 auto"},
        ).add_class(f"alsona-day-{day}")
        self.sliders[day] = widgets.IntRangeSlider(
            value=DEFAULT_HOURS,
            min=0,
            max=24,
            step=1,
            description="",
            readout=False,
            continuous_update=False,
            tooltip=f"{day.capitalize()}: from the first hour up to the second",
        ).add_class(f"alsona-hours-{day}")
        self.readouts[day] = widgets.HTML().add_class("alsona-hours-readout")
        self.notes[day] = widgets.HTML().add_class("alsona-day-note")
        self.notes[day].add_class(f"alsona-error-{day}")
        row = widgets.HBox(
            [self.checkboxes[day], self.sliders[day], self.readouts[day], self.notes[day]]
        ).add_class("alsona-row")
        row.add_class("alsona-day-row")
        self.checkboxes[day].observe(self._sync, names="value")
        self.sliders[day].observe(self._sync, names="value")
        return row

    def apply_preset(self, name: str) -> None:
        """``"weekdays"`` (Monday to Friday 9-17), ``"every_day"`` (tick all seven days,
        keeping their hours) or ``"clear"`` (untick all days, keeping their hours).
        Raises ``ValueError`` for another name."""
        if name == "weekdays":
            self.value = {d: w.model_dump() for d, w in WeeklySchedule.weekdays().days().items()}
        elif name in ("every_day", "clear"):
            self.value = {d: [name == "every_day", *v[1:]] for d, v in self.value.items()}
        else:
            raise ValueError(f"unknown preset {name!r}: weekdays, every_day or clear")

    def show_problems(self, problems: Mapping[str, Sequence[str]]) -> None:
        """Show each day's problems (plain sentences) next to its row."""
        for day, note in self.notes.items():
            note.value = "".join(line("error", p, "alsona-error") for p in problems.get(day, ()))

    @traitlets.observe("value")
    def _show(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            for day, (enabled, start, end) in change["new"].items():
                self.checkboxes[day].value = bool(enabled)
                self.sliders[day].value = (start, end)
        finally:
            self._quiet = False
        self._style_rows()

    def _sync(self, _change: Any = None) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            self.value = {
                day: [bool(self.checkboxes[day].value), *map(int, self.sliders[day].value)]
                for day in DAYS
            }
        finally:
            self._quiet = False
        self._style_rows()

    def _style_rows(self) -> None:
        for day, row in self.rows.items():
            on = self.checkboxes[day].value
            start, end = self.sliders[day].value
            self.sliders[day].disabled = not on
            self.readouts[
                day
            ].value = f'<span class="alsona-readout">{esc(f"{start}:00 – {end}:00")}</span>'
            if on:
                row.remove_class("alsona-off")
            else:
                row.add_class("alsona-off")
