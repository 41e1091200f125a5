"""Time zones: the words people type to a zone, and a zone to the fixed UTC offset the API takes.

The API keeps an offset in minutes, not a zone, so it does not follow daylight saving. A zone's
offset "on a date" is its offset at local noon of that date: on the day of a clock change that
is the new offset (changes happen at night). Besides IANA names (``"Europe/Paris"``) a zone may
be a fixed offset written ``"UTC+02:00"`` / ``"UTC-05:30"``, which never changes.

``find_zone`` reads the names people type with the help of the CLDR data Babel ships
(exemplar cities, zone and metazone names, country names, Windows zone names). Babel is
imported on the first search only, so ``import alsona_nb`` stays fast.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

if TYPE_CHECKING:
    from babel import Locale

__all__ = [
    "ZoneOffset",
    "find_zone",
    "fixed_zone",
    "next_change",
    "offset_minutes",
    "zone_names",
    "zone_offset",
]

# The offsets the API accepts (and the widest real zones: UTC-12 to UTC+14).
_LOWEST, _HIGHEST = -720, 840
_FIXED = re.compile(r"UTC([+-])(\d{2}):(\d{2})")
# How far ahead ``next_change`` looks: every zone with daylight saving changes within a year.
_HORIZON_DAYS = 2 * 366


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
        return f"{self.zone}: {_clock(self.minutes)} ({self.minutes:+d} min)"


def _clock(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def fixed_zone(minutes: int) -> str:
    """The name of a fixed offset: ``"UTC+02:00"`` for 120, ``"UTC"`` for 0.
    Raises ``ValueError`` outside -720..+840 minutes."""
    if not _LOWEST <= minutes <= _HIGHEST:
        raise ValueError(f"an offset must be between {_LOWEST} and +{_HIGHEST} minutes")
    return "UTC" if minutes == 0 else _clock(minutes)


def _day(on: date | None) -> date:
    if on is None:
        return date.today()
    return on.date() if isinstance(on, datetime) else on


def _resolve(zone: str) -> ZoneInfo | int:
    """A zone's ``ZoneInfo``, or the minutes of a fixed ``"UTC+02:00"`` offset."""
    fixed = _FIXED.fullmatch(zone)
    if fixed:
        sign, hours, mins = fixed.groups()
        minutes = (int(hours) * 60 + int(mins)) * (1 if sign == "+" else -1)
        if int(mins) < 60 and _LOWEST <= minutes <= _HIGHEST:
            return minutes
    else:
        try:
            return ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    # The sentence stays as it was before fixed offsets were zones: saved outputs quote it.
    raise ValueError(f"unknown time zone {zone!r}: use an IANA name such as 'Europe/Paris'")


def _noon_offset(info: ZoneInfo | int, day: date) -> int:
    if isinstance(info, int):
        return info
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=info)
    return int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)


def zone_offset(zone: str, on: date | None = None) -> ZoneOffset:
    """The offset in minutes of ``zone`` (an IANA name such as ``"America/New_York"``, or a
    fixed ``"UTC+02:00"``) at local noon on ``on`` (today when not given), and whether that
    zone observes DST in that year. Raises ``ValueError`` for an unknown zone."""
    on = _day(on)
    info = _resolve(zone)
    offset = _noon_offset(info, on)
    offsets = {_noon_offset(info, date(on.year, month, 1)) for month in range(1, 13)}
    return ZoneOffset(zone=zone, on=on, minutes=offset, observes_dst=len(offsets) > 1)


def offset_minutes(zone: str, on: date) -> int:
    """The UTC offset in minutes of ``zone`` at local noon on ``on`` (so on the day of a clock
    change, the offset after it). Raises ``ValueError`` for an unknown zone."""
    return _noon_offset(_resolve(zone), _day(on))


def next_change(zone: str, after: date) -> date | None:
    """The first day after ``after`` whose offset (at local noon) differs from the day
    before's: the date of the zone's next clock change. ``None`` when the offset stays the
    same for two years, as for ``Asia/Tokyo`` or a fixed ``"UTC+02:00"``. Raises
    ``ValueError`` for an unknown zone."""
    return _next_change(_resolve(zone), _day(after))


@lru_cache(maxsize=1024)
def _next_change(info: ZoneInfo | int, after: date) -> date | None:
    if isinstance(info, int):
        return None
    before = _noon_offset(info, after)
    for step in range(1, _HORIZON_DAYS + 1):
        day = after + timedelta(days=step)
        offset = _noon_offset(info, day)
        if offset != before:
            return day
    return None


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """All IANA zone names known to this machine, ``UTC`` first, then sorted."""
    names = sorted(
        n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/"))
    )
    return ("UTC", *names)


# -- finding a zone by the words people type ----------------------------------------------------

# Abbreviations CLDR's English data lacks or gives two meanings: the most common meaning wins
# (IST is India Standard Time, not Irish or Israel; BST British Summer Time, not Bangladesh;
# CST US Central, not China; GMT and UTC a fixed UTC+00:00, not London's clock).
_ABBREVIATIONS = {
    "UTC": "UTC", "GMT": "UTC", "Z": "UTC", "ZULU": "UTC",
    "IST": "Asia/Kolkata", "BST": "Europe/London", "CST": "America/Chicago",
    "JST": "Asia/Tokyo", "KST": "Asia/Seoul", "MSK": "Europe/Moscow", "PKT": "Asia/Karachi",
    "ICT": "Asia/Bangkok", "PHT": "Asia/Manila", "PHST": "Asia/Manila", "BRT": "America/Sao_Paulo",
    "ART": "America/Argentina/Buenos_Aires", "CLT": "America/Santiago", "COT": "America/Bogota",
    "PET": "America/Lima", "TRT": "Europe/Istanbul", "IRST": "Asia/Tehran",
    "NPT": "Asia/Kathmandu", "IDT": "Asia/Jerusalem", "CET": "Europe/Paris",
    "CEST": "Europe/Paris", "WET": "Europe/Lisbon", "WEST": "Europe/Lisbon",
    "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney", "HKT": "Asia/Hong_Kong",
    "SGT": "Asia/Singapore", "HST": "Pacific/Honolulu", "AKST": "America/Anchorage",
    "AKDT": "America/Anchorage",
}  # fmt: skip
_UTC_WORDS = ("Coordinated Universal Time", "Universal Time", "Greenwich Mean Time", "Universal")

# The zone a metazone name means when the metazone spans several zones: CLDR's own choice
# (supplemental/metaZones.xml, the territory "001" entries, which Babel does not ship), except
# the largest city where CLDR picks a smaller one (Alaska, Western Europe, Malaysia, Chamorro),
# American Samoa for Babel's "Samoa" (American Samoa Time), and GMT as a fixed UTC+00:00.
_MAIN_ZONE = {
    "Acre": "America/Rio_Branco", "Africa_Central": "Africa/Maputo",
    "Africa_Eastern": "Africa/Nairobi", "Africa_Southern": "Africa/Johannesburg",
    "Africa_Western": "Africa/Lagos", "Alaska": "America/Anchorage", "Amazon": "America/Manaus",
    "America_Central": "America/Chicago", "America_Eastern": "America/New_York",
    "America_Mountain": "America/Denver", "America_Pacific": "America/Los_Angeles",
    "Arabian": "Asia/Riyadh", "Argentina": "America/Argentina/Buenos_Aires",
    "Atlantic": "America/Halifax", "Australia_Central": "Australia/Adelaide",
    "Australia_Eastern": "Australia/Sydney", "Australia_Western": "Australia/Perth",
    "Brasilia": "America/Sao_Paulo", "British": "Europe/London", "Chamorro": "Pacific/Guam",
    "Chile": "America/Santiago", "China": "Asia/Shanghai", "Europe_Central": "Europe/Paris",
    "Europe_Eastern": "Europe/Bucharest", "Europe_Western": "Europe/Lisbon", "GMT": "UTC",
    "Greenland": "America/Nuuk", "Greenland_Western": "America/Nuuk", "Gulf": "Asia/Dubai",
    "India": "Asia/Kolkata", "Indochina": "Asia/Ho_Chi_Minh", "Indonesia_Western": "Asia/Jakarta",
    "Kazakhstan": "Asia/Almaty", "Korea": "Asia/Seoul", "Malaysia": "Asia/Kuala_Lumpur",
    "Marshall_Islands": "Pacific/Majuro", "Mexico_Pacific": "America/Mazatlan",
    "New_Zealand": "Pacific/Auckland", "Samoa": "Pacific/Pago_Pago", "Uzbekistan": "Asia/Tashkent",
    "Yukon": "America/Whitehorse", "Hawaii_Aleutian": "Pacific/Honolulu",
}  # fmt: skip

# Large cities and business hubs that are not CLDR exemplar cities (hand-picked; each one's
# zone is the zone of its region in the IANA tz database's zone.tab).
_CITIES = {
    "America/Los_Angeles": "San Francisco, San Jose, Silicon Valley, Seattle, San Diego, "
    "Las Vegas, Sacramento, Portland Oregon",
    "America/New_York": "Washington, Washington DC, Boston, Philadelphia, Atlanta, Miami, "
    "Pittsburgh, Charlotte, Orlando, Baltimore",
    "America/Chicago": "Dallas, Houston, Austin, San Antonio, Minneapolis, St. Louis, "
    "New Orleans, Nashville, Kansas City",
    "America/Denver": "Salt Lake City, Albuquerque",
    "America/Toronto": "Ottawa, Montreal, Quebec City",
    "America/Edmonton": "Calgary",
    "America/Sao_Paulo": "Rio de Janeiro, Brasilia",
    "Europe/Berlin": "Munich, Frankfurt, Hamburg, Cologne, Dusseldorf, Stuttgart",
    "Europe/Paris": "Lyon, Marseille, Toulouse, Nice",
    "Europe/London": "Manchester, Birmingham, Edinburgh, Glasgow, Liverpool, Leeds, Bristol, "
    "UK, Britain, England, Scotland, Wales",
    "Europe/Madrid": "Barcelona, Valencia, Seville",
    "Europe/Rome": "Milan, Naples, Turin, Florence",
    "Europe/Zurich": "Geneva, Basel, Bern",
    "Europe/Amsterdam": "Rotterdam, The Hague, Utrecht, Eindhoven",
    "Europe/Warsaw": "Krakow, Wroclaw",
    "Europe/Moscow": "Saint Petersburg, St. Petersburg",
    "Asia/Kolkata": "Mumbai, Bombay, Delhi, New Delhi, Bangalore, Bengaluru, Chennai, Madras, "
    "Hyderabad, Pune, Ahmedabad, Gurgaon, Gurugram, Noida",
    "Asia/Shanghai": "Beijing, Shenzhen, Guangzhou, Hangzhou, Chengdu",
    "Asia/Tokyo": "Osaka, Kyoto, Yokohama",
    "Asia/Ho_Chi_Minh": "Hanoi",
    "Asia/Dubai": "Abu Dhabi",
    "Asia/Karachi": "Lahore, Islamabad",
    "Asia/Jerusalem": "Tel Aviv",
    "Asia/Riyadh": "Jeddah",
    "Australia/Sydney": "Canberra",
    "Australia/Brisbane": "Gold Coast",
    "Pacific/Auckland": "Wellington, Christchurch",
    "Africa/Johannesburg": "Cape Town, Durban, Pretoria",
    "Africa/Lagos": "Abuja",
}
# English locales whose CLDR data carries zone abbreviations (AEST, CET, SAST...).
_ENGLISH = ("en", "en_GB", "en_150", "en_AU", "en_CA", "en_IN", "en_KE", "en_HK", "en_SG",
            "en_MY", "en_ID", "en_GU", "en_NZ")  # fmt: skip
_OFFSET = re.compile(r"(?:UTC|GMT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?|([+-])(\d{2}):(\d{2})", re.I)


def _key(text: str) -> str:
    """What is compared: case, accents, ``_``, ``/``, ``-``, dots and apostrophes ignored."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[.'’]", "", text)
    return " ".join(re.sub(r"[\s_/,\-()]+", " ", text).split())


def _parse_offset(text: str) -> str | None:
    found = _OFFSET.fullmatch(text.strip().replace("−", "-"))
    if not found:
        return None
    sign, hours, mins = found.group(1, 2, 3) if found.group(1) else found.group(4, 5, 6)
    minutes = int(hours) * 60 + int(mins or 0)
    if int(mins or 0) >= 60 or not _LOWEST <= (-minutes if sign == "-" else minutes) <= _HIGHEST:
        return None
    return fixed_zone(-minutes if sign == "-" else minutes)


@dataclass
class _Index:
    """Words to zones, in tiers: a word found in an earlier tier is never looked up later."""

    exact: dict[str, str] = field(default_factory=dict)  # IANA names, case-insensitive
    tiers: tuple[dict[str, list[str]], ...] = ()
    cities: list[tuple[str, str]] = field(default_factory=list)  # (key, zone) for partial text
    main: frozenset[str] = frozenset()  # the zones CLDR names metazones after, chosen first


def _add(table: dict[str, list[str]], word: str, zone: str) -> None:
    key = _key(word)
    if key and zone not in table.setdefault(key, []):
        table[key].append(zone)


@lru_cache(maxsize=1)
def _tab_zones() -> frozenset[str]:
    """The zone names of the tz database's ``zone.tab``: the current names, not old aliases."""
    try:
        from importlib.resources import files

        text = files("tzdata").joinpath("zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ImportError, OSError):
        return frozenset()
    rows = (line.split("\t") for line in text.splitlines() if not line.startswith("#"))
    return frozenset(row[2] for row in rows if len(row) > 2)


def _canonical(name: str, partners: dict[str, set[str]]) -> str:
    """The current IANA name for a CLDR one (CLDR and old Babel keep ``Asia/Calcutta``)."""
    if name in ("Etc/UTC", "Etc/GMT"):
        return "UTC"
    tab = _tab_zones()
    if name in tab:
        return name
    current = sorted(p for p in partners.get(name, ()) if p in tab)
    return current[0] if current else name


@lru_cache(maxsize=1)
def _index() -> _Index:
    from babel import Locale, localedata
    from babel.core import get_global

    partners: dict[str, set[str]] = {}
    for alias, target in get_global("zone_aliases").items():
        partners.setdefault(alias, set()).add(target)
        partners.setdefault(target, set()).add(alias)
    known = frozenset(available_timezones()) | {"UTC"}

    def canon(name: str) -> str | None:
        zone = _canonical(name, partners)
        return zone if zone in known else None

    meta = {z: m for n, m in get_global("meta_zones").items() if (z := canon(n))}
    zones = sorted({*meta, *filter(None, map(canon, get_global("zone_territories")))} - {"UTC"})
    english = Locale("en")
    first: dict[str, list[str]] = {}
    cities = _city_names(first, zones, english)
    main = _main_zones(meta)
    for code in (c for c in _ENGLISH if localedata.exists(c)):
        for word, zone in _locale_names(Locale.parse(code), main, canon):
            _add(first, word, zone)
    for word, zone in (*_ABBREVIATIONS.items(), *((w, "UTC") for w in _UTC_WORDS)):
        first[_key(word)] = [zone]
    second: dict[str, list[str]] = {}
    for code, members in get_global("territory_zones").items():
        country = english.territories.get(code)
        if country and len(code) == 2:  # countries, not regions such as "001" (the world)
            for zone in filter(None, map(canon, members)):
                _add(second, country, zone)
    for name, zone in get_global("windows_zone_mapping").items():
        if (current := canon(zone)) and not name.startswith("UTC"):
            _add(second, name, current)
    for alias in partners:  # old names' cities: Calcutta, Saigon, Kiev
        if "/" in alias and (current := canon(alias)):
            _add(second, alias.rsplit("/", 1)[-1], current)
    exact = {_key(n): n for n in sorted(known) if "/" in n or n == "UTC"}
    exact.update({n.casefold(): n for n in sorted(known) if "/" in n})
    # A hand-written zone this machine's tz database lacks is no answer.
    tiers = tuple(
        {key: kept for key, zones in tier.items() if (kept := [z for z in zones if z in known])}
        for tier in (first, second)
    )
    return _Index(exact, tiers, cities, frozenset(main.values()))


def _city_names(
    table: dict[str, list[str]], zones: list[str], english: Locale
) -> list[tuple[str, str]]:
    """Adds every zone's city (its name's last part and CLDR's English exemplar city, such
    as "Kolkata", "Ho Chi Minh City") and the major cities of ``_CITIES`` to ``table``, and
    returns (key, zone) for partial matches: each zone's full name and its cities."""
    from babel.dates import get_timezone_location

    partial: list[tuple[str, str]] = []
    for zone in zones:
        partial.append((_key(zone), zone))
        for city in {zone.rsplit("/", 1)[-1], get_timezone_location(zone, english, True)}:
            _add(table, city, zone)
            partial.append((_key(city), zone))
    for zone, words in _CITIES.items():
        for city in words.split(","):
            _add(table, city, zone)
    return partial


def _main_zones(meta: dict[str, str]) -> dict[str, str]:
    """Each metazone's zone: CLDR's choice, its only zone, or the zone named like it."""
    members: dict[str, list[str]] = {}
    for zone, metazone in sorted(meta.items()):
        members.setdefault(metazone, []).append(zone)
    main: dict[str, str] = {}
    for metazone, zones in members.items():
        named = [z for z in zones if _key(z.rsplit("/", 1)[-1]) == _key(metazone)]
        if metazone in _MAIN_ZONE:
            main[metazone] = _MAIN_ZONE[metazone]
        elif len(zones) == 1 or named:
            main[metazone] = (named or zones)[0]
    return main


def _locale_names(
    locale: Locale, main: dict[str, str], canon: Callable[[str], str | None]
) -> Iterator[tuple[str, str]]:
    """(name, zone) for a locale's metazone and zone names: long ones ("Pacific Time",
    "Central European Summer Time") and abbreviations ("PST", "AEST")."""
    for metazone, info in locale.meta_zones.items():
        if metazone in main:
            yield from ((name, main[metazone]) for name in _variants(info))
    for name, info in locale.time_zones.items():
        if zone := canon(name):
            yield from ((word, zone) for word in _variants(info))


def _variants(info: Mapping[str, Any]) -> Iterator[str]:
    for width in ("long", "short"):
        names = info.get(width) or {}
        for variant in ("generic", "standard", "daylight"):
            name = names.get(variant)
            if isinstance(name, str) and name.isascii() and name != "∅∅∅":
                yield name


@lru_cache(maxsize=2048)
def _clocks(zone: str) -> tuple[int, ...]:
    """A zone's offsets through this year and the next, weekly: equal for zones that keep
    the same clock."""
    info = _resolve(zone)
    start = date(date.today().year, 1, 1)
    return tuple(_noon_offset(info, start + timedelta(weeks=w)) for w in range(105))


def _one(zones: list[str], main: frozenset[str]) -> str | None:
    """The zone several names mean when they all keep one clock (a metazone's main zone
    first: "Eastern" is ``America/New_York``, not ``America/Toronto``), else ``None``."""
    if len({_clocks(z) for z in zones}) > 1:
        return None
    return next((z for z in zones if z in main), zones[0])


def find_zone(text: str) -> str | None:
    """The zone ``text`` means, or ``None`` when it is unknown or ambiguous.

    Understood, case and accents ignored: IANA names (``"america/new_york"``); the UTC
    offsets ``"UTC+2"``, ``"GMT-5"``, ``"UTC+5:30"``, ``"+02:00"``, answered as a fixed zone
    ``"UTC+02:00"`` (``"UTC"`` for zero, and for ``"GMT"`` and ``"UTC"`` themselves); cities
    (``"Paris"``, ``"San Francisco"``, ``"Mumbai"``); zone names (``"Pacific Time"``,
    ``"Central European Time"``, ``"India Standard Time"``); abbreviations, with their most
    common meaning (``"EST"`` is ``America/New_York``, ``"IST"`` ``Asia/Kolkata``, ``"BST"``
    ``Europe/London``, ``"CST"`` ``America/Chicago``); countries with one clock
    (``"Japan"``); and, failing all these, a part of one zone's name (``"york"``).
    An abbreviation or a summer-time name gives the zone, which follows daylight saving: use
    ``"UTC-05:00"`` for a clock that stays put.

    Ambiguous text returns ``None``: a name whose places keep different clocks
    (``"Europe"``, ``"United States"``). Never raises for any text.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    fixed = _parse_offset(text)
    if fixed or _OFFSET.fullmatch(text.strip().replace("−", "-")):
        return fixed
    index = _index()
    typed = text.strip().replace(" ", "_").casefold()
    if typed in index.exact:
        return index.exact[typed]
    key = _key(text)
    if key in index.exact:
        return index.exact[key]
    for word in (key, key.removesuffix(" time")):
        for tier in index.tiers:
            if word in tier:
                return _one(tier[word], index.main)
    if len(key) < 3:
        return None
    partial = list(dict.fromkeys(z for k, z in index.cities if key in k))
    return _one(partial, index.main) if partial else None
