"""Seats by name: tick boxes that show labels and send ids, or typed ids when no list is known.

``seats`` may be a mapping label -> seat id (``{"Anna (sales)": "seat_6a13..."}``) or a list of
ids (each then labelled by its id). With no list at all, ids are typed into a tags box.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import traitlets

from .._errors import AlsonaError
from ._render import field_label, line

__all__ = ["SeatPicker", "account_seats", "seat_choices"]


def seat_choices(seats: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    """``seats`` as an ordered mapping seat id -> label."""
    if isinstance(seats, Mapping):
        return {str(seat_id): str(label) for label, seat_id in seats.items()}
    return {str(seat_id): str(seat_id) for seat_id in seats}


def account_seats(
    client: Any, seats: Mapping[str, str] | Sequence[str] | None
) -> tuple[Mapping[str, str] | Sequence[str] | None, str]:
    """The seats a form shows (``None``: typed ids) and a note: ``seats`` when given (an
    empty list: typed ids), otherwise ``client.list_seats()``; when the account's list cannot
    be read, typed ids and why."""
    if seats is not None:
        return (seats or None), ""
    try:
        found: Mapping[str, str] = client.list_seats()
    except AlsonaError as exc:
        return None, f"The account's seats could not be fetched ({exc.message}): type seat ids."
    if not found:
        return None, "The account lists no seats: type seat ids."
    return found, ""


class SeatPicker(widgets.VBox):  # type: ignore[misc]
    """Pick one or more seats; ``value`` is the list of seat ids, in the order picked.

    ``seats``: a mapping label -> id, a list of ids, or ``None`` to type ids. ``note``: a plain
    sentence shown above (for example why no list could be fetched).
    """

    value = traitlets.List(traitlets.Unicode())

    def __init__(
        self, seats: Mapping[str, str] | Sequence[str] | None = None, note: str = ""
    ) -> None:
        self.labels: dict[str, str] = {}  # seat id -> label
        self.boxes: dict[str, widgets.Checkbox] = {}
        self.typed: widgets.TagsInput | None = None
        self._setting = False
        self.note = widgets.HTML(line("info", note) if note else "").add_class("alsona-seats-note")
        self._list = widgets.VBox(
            layout={"max_height": "190px", "overflow": "auto", "flex": "1 1 auto"}
        )
        if seats is None:
            # No duplicates in the page: pressing Enter must add the tag once. A repeated id
            # set from code still reaches the model, which says so in plain words.
            self.typed = widgets.TagsInput(value=[], allow_duplicates=False)
            self.typed.observe(self._sync, names="value")
            self._list.children = (
                widgets.HTML("Type a seat id and press Enter (one or more)."),
                self.typed,
            )
        else:
            self.add_seats(seat_choices(seats))
        title = widgets.HTML(field_label("Seats"), layout={"flex": "0 0 110px"})
        super().__init__([self.note, widgets.HBox([title, self._list])])
        self.add_class("alsona-seats")

    def add_seats(self, choices: Mapping[str, str]) -> None:
        """Add tick boxes for seat ids not shown yet (``choices``: id -> label)."""
        added = []
        for seat_id, label in choices.items():
            if seat_id in self.boxes:
                continue
            self.labels[seat_id] = label
            text = label if label == seat_id else f"{label}  ({seat_id})"
            box = widgets.Checkbox(
                value=False, description=text, indent=False, layout={"width": "auto"}
            ).add_class("alsona-seat")
            box.observe(self._sync, names="value")
            self.boxes[seat_id] = box
            added.append(box)
        if added:
            self._list.children = (*self._list.children, *added)

    def set_ids(self, seat_ids: Sequence[str]) -> None:
        """Pick exactly ``seat_ids`` (ids not in the list are added, labelled by their id);
        the same as setting ``value``."""
        self.value = [str(s) for s in seat_ids]

    @traitlets.observe("value")
    def _show(self, change: dict[str, Any]) -> None:
        if self._setting:
            return
        ids = list(change["new"])
        self._setting = True
        try:
            if self.typed is not None:
                self.typed.value = ids
            else:
                self.add_seats({s: s for s in ids if s not in self.boxes})
                for seat_id, box in self.boxes.items():
                    box.value = seat_id in ids
        finally:
            self._setting = False

    def label(self, seat_id: str) -> str:
        """The label shown for ``seat_id`` (the id itself when it has none)."""
        return self.labels.get(seat_id, seat_id)

    def _sync(self, _change: Any = None) -> None:
        if self._setting:
            return
        self._setting = True
        try:
            if self.typed is not None:
                self.value = [str(s) for s in self.typed.value]
            else:
                picked = [s for s in self.value if s in self.boxes and self.boxes[s].value]
                picked += [s for s, box in self.boxes.items() if box.value and s not in picked]
                self.value = picked
        finally:
            self._setting = False
