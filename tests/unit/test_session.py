"""The visit state machine, without Qt, devices or a disk."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from drivers.idcard import IdCard
from drivers.sim_cards import SAMPLE_CARDS
from kiosk import session as s
from kiosk.catalogue import default_catalogue
from kiosk.settings import Timeouts

State = s.State
NOW = datetime(2026, 11, 23, 10, 0).astimezone()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def visit(clock: FakeClock) -> s.VisitSession:
    return s.VisitSession(
        default_catalogue(), Timeouts(), clock=clock, today=lambda: date(2026, 11, 23)
    )


def card(**changes: object) -> IdCard:
    from dataclasses import replace

    return replace(SAMPLE_CARDS[0], **changes)  # type: ignore[arg-type]


def to_confirm(v: s.VisitSession) -> None:
    v.handle(s.Start())
    v.handle(s.CardRead(card()))
    v.handle(s.ChooseService("queue_ticket"))
    v.handle(s.ChooseOption("social_security"))


def test_whole_visit_produces_record_then_print_then_wipe(visit: s.VisitSession) -> None:
    assert visit.state is State.ATTRACT
    assert visit.handle(s.Start()) == []
    assert visit.state is State.IDENTIFY
    visit.handle(s.CardReading())
    assert visit.view().reading_card
    visit.handle(s.CardRead(card()))
    assert visit.state is State.CATALOGUE
    assert visit.view().resident_name == "张秀英"
    visit.handle(s.ChooseService("queue_ticket"))
    assert visit.state is State.CHOOSE
    visit.handle(s.ChooseOption("social_security"))
    assert visit.state is State.CONFIRM

    effects = visit.handle(s.Confirm())
    assert visit.state is State.PROCESSING
    assert effects == [
        s.RecordTransaction(
            1,
            "queue_ticket",
            {"option": "social_security", "language": "zh_CN"},
            counter="queue_ticket:A",
            counter_format="A{:03d}",
        )
    ]
    record = effects[0]
    assert isinstance(record, s.RecordTransaction)
    assert "张秀英" not in repr(record.payload)  # no personal data in the outbox payload

    effects = visit.handle(s.Recorded(1, "uuid-1", "A001", NOW))
    assert visit.state is State.RESULT
    assert effects == [
        s.PrintReceipt(1, "queue_ticket", "social_security", "A001", "uuid-1", NOW, "zh_CN")
    ]
    assert visit.view().receipt == "printing"
    visit.handle(s.ReceiptDone(1, True))
    assert visit.view().receipt == "printed"

    visit.handle(s.Confirm())
    assert visit.state is State.RATING
    effects = visit.handle(s.Rate(5))
    assert visit.state is State.GOODBYE
    assert effects[0] == s.RecordTransaction(
        1, "rating", {"score": 5, "service": "queue_ticket", "of": "uuid-1"}
    )
    assert effects[1] == s.VisitEnded(1, "finished")
    view = visit.view()
    assert not visit.holds_personal_data
    assert view.resident_name is None and view.ticket is None and view.option is None
    assert view.visit == 2


def test_card_on_attract_screen_skips_straight_to_catalogue(visit: s.VisitSession) -> None:
    visit.handle(s.CardReading())
    assert visit.state is State.IDENTIFY
    visit.handle(s.CardRead(card()))
    assert visit.state is State.CATALOGUE


@pytest.mark.parametrize(
    ("bad_card", "notice"),
    [
        (card(id_number="110101194803120021"), "card.invalid"),  # wrong check digit
        (card(valid_to=date(2020, 1, 1)), "card.expired"),
    ],
)
def test_unusable_card_stays_on_identify_with_a_calm_notice(
    visit: s.VisitSession, bad_card: IdCard, notice: str
) -> None:
    visit.handle(s.Start())
    visit.handle(s.CardRead(bad_card))
    assert visit.state is State.IDENTIFY
    assert visit.view().notice_key == notice
    assert not visit.holds_personal_data


def test_read_failure_then_success(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    visit.handle(s.CardFailed("card.read_failed"))
    assert visit.view().notice_key == "card.read_failed"
    visit.handle(s.CardRead(card()))
    assert visit.state is State.CATALOGUE
    assert visit.view().notice_key is None


def test_next_residents_card_during_goodbye_starts_a_fresh_visit(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Cancel())
    assert visit.state is State.GOODBYE
    visit.handle(s.CardRead(card(name="王芳")))
    assert visit.state is State.CATALOGUE
    view = visit.view()
    assert (view.resident_name, view.visit, view.end_reason, view.option) == ("王芳", 2, None, None)


def test_cards_are_ignored_once_a_visit_is_under_way(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.CardRead(card(name="另一人")))
    assert visit.state is State.CONFIRM
    assert visit.view().resident_name == "张秀英"


@pytest.mark.parametrize(
    "state_name",
    ["identify", "catalogue", "choose", "confirm", "result", "rating"],
)
def test_every_step_warns_then_times_out_and_wipes(
    visit: s.VisitSession, clock: FakeClock, state_name: str
) -> None:
    visit.handle(s.Start())
    steps: list[s.Event] = [
        s.CardRead(card()),
        s.ChooseService("queue_ticket"),
        s.ChooseOption("general"),
        s.Confirm(),
        s.Recorded(1, "u", "D001", NOW),
        s.Confirm(),
    ]
    for event in steps:
        if visit.state.value == state_name:
            break
        visit.handle(event)
    assert visit.state.value == state_name
    limit = getattr(visit.timeouts, state_name)
    clock.now += limit - visit.timeouts.warning - 1
    assert visit.tick() == []
    assert visit.view().warning_seconds is None
    clock.now += 2
    assert visit.tick() == []
    assert visit.view().warning_seconds == 19
    clock.now += 19.5
    effects = visit.tick()
    assert effects == [s.VisitEnded(1, "timeout")]
    assert visit.state is State.GOODBYE
    assert visit.view().end_reason == "timeout"
    assert not visit.holds_personal_data
    clock.now += visit.timeouts.goodbye + 0.1
    visit.tick()
    assert visit.state is State.ATTRACT


def test_one_tap_extends_the_time(visit: s.VisitSession, clock: FakeClock) -> None:
    to_confirm(visit)
    clock.now += visit.timeouts.confirm - 5
    visit.tick()
    assert visit.view().warning_seconds == 5
    visit.handle(s.Extend())
    assert visit.view().warning_seconds is None
    clock.now += visit.timeouts.confirm - 1
    assert visit.tick() == []
    assert visit.state is State.CONFIRM


def test_attract_never_times_out(visit: s.VisitSession, clock: FakeClock) -> None:
    clock.now += 10 * 24 * 3600
    assert visit.tick() == []
    assert visit.state is State.ATTRACT


def test_processing_timeout_goes_to_problem_not_silence(
    visit: s.VisitSession, clock: FakeClock
) -> None:
    to_confirm(visit)
    visit.handle(s.Confirm())
    clock.now += visit.timeouts.processing + 1
    visit.tick()
    assert visit.state is State.PROBLEM
    assert visit.view().notice_key == "problem.processing_timeout"
    assert visit.view().warning_seconds is None


def test_record_failure_explains_and_ends(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Confirm())
    visit.handle(s.RecordFailed(1, "disk full"))
    assert visit.state is State.PROBLEM
    assert visit.view().notice_key == "problem.record_failed"
    effects = visit.handle(s.Confirm())  # "back to start"
    assert effects == [s.VisitEnded(1, "cancelled")]
    assert not visit.holds_personal_data


def test_results_for_an_ended_visit_are_ignored(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Confirm())
    visit.handle(s.Cancel())
    visit.handle(s.CardReading())  # the next resident
    assert visit.handle(s.Recorded(1, "late", "A009", NOW)) == []
    assert visit.state is State.IDENTIFY
    assert visit.view().ticket is None


def test_receipt_failure_keeps_the_ticket_on_screen(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Confirm())
    visit.handle(s.Recorded(1, "u", "A001", NOW))
    visit.handle(s.ReceiptDone(1, False, "device.printer_paper_out"))
    view = visit.view()
    assert view.state is State.RESULT
    assert (view.ticket, view.receipt, view.receipt_key) == (
        "A001",
        "failed",
        "device.printer_paper_out",
    )


def test_back_walks_the_steps_and_leaves_from_identify(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Back())
    assert visit.state is State.CHOOSE
    visit.handle(s.Back())
    assert visit.state is State.CATALOGUE
    assert visit.view().option is None
    v2 = s.VisitSession(default_catalogue(), Timeouts())
    v2.handle(s.Start())
    assert v2.handle(s.Back()) == [s.VisitEnded(1, "cancelled")]


def test_unavailable_service_cannot_be_chosen(visit: s.VisitSession) -> None:
    visit.handle(s.ServicesUnavailable({"queue_ticket": "device.reader_unavailable"}))
    visit.handle(s.Start())
    visit.handle(s.CardRead(card()))
    visit.handle(s.ChooseService("queue_ticket"))
    assert visit.state is State.CATALOGUE
    assert visit.view().unavailable == {"queue_ticket": "device.reader_unavailable"}


def test_unknown_service_or_option_is_ignored(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    visit.handle(s.CardRead(card()))
    visit.handle(s.ChooseService("no_such_service"))
    assert visit.state is State.CATALOGUE
    visit.handle(s.ChooseService("queue_ticket"))
    visit.handle(s.ChooseOption("no_such_window"))
    assert visit.state is State.CHOOSE


def test_language_lasts_for_the_visit_and_resets_at_attract(
    visit: s.VisitSession, clock: FakeClock
) -> None:
    visit.handle(s.Start())
    visit.handle(s.SetLanguage("en"))
    visit.handle(s.CardRead(card()))
    assert visit.view().language == "en"
    visit.handle(s.Cancel())
    assert visit.view().language == "en"  # goodbye in the resident's language
    clock.now += visit.timeouts.goodbye + 1
    visit.tick()
    assert visit.state is State.ATTRACT
    assert visit.view().language == "zh_CN"


def test_skipping_the_rating_records_nothing(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Confirm())
    visit.handle(s.Recorded(1, "u", "A001", NOW))
    visit.handle(s.Confirm())
    effects = visit.handle(s.Rate(0))
    assert effects == [s.VisitEnded(1, "finished")]


def test_card_repr_never_shows_personal_data() -> None:
    event = s.CardRead(card())
    assert "张" not in repr(event) and "110101" not in repr(event)
    assert "张" not in repr(card())


def test_reader_away_while_identifying_gets_a_calm_notice_that_clears(
    visit: s.VisitSession,
) -> None:
    down = s.ServicesUnavailable({}, {"id_card_reader": "device.reader_unavailable"})
    visit.handle(down)
    assert visit.view().device_notice_key is None  # nobody is waiting for it on attract
    visit.handle(s.Start())
    assert visit.view().device_notice_key == "device.reader_paused"
    assert visit.state is s.State.IDENTIFY  # the visit goes on; the reader comes back
    visit.handle(s.ServicesUnavailable({}, {}))
    assert visit.view().device_notice_key is None
