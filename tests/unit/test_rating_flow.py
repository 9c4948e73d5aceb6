"""好差评 after a service: a face, then the reasons that fit it, then 提交, or the rating goes in by
itself. 跳过 is a way out, not a reason; complaints come forward for the unhappy faces."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from contracts.payload import Timeouts
from contracts.records import COMPLAINT_REASONS, PRAISE_REASONS, RatingRecord, parse_record
from drivers.sim_cards import SAMPLE_CARDS
from kiosk.config.shipped import default_catalogue
from kiosk.visit import session as s
from kiosk.visit.session import RATING_SUBMIT_SECONDS, State

NOW = datetime(2026, 11, 23, 9, 0)


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def at_rating(clock: Clock, *, elder: bool = False) -> s.VisitSession:
    visit = s.VisitSession(
        default_catalogue(), Timeouts(), clock=clock, today=lambda: date(2026, 11, 23)
    )
    visit.handle(s.Start())
    if elder:
        visit.handle(s.SetElderMode(True))
    visit.handle(s.ChooseService("queue_ticket"))
    visit.handle(s.CardRead(SAMPLE_CARDS[0]))
    visit.handle(s.ChooseOption("social_security"))
    visit.handle(s.Confirm())
    visit.handle(s.Recorded(1, "uuid-1", "A001", NOW))
    visit.handle(s.Confirm())
    assert visit.state is State.RATING
    return visit


def ratings(effects: list[s.Effect]) -> list[RatingRecord]:
    found = [
        parse_record(e.payload)
        for e in effects
        if isinstance(e, s.RecordTransaction) and e.service == "rating"
    ]
    return [r for r in found if isinstance(r, RatingRecord)]


def test_a_face_then_reasons_then_submit_records_them_all(clock: Clock) -> None:
    visit = at_rating(clock)
    assert visit.view().rating == 0 and visit.view().rating_submit_in is None
    assert visit.handle(s.Rate(2)) == []  # a face alone does not end the visit
    assert visit.state is State.RATING and visit.view().rating == 2
    visit.handle(s.PickReason("wait"))
    visit.handle(s.PickReason("hard"))
    visit.handle(s.PickReason("hard"))  # a second tap takes it back
    visit.handle(s.PickReason("device"))
    assert visit.view().rating_reasons == ("wait", "device")
    effects = visit.handle(s.SubmitRating())
    (record,) = ratings(effects)
    assert (record.score, record.reasons, record.service) == (2, ["wait", "device"], "queue_ticket")
    assert visit.state is not State.RATING


def test_a_face_alone_goes_in_by_itself_after_a_few_seconds(clock: Clock) -> None:
    visit = at_rating(clock)
    visit.handle(s.Rate(5))
    assert visit.view().rating_submit_in == RATING_SUBMIT_SECONDS[5]
    assert visit.view().warning_seconds is None  # no "more time?" once a face is in
    clock.now += RATING_SUBMIT_SECONDS[5] - 1
    assert visit.tick() == [] and visit.view().rating_submit_in == 1
    clock.now += 1.5
    effects = visit.tick()
    (record,) = ratings(effects)
    assert record.score == 5 and record.reasons is None
    assert any(isinstance(e, s.VisitEnded) and e.reason == "finished" for e in effects)


def test_unhappy_faces_get_longer_and_elders_longer_still(clock: Clock) -> None:
    visit = at_rating(clock)
    visit.handle(s.Rate(1))
    assert visit.view().rating_submit_in == RATING_SUBMIT_SECONDS[1] > RATING_SUBMIT_SECONDS[5]
    elder = at_rating(clock, elder=True)
    elder.handle(s.Rate(1))
    assert elder.view().rating_submit_in == int(RATING_SUBMIT_SECONDS[1] * s.ELDER_TIME_FACTOR)


def test_each_tap_on_a_reason_restarts_the_countdown(clock: Clock) -> None:
    visit = at_rating(clock)
    visit.handle(s.Rate(4))
    clock.now += RATING_SUBMIT_SECONDS[4] - 2
    visit.handle(s.PickReason("easy"))
    assert visit.view().rating_submit_in == RATING_SUBMIT_SECONDS[4]


def test_reasons_fit_the_face_and_change_with_it(clock: Clock) -> None:
    visit = at_rating(clock)
    visit.handle(s.Rate(5))
    visit.handle(s.PickReason("wait"))  # a complaint after 非常满意 is not offered: ignored
    visit.handle(s.PickReason("quick"))
    assert visit.view().rating_reasons == ("quick",)
    visit.handle(s.Rate(4))  # still praise: the pick stays
    assert visit.view().rating_reasons == ("quick",)
    visit.handle(s.Rate(1))  # now a complaint: praise picked before does not fit
    assert visit.view().rating_reasons == ()
    (record,) = ratings(visit.handle(s.SubmitRating()))
    assert record.score == 1 and record.reasons is None


def test_skip_is_a_way_out_not_a_reason(clock: Clock) -> None:
    assert "skip" not in PRAISE_REASONS + COMPLAINT_REASONS
    visit = at_rating(clock)
    visit.handle(s.PickReason("wait"))  # before a face there is nothing to give a reason for
    assert visit.view().rating_reasons == ()
    effects = visit.handle(s.Rate(0))
    assert ratings(effects) == []
    assert any(isinstance(e, s.VisitEnded) and e.reason == "finished" for e in effects)


def test_no_face_and_no_tap_times_out_without_a_rating(clock: Clock) -> None:
    visit = at_rating(clock)
    clock.now += visit.timeouts.rating + 1
    effects = visit.tick()
    assert ratings(effects) == []
    assert any(isinstance(e, s.VisitEnded) and e.reason == "timeout" for e in effects)


def test_submit_before_a_face_does_nothing(clock: Clock) -> None:
    visit = at_rating(clock)
    assert visit.handle(s.SubmitRating()) == [] and visit.state is State.RATING
