"""Property-based tests of the models, ``prepare`` and the form: any input either validates
or is explained in plain sentences, one per problem and none lost; nothing else is raised,
and valid drafts survive the wire both ways."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import JARGON
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from alsona_nb import (
    AlsonaClient,
    CampaignDraft,
    CampaignStatus,
    InvalidDraftError,
    Outcome,
    PreparedCreate,
    Sandbox,
    problems,
    zone_offset,
)
from alsona_nb._models import DAYS

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

FIELDS = {"", "schedule", *CampaignDraft.model_fields, *DAYS}

names = st.one_of(
    st.text(max_size=40),
    st.text(min_size=5000, max_size=6000, alphabet=st.characters(codec="utf-8")),
    st.sampled_from(
        ["", " ", "\n\t", "Ünïcødé 🚀 campaign", "名前", "\u200b", "a\x00b", "x\ud800y", None, 7]
    ),
)
ids = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["seat_6a13e661ecc6a86e3fb7", "SEAT1", "a b", "", "schedule.monday", "Input should"]
    ),
)
hours = st.one_of(
    st.integers(-5, 30), st.booleans(), st.floats(allow_nan=True), st.text(max_size=3)
)
day_values = st.one_of(
    st.tuples(st.booleans(), hours, hours).map(list),
    st.lists(st.one_of(st.booleans(), st.integers(-2, 26)), max_size=5),
    st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "start_hour": hours}),
    st.none(),
    st.text(max_size=5),
)
statuses = st.one_of(
    st.sampled_from([s.value for s in CampaignStatus]),
    st.sampled_from(["draft", " run ", "PAUSED", "", "Ｒｕｎ"]),
    st.text(max_size=8),
)
timezones = st.one_of(
    st.none(), st.integers(-2000, 2000), st.booleans(), st.floats(), st.text(max_size=6)
)
schedules = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(DAYS), st.text(max_size=8)), day_values),
    st.fixed_dictionaries({d: day_values for d in DAYS}),
    st.none(),
    st.text(max_size=5),
)
raw_campaigns = st.fixed_dictionaries(
    {
        "name": names,
        "seats": st.one_of(st.lists(ids, max_size=4), ids, st.none()),
        "schedule": schedules,
        "status": statuses,
    },
    optional={
        "timezone": timezones,
        "campaign_id": ids,
        "account_id": ids,
        "created_at": st.one_of(st.integers(-10, 2**63), st.text(max_size=4)),
        "nmae": st.text(max_size=3),
    },
)


def _user_texts(raw: Any) -> set[str]:
    """Every piece of text in the input (keys too): a sentence may quote them."""
    if isinstance(raw, str):
        return {raw}
    if isinstance(raw, dict):
        return {t for k, v in raw.items() for t in _user_texts(k) | _user_texts(v)}
    if isinstance(raw, (list, tuple)):
        return {t for v in raw for t in _user_texts(v)}
    return set()


def _allowed_fields(raw: dict[str, Any]) -> set[str]:
    schedule = raw.get("schedule")
    days = {str(k) for k in schedule} if isinstance(schedule, dict) else set()
    return FIELDS | {str(k) for k in raw} | days


def check_plain(found: list[tuple[str, str]], raw: Any) -> None:
    """Each problem is one plain sentence about a field of the input, none repeated."""
    assert found, "a refusal must name at least one problem"
    assert len(set(found)) == len(found), found
    allowed = _allowed_fields(raw) if isinstance(raw, dict) else FIELDS
    quoted = sorted(_user_texts(raw), key=len, reverse=True)
    for field, sentence in found:
        assert field in allowed, (field, sentence)
        assert sentence.strip() == sentence and sentence, repr(sentence)
        text = sentence
        for piece in quoted:  # what the user typed may say anything
            text = text.replace(repr(piece), "«»")
            if len(piece) >= 3:
                text = text.replace(piece, "«»")
        assert text[0].isupper() or text.startswith("«»"), sentence
        assert not [j for j in JARGON if j in text.lower()], sentence
        assert not re.search(r"\b\w+\.\d+\b", text), sentence
        assert len(text) < 300, sentence


def check_explains(exc: ValidationError, raw: Any) -> None:
    """``problems`` is plain and loses no problem: every field pydantic found is named."""
    found = problems(exc)
    check_plain(found, raw)
    named = {field for field, _ in found}
    for err in exc.errors():
        loc = err["loc"]
        if not loc:
            expected = ""
        elif loc[0] == "schedule" and len(loc) >= 2 and isinstance(loc[1], str):
            expected = loc[1]
        else:
            expected = str(loc[0])
        assert expected in named, (expected, err["type"], found)


@FAST
@given(raw_campaigns)
def test_any_input_validates_or_explains(raw: dict[str, Any]) -> None:
    try:
        draft = CampaignDraft.model_validate(raw)
    except ValidationError as exc:
        check_explains(exc, raw)
        return
    payload = draft.to_payload(now_ms=1)
    assert CampaignDraft.from_payload(payload) == draft.model_copy(
        update={"created_at": draft.created_at if draft.created_at is not None else 1}
    )


def requests_seen(sandbox: Sandbox) -> int:
    """How many requests ``sandbox`` has answered so far (a shared sandbox: compare)."""
    return sum(n for key, n in sandbox.counts.items() if isinstance(key, str))


def _sendable(draft: CampaignDraft) -> bool:
    try:
        json.dumps(draft.model_dump(mode="json")).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return False
    return True


@FAST
@given(raw=raw_campaigns)
def test_prepare_builds_or_raises_only_invalid_draft_error(
    prep: AlsonaClient, offline_sandbox: Sandbox, raw: dict[str, Any]
) -> None:
    seen = requests_seen(offline_sandbox)
    try:
        expected: CampaignDraft | None = CampaignDraft.model_validate(raw)
    except ValidationError:
        expected = None
    try:
        prepared = prep.prepare(raw)
    except InvalidDraftError as exc:
        assert isinstance(exc, ValueError)
        check_plain(exc.problems, raw)
        assert expected is None or not _sendable(expected)
        return
    finally:
        assert requests_seen(offline_sandbox) == seen  # prepare never sends
    assert isinstance(prepared, PreparedCreate) and expected is not None
    fill = {"account_id", "created_at", "campaign_id"}
    assert prepared.draft.model_dump(exclude=fill) == expected.model_dump(exclude=fill)
    for field in fill:  # what was given is kept, what was not is filled in
        given = getattr(expected, field)
        assert getattr(prepared.draft, field) == given or given is None, field
    if expected.account_id is None:
        assert prepared.draft.account_id == prep.account_id
    if expected.campaign_id is None:
        assert re.fullmatch(r"campaign_[0-9a-f]{20}", prepared.campaign_id or "")
    assert isinstance(prepared.draft.created_at, int)
    assert prepared.payload == json.loads(prepared.body)
    assert CampaignDraft.from_payload(prepared.payload) == prepared.draft


windows = st.tuples(st.booleans(), st.integers(0, 23)).flatmap(
    lambda t: st.tuples(st.just(t[0]), st.just(t[1]), st.integers(t[1] + 1, 24))
)


def _runs_only_with_hours(fields: dict[str, Any]) -> bool:
    """A RUN campaign needs a day with hours (the model refuses it otherwise)."""
    days = fields["schedule"].values()
    return fields["status"] is not CampaignStatus.RUN or any(day[0] for day in days)


valid_drafts = (
    st.builds(
        dict,
        name=st.text(min_size=1, max_size=200).filter(str.strip),
        seats=st.lists(
            st.text(min_size=1, max_size=30).filter(lambda s: not any(c.isspace() for c in s)),
            min_size=1,
            max_size=5,
            unique=True,
        ),
        schedule=st.fixed_dictionaries({d: windows.map(list) for d in DAYS}),
        status=st.sampled_from(list(CampaignStatus)),
        timezone=st.one_of(st.none(), st.integers(-720, 840)),
        campaign_id=st.one_of(st.none(), st.from_regex(r"\A[A-Za-z0-9_]{1,30}\Z")),
        created_at=st.one_of(st.none(), st.integers(0, 2**53)),
    )
    .filter(_runs_only_with_hours)
    .map(lambda fields: CampaignDraft(**fields))
)


@FAST
@given(valid_drafts)
def test_valid_drafts_survive_the_wire(draft: CampaignDraft) -> None:
    payload = draft.to_payload(now_ms=1_756_551_947_499)
    wire = json.loads(json.dumps(payload))  # what really travels
    back = CampaignDraft.from_payload(wire)
    assert back.to_payload(now_ms=0) == payload
    assert all(
        isinstance(v[1], int) and not isinstance(v[1], bool)
        for v in wire["campaign"]["schedule"].values()
    )


@FAST
@given(st.text(max_size=40))
def test_any_zone_name_converts_or_explains(name: str) -> None:
    try:
        offset = zone_offset(name)
    except ValueError as exc:
        assert "time zone" in str(exc)
        return
    assert -720 <= offset.minutes <= 840


@pytest.fixture(scope="module")
def form(prep: AlsonaClient) -> Any:
    from alsona_nb import CampaignForm

    form = CampaignForm(prep)
    yield form
    form.close()


@SLOW
@given(raw=raw_campaigns)
def test_form_load_takes_valid_drafts_and_refuses_the_rest_plainly(
    form: Any, raw: dict[str, Any]
) -> None:
    try:
        expected = CampaignDraft.model_validate(raw)
    except ValidationError:
        with pytest.raises(ValidationError) as info:
            form.load(raw)
        check_explains(info.value, raw)
        assert form.draft is None or isinstance(form.draft, CampaignDraft)
        return
    if not _sendable(expected):
        return  # the form shows the problem; see test_prepare_... for the sentence
    form.load(raw)
    assert not form.errors, form.errors
    assert form.draft is not None
    for field in ("name", "seats", "schedule", "status", "timezone", "campaign_id"):
        assert getattr(form.draft, field) == getattr(expected, field), field


@SLOW
@given(draft=valid_drafts)
def test_form_round_trips_every_valid_draft(form: Any, draft: CampaignDraft) -> None:
    form.load(draft)
    assert not form.errors, form.errors
    assert form.draft is not None
    assert form.draft.model_dump(exclude={"account_id", "created_at"}) == draft.model_dump(
        exclude={"account_id", "created_at"}
    )


anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(alphabet=st.characters(exclude_categories=[]), max_size=20)  # surrogates too
    | st.binary(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
inputs = anything | raw_campaigns | st.builds(lambda r: {"campaign": r}, raw_campaigns)


@FAST
@given(value=inputs)
def test_attempt_never_raises_and_every_row_reads_back(
    prep: AlsonaClient, value: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from alsona_nb import ResultsLog

    path = tmp_path_factory.mktemp("j") / "journal.jsonl"
    log = ResultsLog(path)
    attempt = prep.attempt(value, log=log)
    if attempt.prepared is None:  # refused before sending: "not sent", and says why
        assert isinstance(attempt.error, InvalidDraftError) and attempt.error.problems
        assert attempt.outcome is Outcome.NOT_SENT and attempt.tries == 0
    else:
        assert attempt.outcome in (Outcome.CREATED, Outcome.FAILED) and attempt.tries >= 1
    assert attempt.ok or attempt.error is not None
    assert len(ResultsLog.read(path).to_frame()) == 1
    assert len(log.to_frame()) == 1
