"""Time zone names to the fixed UTC offsets the API takes (NOTES 8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@dataclass(frozen=True)
class ZoneOffset:
    """A zone's UTC offset in minutes on one date, and whether the zone moves with DST."""

    zone: str
    on: date
    minutes: int
    observes_dst: bool

    @property
    def warning(self) -> str | None:
        """A plain sentence when the offset will not follow daylight saving, else ``None``."""
        if not self.observes_dst:
            return None
        return (
            f"{self.zone} observes daylight saving time: the API takes a fixed offset, so "
            f"{self.minutes:+d} min (its offset on {self.on.isoformat()}) will not follow "
            "the clock change."
        )

    def __str__(self) -> str:
        sign = "+" if self.minutes >= 0 else "-"
        hours, minutes = divmod(abs(self.minutes), 60)
        return f"{self.zone}: UTC{sign}{hours:02d}:{minutes:02d} ({self.minutes:+d} min)"


def zone_offset(zone: str, on: date | None = None) -> ZoneOffset:
    """The offset in minutes of IANA ``zone`` (``"America/New_York"``) at noon on ``on``
    (today when not given), and whether that zone observes DST in that year."""
    if on is None:
        on = date.today()
    elif isinstance(on, datetime):
        on = on.date()
    try:
        info = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {zone!r}: use an IANA name such as 'Europe/Paris'"
        ) from exc
    offset = _offset_minutes(info, on)
    offsets = {_offset_minutes(info, date(on.year, month, 1)) for month in range(1, 13)}
    return ZoneOffset(zone=zone, on=on, minutes=offset, observes_dst=len(offsets) > 1)


def _offset_minutes(info: ZoneInfo, day: date) -> int:
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=info)
    return int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """All IANA zone names known to this machine, ``UTC`` first, then sorted."""
    names = sorted(
        n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/"))
    )
    return ("UTC", *names)
