"""Property-based tests of the models and the form: any input either validates or gives
plain validation messages; nothing crashes, and valid drafts survive the wire both ways."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from alsona_nb import CampaignDraft, CampaignStatus, describe_errors, zone_offset
from alsona_nb._models import DAYS

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.one_of(
    st.text(max_size=40),
    st.text(min_size=5000, max_size=6000, alphabet=st.characters(codec="utf-8")),
    st.sampled_from(["", " ", "\n\t", "Ünïcødé 🚀 campaign", "名前", "\u200b", "a\x00b"]),
)
ids = st.one_of(
    st.text(max_size=30), st.sampled_from(["seat_6a13e661ecc6a86e3fb7", "SEAT1", "a b", ""])
)
hours = st.one_of(
    st.integers(-5, 30), st.booleans(), st.floats(allow_nan=True), st.text(max_size=3)
)
day_values = st.one_of(
    st.tuples(st.booleans(), hours, hours).map(list),
    st.lists(st.one_of(st.booleans(), st.integers(-2, 26)), max_size=5),
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
raw_campaigns = st.fixed_dictionaries(
    {"name": names, "seats": st.one_of(st.lists(ids, max_size=4), ids),
     "schedule": st.one_of(st.dictionaries(st.sampled_from(DAYS), day_values),
                           st.fixed_dictionaries({d: day_values for d in DAYS})),
     "status": statuses},
    optional={"timezone": timezones, "campaign_id": ids, "account_id": ids,
              "created_at": st.one_of(st.integers(-10, 2**63), st.text(max_size=4))},
)


def _check_messages(exc: ValidationError) -> None:
    lines = describe_errors(exc)
    assert lines and len(lines) == exc.error_count()
    for line in lines:
        assert line.strip() and "Traceback" not in line and len(line) < 600
        assert "Value error," not in line  # pydantic's prefix is removed


@FAST
@given(raw_campaigns)
def test_any_input_validates_or_explains(raw: dict[str, Any]) -> None:
    try:
        draft = CampaignDraft.model_validate(raw)
    except ValidationError as exc:
        _check_messages(exc)
        return
    payload = draft.to_payload(now_ms=1)
    assert CampaignDraft.from_payload(payload) == draft.model_copy(
        update={"created_at": draft.created_at if draft.created_at is not None else 1}
    )


windows = st.tuples(st.booleans(), st.integers(0, 23)).flatmap(
    lambda t: st.tuples(st.just(t[0]), st.just(t[1]), st.integers(t[1] + 1, 24))
)
valid_drafts = st.builds(
    CampaignDraft,
    name=st.text(min_size=1, max_size=200).filter(str.strip),
    seats=st.lists(
        st.text(min_size=1, max_size=30).filter(lambda s: not any(c.isspace() for c in s)),
        min_size=1, max_size=5, unique=True,
    ),
    schedule=st.fixed_dictionaries({d: windows.map(list) for d in DAYS}),
    status=st.sampled_from(list(CampaignStatus)),
    timezone=st.one_of(st.none(), st.integers(-720, 840)),
    campaign_id=st.one_of(st.none(), st.from_regex(r"\A[A-Za-z0-9_]{1,30}\Z")),
    created_at=st.one_of(st.none(), st.integers(0, 2**53)),
)


@FAST
@given(valid_drafts)
def test_valid_drafts_survive_the_wire(draft: CampaignDraft) -> None:
    payload = draft.to_payload(now_ms=1_756_551_947_499)
    import json

    wire = json.loads(json.dumps(payload))  # what really travels
    back = CampaignDraft.from_payload(wire)
    assert back.to_payload(now_ms=0) == payload
    assert all(isinstance(v[1], int) and not isinstance(v[1], bool)
               for v in wire["campaign"]["schedule"].values())


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
def form() -> Any:
    from alsona_nb import CampaignForm, Sandbox

    with Sandbox() as sandbox:
        yield CampaignForm(sandbox.client())


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=raw_campaigns)
def test_form_load_takes_valid_drafts_and_refuses_the_rest_plainly(
    form: Any, raw: dict[str, Any]
) -> None:
    try:
        expected = CampaignDraft.model_validate(raw)
    except ValidationError:
        with pytest.raises(ValidationError) as info:
            form.load(raw)
        _check_messages(info.value)
        assert form.draft is None or isinstance(form.draft, CampaignDraft)
        return
    form.load(raw)
    assert not form.errors, form.errors
    assert form.draft is not None
    for field in ("name", "seats", "schedule", "status", "timezone", "campaign_id"):
        assert getattr(form.draft, field) == getattr(expected, field), field


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(draft=valid_drafts)
def test_form_round_trips_every_valid_draft(form: Any, draft: CampaignDraft) -> None:
    form.load(draft)
    assert not form.errors, form.errors
    assert form.draft is not None
    assert form.draft.model_dump(exclude={"account_id", "created_at"}) == draft.model_dump(
        exclude={"account_id", "created_at"}
    )
