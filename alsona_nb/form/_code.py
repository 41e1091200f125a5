"""The form's draft as Python: what "Show as Python" shows (a pure function)."""

from __future__ import annotations

from collections.abc import Sequence

from .._models import CampaignDraft, WeeklySchedule

__all__ = ["draft_code"]


def _schedule_code(schedule: WeeklySchedule) -> str:
    first = schedule.monday.start_hour, schedule.monday.end_hour
    if schedule == WeeklySchedule.weekdays(*first):
        return "WeeklySchedule.weekdays({}, {})".format(*first)
    if schedule == WeeklySchedule.every_day(*first):
        return "WeeklySchedule.every_day({}, {})".format(*first)
    days = "".join(f"        {day!r}: {w.model_dump()!r},\n" for day, w in schedule.days().items())
    return "WeeklySchedule.model_validate({\n" + days + "    })"


def draft_code(draft: CampaignDraft | None, problems: Sequence[str] = ()) -> str:
    """Python that builds ``draft`` (``CampaignDraft(...)``); for no draft, the problems to
    fix first, as comments."""
    if draft is None:
        return "# fix the problems shown in the form first:\n" + "\n".join(
            f"# - {e}" for e in problems
        )
    lines = [
        "from alsona_nb import CampaignDraft, CampaignStatus, WeeklySchedule",
        "",
        "draft = CampaignDraft(",
        f"    name={draft.name!r},",
        f"    seats={list(draft.seats)!r},",
        f"    schedule={_schedule_code(draft.schedule)},",
        f"    status=CampaignStatus.{draft.status.name},",
    ]
    for field in ("timezone", "zone", "campaign_id", "account_id", "created_at"):
        value = getattr(draft, field, None)
        if value is not None:
            lines.append(f"    {field}={value!r},")
    return "\n".join([*lines, ")"])
