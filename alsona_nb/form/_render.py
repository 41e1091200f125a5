"""Pure functions that turn the form's state into HTML: banner, week picture, preview,
message and results table. No widgets here, so each piece is tested as a string.

Colours follow the page's theme: text keeps the theme's own colour (JupyterLab's ``--jp-...``
variables, with fallbacks for Voila and VS Code), and meaning is carried by a tinted background,
a coloured edge and a symbol. Only the LIVE/SANDBOX banner has fixed colours: a safety signal
must look the same in every theme (white on dark red or dark blue, 6.6:1 and 8.6:1).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._models import DAYS, DayWindow

__all__ = [
    "STYLE",
    "banner_html",
    "diff_html",
    "field_label",
    "line",
    "preview_html",
    "preview_text",
    "problems_html",
    "results_html",
    "week_html",
]

_DAY_SHORT = {day: day[:3].capitalize() for day in DAYS}
# Semantic accents (edges, tints, lit hours): never used as the colour of text.
ACCENT = {
    "error": "var(--jp-error-color1, #d32f2f)",
    "warn": "var(--jp-warn-color1, #f57c00)",
    "ok": "var(--jp-success-color1, #388e3c)",
    "info": "var(--jp-brand-color1, #1976d2)",
    "muted": "var(--jp-border-color1, #bdbdbd)",
}
_SYMBOL = {"error": "✘", "warn": "⚠", "ok": "✔", "info": "", "muted": ""}
# The banner: fixed pairs, the same in every theme.
_BANNER = {"live": ("#ffffff", "#b71c1c"), "sandbox": ("#ffffff", "#0d47a1")}

# One <style> for the whole form (scoped by its class): rows that wrap at narrow widths,
# greyed hours of unticked days, a preview that grows with its content.
STYLE = """<style>
.alsona-form { max-width: 980px; }
.alsona-form .alsona-row { flex-wrap: wrap; align-items: center; column-gap: 8px; }
.alsona-form .alsona-day-row { flex-wrap: wrap; }
.alsona-form .alsona-day-row .widget-checkbox { flex: 0 0 110px; }
.alsona-form .alsona-day-row .widget-slider { flex: 1 1 200px; max-width: 360px; min-width: 0; }
.alsona-form .alsona-day-note { flex: 0 0 100%; padding-left: 118px; box-sizing: border-box; }
.alsona-form .alsona-off .widget-readout,
.alsona-form .alsona-off .widget-label { color: var(--jp-ui-font-color3, #9e9e9e); }
.alsona-form .alsona-line { padding: 3px 8px; margin: 2px 0; border-left: 4px solid;
  border-radius: 2px; white-space: normal; line-height: 1.35; }
.alsona-form .alsona-preview-json { margin: 0; line-height: 1.3; font-family: monospace;
  white-space: pre; overflow-x: auto; }
.alsona-form table.alsona-results-table { border-collapse: collapse; }
.alsona-form table.alsona-results-table th,
.alsona-form table.alsona-results-table td { text-align: left; padding: 2px 10px 2px 0;
  vertical-align: top; }
.alsona-form .alsona-id { font-family: monospace; user-select: all; }
.alsona-form .alsona-hours-readout { flex: 0 0 110px; font-variant-numeric: tabular-nums; }
.alsona-form .alsona-off .alsona-hours-readout { color: var(--jp-ui-font-color2, #757575); }
/* A focus ring that shows on every button, the blue one too: the page's own text colour,
   drawn outside the button, on the page's background. */
.alsona-form button.jupyter-button:focus-visible, .alsona-form .noUi-handle:focus-visible,
.alsona-form input:focus-visible, .alsona-form .alsona-message:focus-visible {
  outline: 3px solid var(--jp-ui-font-color0, #000) !important; outline-offset: 2px; }
/* The chosen status: the theme's text colour as its background (inverted), so it stands out
   from the other buttons in light and dark themes alike. */
.alsona-form .alsona-status .widget-toggle-button.mod-active {
  background: var(--jp-ui-font-color1, #212121); color: var(--jp-layout-color1, #ffffff);
  font-weight: bold; box-shadow: none; }
.alsona-form .alsona-diff { margin: 2px 0; }
.alsona-form .alsona-diff td { padding: 1px 10px 1px 0; vertical-align: top; }
</style>"""


def field_label(text: str) -> str:
    """A label lined up with ipywidgets' own descriptions (110 px, right-aligned)."""
    return (
        '<div class="alsona-label" style="width:110px;text-align:right;padding-right:8px;'
        f'box-sizing:border-box">{esc(text)}</div>'
    )


def esc(text: object) -> str:
    """``text`` escaped for HTML (quotes too)."""
    return html.escape(str(text), quote=True)


def line(kind: str, text: str, cls: str = "", *, mark: bool = True) -> str:
    """One message line: ``kind`` is error, warn, ok, info or muted; ``text`` is escaped and,
    with ``mark``, starts with the kind's symbol (✘, ⚠, ✔)."""
    if not text:
        return ""
    accent = ACCENT[kind]
    symbol = _SYMBOL[kind] if mark else ""
    shown = text if not symbol or text.startswith(symbol) else f"{symbol} {text}"
    style = f"border-left-color:{accent};background:color-mix(in srgb, {accent} 13%, transparent)"
    return f'<div class="alsona-line {cls}" data-kind="{kind}" style="{style}">{esc(shown)}</div>'


def banner_html(*, live: bool, account: str | None, base_url: str) -> str:
    """The LIVE / SANDBOX banner: which server and which account the button sends to."""
    fg, bg = _BANNER["live" if live else "sandbox"]
    who = esc(account or "(no account id)")
    if live:
        text = f"LIVE: the button really creates campaigns at {esc(base_url)} in account {who}."
    else:
        text = f"SANDBOX: a local test server, nothing is sent to Alsona. Account {who}."
    mode = "live" if live else "sandbox"
    return (
        f'<div data-mode="{mode}" style="padding:8px 12px;border-radius:3px;font-weight:bold;'
        f'font-size:1.05em;color:{fg};background:{bg}">{text}</div>'
    )


def problems_html(problems: Sequence[str], *, touched: bool = True) -> str:
    """The problems that keep the button disabled, as a list next to it: red once a field in
    error was touched, otherwise a neutral list of what is still needed."""
    if not problems:
        return ""
    items = "".join(f"<li>{esc(p)}</li>" for p in problems)
    kind, head, cls = (
        ("error", "Not ready to create:", "alsona-problems")
        if touched
        else ("info", "Still needed before it can be sent:", "alsona-needed")
    )
    accent = ACCENT[kind]
    return (
        f'<div class="alsona-line {cls}" data-kind="{kind}" style="border-left-color:'
        f'{accent};background:color-mix(in srgb, {accent} 13%, transparent)">'
        f'{head}<ul style="margin:2px 0 2px 18px;padding:0">{items}</ul></div>'
    )


_FIELD_WORDS = {
    "name": "Name",
    "status": "Status",
    "seats": "Seats",
    "schedule": "Schedule",
    "timezone": "Time offset",
    "zone": "Time zone",
}


def _day(value: Any) -> str:
    """A schedule day ``[enabled, start, end]`` as "9:00–17:00" or "off"."""
    if isinstance(value, (list, tuple)) and len(value) == 3:
        enabled, start, end = value
        return f"{start}:00–{end}:00" if enabled else "off"
    return str(value)


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):  # a schedule: only the days that differ are worth reading
        return ", ".join(f"{str(day)[:3].capitalize()} {_day(v)}" for day, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "(none)"
    return "(none)" if value is None else str(value)


def diff_html(diff: Mapping[str, tuple[Any, Any]], *, title: str, empty: str) -> str:
    """What an update changes, one row a field: ``field: before → after``."""
    if not diff:
        return line("muted", empty, "alsona-diff-none")
    rows = []
    for field, (before, after) in diff.items():
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            days = [d for d in after if before.get(d) != after.get(d)]
            before = {d: before.get(d) for d in days}
            after = {d: after.get(d) for d in days}
        rows.append(
            f'<tr data-field="{esc(field)}"><td><b>{esc(_FIELD_WORDS.get(field, field))}:</b> </td>'
            f"<td>{esc(_shown(before))}</td><td> → </td><td>{esc(_shown(after))}</td></tr>"
        )
    accent = ACCENT["info"]
    return (
        f'<div class="alsona-line alsona-diff" data-kind="info" style="border-left-color:{accent};'
        f'background:color-mix(in srgb, {accent} 13%, transparent)">{esc(title)}'
        f"<table>{''.join(rows)}</table></div>"
    )


_FLAT_LIST = re.compile(r"\[[^\[\]{}]*\]")


def _one_line(match: re.Match[str]) -> str:
    """A list of plain values on one line: ``[true, 9, 17]`` rather than five lines."""
    try:
        return json.dumps(json.loads(match.group(0)), ensure_ascii=False)
    except ValueError:  # a bracket inside a string: leave it as it was
        return match.group(0)


def preview_text(payload: Mapping[str, Any] | None) -> str:
    """The body as indented JSON, short lists on one line ("" for no body)."""
    if payload is None:
        return ""
    return _FLAT_LIST.sub(_one_line, json.dumps(payload, indent=2, ensure_ascii=False))


def preview_html(payload: Mapping[str, Any] | None, why_not: str = "") -> str:
    """The request body, or a one-line reason why there is none yet."""
    if payload is None:
        return line("muted", why_not or "No request body yet.", "alsona-preview-none")
    return f'<pre class="alsona-preview-json">{esc(preview_text(payload))}</pre>'


def week_html(schedule: Mapping[str, Sequence[Any]], notes: Mapping[str, str]) -> str:
    """Seven lines of 24 two-character cells, readable as plain text.

    ``schedule`` maps a day to ``[enabled, start, end]``; ``notes`` maps a day to why a ticked
    day has no hours (its problem), shown instead of the hours.
    """
    axis = "".join(f"{h:<6}" for h in range(0, 24, 3))
    muted = "var(--jp-ui-font-color2, #757575)"
    rows = [f'<span style="color:{muted}">     {axis}</span>']
    total = 0
    for day in DAYS:
        enabled, start, end = schedule[day]
        # model_construct: the model's own notion of the hours, without validating.
        on = DayWindow.model_construct(enabled=enabled, start_hour=start, end_hour=end).hours
        total += len(on)
        cells = "".join(
            f'<span data-hour="{h}" data-on="{int(h in on)}" style="color:'
            f'{ACCENT["ok"] if h in on else ACCENT["muted"]}">{"██" if h in on else "··"}</span>'
            for h in range(24)
        )
        if on:
            when = f"{on.start}:00 to {on.stop}:00"
        elif enabled:
            when = f"no hours: {notes.get(day) or 'the end hour must be after the start hour'}"
        else:
            when = "off (not ticked)"
        hours = " ".join(map(str, on))
        rows.append(
            f'<span data-day="{day}" data-hours="{hours}">{_DAY_SHORT[day]}  {cells}  '
            f"{esc(when)}</span>"
        )
    rows.append(f'<span class="alsona-week-total">{total} hours a week</span>')
    return (
        '<pre class="alsona-week-grid" style="margin:0;line-height:1.25;font-family:monospace">'
        + "\n".join(rows)
        + "</pre>"
    )


# Results: what a person reads, in this order.
_RESULT_HEADERS = ("Time", "Campaign", "Status", "Seats", "Campaign ID", "Result")


def results_html(rows: Sequence[Mapping[str, Any]]) -> str:
    """The form's attempts as a small table.

    Each row: ``when`` (HH:MM:SS), ``name``, ``status``, ``seats`` (labels), ``campaign_id``
    (or None), ``kind`` (ok, error, warn) and ``result`` (a plain sentence).
    """
    if not rows:
        return '<div class="alsona-results-empty">No campaigns sent from this form yet.</div>'
    head = "".join(f"<th>{h}</th>" for h in _RESULT_HEADERS)
    body = []
    for row in rows:
        cid = row.get("campaign_id")
        id_cell = f'<span class="alsona-id" title="{esc(cid)}">{esc(cid)}</span>' if cid else "—"
        symbol = _SYMBOL.get(str(row.get("kind")), "")
        cells = [
            esc(row.get("when") or ""),
            esc(row.get("name") or "—"),
            esc(row.get("status") or "—"),
            esc(", ".join(row.get("seats") or ()) or "—"),
            id_cell,
            esc(f"{symbol} {row.get('result') or ''}".strip()),
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        '<table class="alsona-results-table"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )
