"""The visit state machine, without Qt, devices or a disk: every service of the shipped catalogue
end to end, online and offline, timeouts, back, privacy at the end of a visit, and metrics."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from contracts.certificates import normalise_reference
from contracts.payload import Timeouts
from contracts.records import parse_record
from drivers.idcard import IdCard
from drivers.sim_cards import SAMPLE_CARDS
from kiosk.config.shipped import default_catalogue
from kiosk.visit import session as s

State = s.State
NOW = datetime(2026, 11, 23, 10, 0).astimezone()
LINES = (s.AnswerLine("参保状态", "Status", "正常参保"), s.AnswerLine("月数", "Months", "186"))


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
    return replace(SAMPLE_CARDS[0], **changes)  # type: ignore[arg-type]


def ended(effects: list[s.Effect]) -> tuple[str, ...]:
    """The services recorded and the end, in order: ("visit_metrics", "ended:finished")."""
    out = []
    for e in effects:
        if isinstance(e, s.RecordTransaction):
            out.append(e.service)
        elif isinstance(e, s.VisitEnded):
            out.append(f"ended:{e.reason}")
    return tuple(out)


def visit_id_of(visit: s.VisitSession) -> str:
    return visit._visit.visit_id


def to_confirm(v: s.VisitSession) -> None:
    v.handle(s.Start())
    v.handle(s.ChooseService("queue_ticket"))
    v.handle(s.CardRead(card()))
    v.handle(s.ChooseOption("social_security"))


# ---- the queue ticket, the first service ----------------------------------------------------
def test_queue_ticket_from_a_tap(visit: s.VisitSession) -> None:
    assert visit.handle(s.Start()) == []
    assert visit.state is State.CATALOGUE
    assert visit.view().resident_name is None
    visit.handle(s.ChooseService("queue_ticket"))
    assert visit.state is State.IDENTIFY  # the ticket needs to know who
    visit.handle(s.CardReading())
    assert visit.view().reading_card
    visit.handle(s.CardRead(card()))
    assert visit.state is State.CHOOSE
    assert visit.view().resident_name == "张秀英"
    visit.handle(s.ChooseOption("social_security"))
    assert visit.state is State.CONFIRM
    assert (visit.view().step, visit.view().steps) == (3, 3)

    effects = visit.handle(s.Confirm())
    assert visit.state is State.PROCESSING
    visit_id = visit_id_of(visit)
    assert effects == [
        s.RecordTransaction(
            1, "queue_ticket",
            {"record": "ticket", "visit_id": visit_id, "option": "social_security",
             "language": "zh_CN"},
            counter="queue_ticket:A", counter_format="A{:03d}", answer=True,
        )
    ]  # fmt: skip
    assert "张秀英" not in repr(effects)  # no personal data in the outbox payload

    effects = visit.handle(s.Recorded(1, "uuid-1", "A001", NOW))
    assert visit.state is State.RESULT and visit.view().outcome == "ticket"
    assert effects == [s.AskQueue(1, "A001")]  # the ticket prints with the queue's answer
    effects = visit.handle(s.QueueKnown(1, 3))
    assert visit.view().ahead == 3
    assert effects == [
        s.PrintReceipt(1, "ticket", "queue_ticket", "zh_CN", option="social_security",
                       ticket="A001", uuid="uuid-1", created_at=NOW, ahead=3)
    ]  # fmt: skip
    assert visit.handle(s.QueueKnown(1, 2)) == []  # printed once, never twice
    visit.handle(s.ReceiptDone(1, True))
    assert visit.view().receipt == "printed"
    visit.handle(s.Confirm())
    assert visit.state is State.RATING
    assert visit.handle(s.Rate(5)) == [] and visit.handle(s.PickReason("quick")) == []
    effects = visit.handle(s.SubmitRating())
    assert effects[0] == s.RecordTransaction(
        1, "rating", {"record": "rating", "visit_id": visit_id, "score": 5,
                      "service": "queue_ticket", "reasons": ["quick"]}
    )  # fmt: skip
    assert ended(effects) == ("rating", "visit_metrics", "ended:finished")
    view = visit.view()
    assert not visit.holds_personal_data
    assert view.resident_name is None and view.ticket is None and view.option is None
    assert view.visit == 2


def test_card_first_then_the_identify_step_is_skipped(visit: s.VisitSession) -> None:
    visit.handle(s.CardReading())
    assert visit.state is State.IDENTIFY
    visit.handle(s.CardRead(card()))
    assert visit.state is State.CATALOGUE
    visit.handle(s.ChooseService("queue_ticket"))
    assert visit.state is State.CHOOSE
    visit.handle(s.Back())
    assert visit.state is State.CATALOGUE  # back skips the identify step done already
    assert visit.view().resident_name == "张秀英"


def test_visit_metrics_are_anonymous_and_say_where_it_ended(
    visit: s.VisitSession, clock: FakeClock
) -> None:
    visit.handle(s.Start())
    clock.now += 4
    visit.handle(s.ChooseService("queue_ticket"))
    clock.now += 7
    visit.handle(s.ServicesUnavailable({}, {"id_card_reader": "device.reader_unavailable"}))
    effects = visit.handle(s.Cancel())
    metrics = next(e for e in effects if isinstance(e, s.RecordTransaction))
    assert metrics.service == "visit_metrics" and metrics.personal is None
    payload = metrics.payload
    assert payload["service"] == "queue_ticket" and payload["completed"] is False
    assert payload["ended"] == "cancelled" and payload["ended_at"] == "identify"
    assert payload["steps"] == [
        {"step": "catalogue", "seconds": 4.0}, {"step": "identify", "seconds": 7.0}
    ]  # fmt: skip
    assert payload["faults"] == ["id_card_reader"]
    # Nothing about the attract screen itself: no visit, no metrics.
    clock.now += visit.timeouts.goodbye + 1
    visit.tick()
    assert visit.handle(s.Cancel()) == []


# ---- online queries ---------------------------------------------------------------------------
def test_a_record_query_answered_online(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    visit.handle(s.ChooseService("social_security"))
    visit.handle(s.CardRead(card()))
    assert visit.state is State.CONFIRM
    effects = visit.handle(s.Confirm())
    assert effects == [s.AskPlatform(1, "social_security", SAMPLE_CARDS[0].id_number, "zh_CN")]
    assert SAMPLE_CARDS[0].id_number not in repr(effects)
    assert visit.handle(s.Answered(1, "ok", LINES, "Q20261123-1")) == []  # not printed unasked
    view = visit.view()
    assert (view.state, view.outcome, view.answer) == (State.RESULT, "answer", LINES)
    effects = visit.handle(s.PrintAnswer())
    assert effects == [s.PrintReceipt(1, "answer", "social_security", "zh_CN", lines=LINES,
                                      reference="Q20261123-1")]  # fmt: skip
    assert visit.handle(s.PrintAnswer()) == []  # once
    visit.handle(s.Confirm())
    assert ended(visit.handle(s.Rate(0))) == ("visit_metrics", "ended:finished")
    assert visit.view().answer == () and not visit.holds_personal_data


def test_a_query_with_no_record_says_so(visit: s.VisitSession) -> None:
    visit.handle(s.CardRead(card()))
    visit.handle(s.ChooseService("housing_fund"))
    visit.handle(s.Confirm())
    visit.handle(s.Answered(1, "not_found", (), "Q-2", "no_record"))
    view = visit.view()
    assert (view.outcome, view.reason_key) == ("not_found", "answer.no_record")


def test_offline_a_query_offers_a_request_slip(visit: s.VisitSession) -> None:
    visit.handle(s.CardRead(card()))
    visit.handle(s.ChooseService("medical_insurance"))
    visit.handle(s.Confirm())
    visit.handle(s.Unanswered(1, offline=True))
    assert (visit.state, visit.view().outcome) == (State.RESULT, "offline_offer")
    effects = visit.handle(s.RequestSlip())
    assert visit.state is State.PROCESSING
    (record,) = effects
    assert isinstance(record, s.RecordTransaction) and record.service == "query_request"
    assert record.payload == {"record": "query_request", "visit_id": visit_id_of(visit),
                              "query": "medical_insurance", "language": "zh_CN"}  # fmt: skip
    assert record.personal == {"identifier": SAMPLE_CARDS[0].id_number}  # sealed in the outbox
    effects = visit.handle(s.Recorded(1, "u-9", "R0001", NOW))
    assert visit.view().outcome == "slip" and visit.view().ticket == "R0001"
    assert isinstance(effects[0], s.PrintReceipt) and effects[0].kind == "slip"


def test_offline_a_query_can_be_declined(visit: s.VisitSession) -> None:
    visit.handle(s.CardRead(card()))
    visit.handle(s.ChooseService("social_security"))
    visit.handle(s.Confirm())
    visit.handle(s.Unanswered(1, offline=True))
    visit.handle(s.Confirm())  # "no, thanks"
    assert visit.state is State.RATING


def test_a_refused_query_goes_to_staff_without_a_dead_end(visit: s.VisitSession) -> None:
    visit.handle(s.CardRead(card()))
    visit.handle(s.ChooseService("social_security"))
    visit.handle(s.Confirm())
    visit.handle(s.Unanswered(1, offline=False))
    assert visit.state is State.PROBLEM and visit.view().notice_key == "problem.refused"
    assert ended(visit.handle(s.Confirm())) == ("visit_metrics", "ended:cancelled")


def test_a_certificate_prints_itself(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    visit.handle(s.ChooseService("certificate"))
    visit.handle(s.CardRead(card()))
    visit.handle(s.ChooseOption("insured_certificate"))
    visit.handle(s.Confirm())
    (record,) = visit.handle(s.Answered(1, "ok", LINES, "Q-3"))
    # Recorded first (reference, kind, holder masked), so no paper carries a reference the
    # platform will not know; still processing until it is on disk.
    assert isinstance(record, s.RecordTransaction) and record.answer and not record.personal
    assert (record.service, record.payload["record"]) == ("certificate", "certificate")
    reference = str(record.payload["reference"])
    assert normalise_reference(reference) == reference
    assert record.payload["holder_name"] == "张*英"
    assert record.payload["holder_id"] == "1101**********0029"
    assert (record.payload["kind"], record.payload["title_zh"]) == (
        "insured_certificate",
        "参保证明",
    )
    assert visit.state is State.PROCESSING and visit.view().receipt is None
    assert visit.handle(s.Answered(1, "ok", LINES, "Q-4")) == []  # a late repeat changes nothing
    at = datetime(2026, 5, 12, 10, 31, tzinfo=UTC)
    effects = visit.handle(s.Recorded(1, "0190a000-0000-7000-8000-000000000001", "", at))
    assert visit.view().outcome == "certificate" and visit.view().receipt == "printing"
    assert effects == [s.PrintReceipt(1, "certificate", "certificate", "zh_CN",
                                      option="insured_certificate", lines=LINES,
                                      reference=reference, created_at=at,
                                      holder="张*英  1101**********0029")]  # fmt: skip


def test_a_certificate_whose_record_fails_is_not_printed(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    visit.handle(s.ChooseService("certificate"))
    visit.handle(s.CardRead(card()))
    visit.handle(s.ChooseOption("insured_certificate"))
    visit.handle(s.Confirm())
    visit.handle(s.Answered(1, "ok", LINES, "Q-3"))
    assert visit.handle(s.RecordFailed(1, "disk full")) == []
    assert visit.state is State.PROBLEM and visit.view().notice_key == "problem.record_failed"


def test_offline_a_certificate_is_not_offered(visit: s.VisitSession) -> None:
    visit.handle(s.CardRead(card()))
    visit.handle(s.ChooseService("certificate"))
    visit.handle(s.ChooseOption("insured_certificate"))
    visit.handle(s.Confirm())
    visit.handle(s.Unanswered(1, offline=True))
    assert visit.state is State.PROBLEM and visit.view().notice_key == "problem.needs_network"


# ---- QR codes -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("service", "query"),
    [("application_progress", "application_progress"),
     ("appointment_checkin", "appointment_checkin")],
)  # fmt: skip
def test_scanning_a_qr_code_asks_the_platform(
    visit: s.VisitSession, service: str, query: str
) -> None:
    visit.handle(s.Start())
    visit.handle(s.ChooseService(service))
    assert visit.state is State.SCAN  # no ID card needed
    visit.handle(s.QrScanned("APP-2611200016 "))  # stray spaces from a decoder
    assert visit.state is State.PROCESSING
    assert visit.handle(s.QrScanned("again")) == []
    visit.handle(s.Back())
    assert visit.state is State.PROCESSING


def test_a_qr_scan_effect_carries_the_code(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    visit.handle(s.ChooseService("appointment_checkin"))
    effects = visit.handle(s.QrScanned("APT-20261123-0012"))
    assert effects == [s.AskPlatform(1, "appointment_checkin", "APT-20261123-0012", "zh_CN")]
    assert "APT" not in repr(s.QrScanned("APT-20261123-0012"))
    visit.handle(s.Answered(1, "refused", (), "Q-4", "already_checked_in"))
    assert visit.view().reason_key == "answer.already_checked_in"


# ---- feedback and staff ---------------------------------------------------------------------
def test_feedback_with_an_optional_phone(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    visit.handle(s.ChooseService("feedback"))
    assert visit.state is State.FEEDBACK
    visit.handle(s.Entered("排队太久了"))
    assert visit.state is State.KEYPAD and visit.view().keypad_kind == "phone"
    visit.handle(s.Back())
    assert visit.state is State.FEEDBACK and visit.view().entered == "排队太久了"
    visit.handle(s.Entered("排队太久了"))
    visit.handle(s.Entered(""))  # skipped
    assert visit.state is State.CONFIRM
    (record,) = visit.handle(s.Confirm())
    assert isinstance(record, s.RecordTransaction)
    assert record.payload == {
        "record": "feedback", "visit_id": visit_id_of(visit),
        "language": "zh_CN", "has_text": True, "has_phone": False,
    }  # fmt: skip
    assert record.personal == {"text": "排队太久了"}
    visit.handle(s.Recorded(1, "u", "", NOW))
    assert visit.view().outcome == "feedback"


def test_call_staff_from_any_screen_once(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    visit.handle(s.ChooseService("feedback"))
    effects = visit.handle(s.CallStaff())
    assert [e.service for e in effects if isinstance(e, s.RecordTransaction)] == ["call_staff"]
    assert visit.state is State.FEEDBACK and visit.view().staff_called  # the visit goes on
    assert visit.handle(s.CallStaff()) == []


def test_call_staff_tile(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    effects = visit.handle(s.ChooseService("call_staff"))
    assert [e.service for e in effects if isinstance(e, s.RecordTransaction)] == ["call_staff"]
    assert (visit.state, visit.view().outcome) == (State.RESULT, "staff")
    assert ended(visit.handle(s.Confirm())) == ("visit_metrics", "ended:finished")


# ---- identification -------------------------------------------------------------------------
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
    visit.handle(s.CardRead(bad_card))
    assert visit.state is State.IDENTIFY
    assert visit.view().notice_key == notice
    assert not visit.holds_personal_data


def test_read_failure_then_success(visit: s.VisitSession) -> None:
    visit.handle(s.Start())
    visit.handle(s.ChooseService("queue_ticket"))
    visit.handle(s.CardFailed("card.read_failed"))
    assert visit.view().notice_key == "card.read_failed"
    visit.handle(s.CardRead(card()))
    assert visit.state is State.CHOOSE
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


def test_elder_mode_is_suggested_from_the_birth_year_once(visit: s.VisitSession) -> None:
    visit.handle(s.CardRead(card(birth_date=date(1950, 1, 1))))
    assert visit.view().suggest_elder
    visit.handle(s.SetElderMode(True))
    view = visit.view()
    assert view.elder and not view.suggest_elder
    young = s.VisitSession(default_catalogue(), Timeouts(), today=lambda: date(2026, 11, 23))
    young.handle(s.CardRead(card(birth_date=date(1990, 1, 1))))
    assert not young.view().suggest_elder


def test_elder_mode_gives_more_time_and_ends_with_the_visit(
    visit: s.VisitSession, clock: FakeClock
) -> None:
    visit.handle(s.Start())
    visit.handle(s.SetElderMode(True))
    clock.now += visit.timeouts.catalogue + 1
    assert visit.tick() == []  # 1.5x as long
    clock.now += visit.timeouts.catalogue * 0.5
    assert ended(visit.tick())[-1] == "ended:timeout"
    assert not visit.view().elder


# ---- time -----------------------------------------------------------------------------------
_TO_STATE: dict[str, list[s.Event]] = {
    "catalogue": [s.Start()],
    "identify": [s.Start(), s.ChooseService("queue_ticket")],
    "choose": [s.CardRead(card()), s.ChooseService("queue_ticket")],
    "confirm": [s.CardRead(card()), s.ChooseService("social_security")],
    "scan": [s.Start(), s.ChooseService("appointment_checkin")],
    "feedback": [s.Start(), s.ChooseService("feedback")],
    "keypad": [s.Start(), s.ChooseService("feedback"), s.Entered("好")],
    "result": [s.CardRead(card()), s.ChooseService("social_security"), s.Confirm(),
               s.Answered(1, "ok", LINES, "Q")],
    "rating": [s.CardRead(card()), s.ChooseService("social_security"), s.Confirm(),
               s.Answered(1, "ok", LINES, "Q"), s.Confirm()],
}  # fmt: skip


@pytest.mark.parametrize("state_name", sorted(_TO_STATE))
def test_every_step_warns_then_times_out_and_wipes(
    visit: s.VisitSession, clock: FakeClock, state_name: str
) -> None:
    for event in _TO_STATE[state_name]:
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
    assert ended(visit.tick()) == ("visit_metrics", "ended:timeout")
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
    assert ended(visit.handle(s.Confirm())) == ("visit_metrics", "ended:cancelled")
    assert not visit.holds_personal_data


def test_results_for_an_ended_visit_are_ignored(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Confirm())
    visit.handle(s.Cancel())
    visit.handle(s.CardReading())  # the next resident
    assert visit.handle(s.Recorded(1, "late", "A009", NOW)) == []
    assert visit.handle(s.Answered(1, "ok", LINES, "late")) == []
    assert visit.state is State.IDENTIFY
    assert visit.view().ticket is None and visit.view().answer == ()


def test_receipt_failure_keeps_the_ticket_on_screen(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Confirm())
    visit.handle(s.Recorded(1, "u", "A001", NOW))
    visit.handle(s.ReceiptDone(1, False, "device.printer_paper_out"))
    view = visit.view()
    assert view.state is State.RESULT
    assert (view.ticket, view.receipt, view.receipt_key) == (
        "A001", "failed", "device.printer_paper_out",
    )  # fmt: skip


def test_back_walks_the_steps_and_leaves_from_identify(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Back())
    assert visit.state is State.CHOOSE
    visit.handle(s.Back())
    assert visit.state is State.CATALOGUE  # identify done: skipped on the way back
    assert visit.view().option is None
    v2 = s.VisitSession(default_catalogue(), Timeouts())
    v2.handle(s.CardReading())
    assert ended(v2.handle(s.Back())) == ("visit_metrics", "ended:cancelled")


def test_unavailable_service_cannot_be_chosen(visit: s.VisitSession) -> None:
    why = ("device.printer_paper_out", "alternative.staff")
    visit.handle(s.ServicesUnavailable({"certificate": why}))
    visit.handle(s.Start())
    visit.handle(s.ChooseService("certificate"))
    assert visit.state is State.CATALOGUE
    assert visit.view().unavailable == {"certificate": why}


def test_unknown_service_or_option_is_ignored(visit: s.VisitSession) -> None:
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


def test_skipping_the_rating_records_nothing_but_metrics(visit: s.VisitSession) -> None:
    to_confirm(visit)
    visit.handle(s.Confirm())
    visit.handle(s.Recorded(1, "u", "A001", NOW))
    visit.handle(s.Confirm())
    assert ended(visit.handle(s.Rate(0))) == ("visit_metrics", "ended:finished")


def test_reprs_never_show_personal_data() -> None:
    assert "张" not in repr(s.CardRead(card())) and "110101" not in repr(s.CardRead(card()))
    assert "张" not in repr(card())
    assert "138" not in repr(s.Entered("13800138000"))
    assert "正常" not in repr(LINES)


def test_reader_away_while_identifying_gets_a_calm_notice_that_clears(
    visit: s.VisitSession,
) -> None:
    down = s.ServicesUnavailable({}, {"id_card_reader": "device.reader_unavailable"})
    visit.handle(down)
    assert visit.view().device_notice_key is None  # nobody is waiting for it on attract
    visit.handle(s.Start())
    visit.handle(s.ChooseService("queue_ticket"))
    assert visit.view().device_notice_key == "device.reader_paused"
    assert visit.state is s.State.IDENTIFY  # the visit goes on; the reader comes back
    visit.handle(s.ServicesUnavailable({}, {}))
    assert visit.view().device_notice_key is None


def test_a_visits_records_fit_the_contract_and_share_one_anonymous_visit_id(
    visit: s.VisitSession, clock: FakeClock
) -> None:
    """Given two visits (a ticket with a rating, then a call for staff), every record each leaves
    parses as its contract's kind, and the records of one visit share a visit id no other shares."""
    to_confirm(visit)
    first = visit.handle(s.Confirm())
    first += visit.handle(s.Recorded(1, "uuid-1", "A001", NOW))
    first += visit.handle(s.ReceiptDone(1, True))
    first += visit.handle(s.Confirm())
    first += visit.handle(s.Rate(4))
    first += visit.handle(s.SubmitRating())
    clock.now += visit.timeouts.goodbye + 1
    visit.tick()
    second = visit.handle(s.Start()) + visit.handle(s.CallStaff()) + visit.handle(s.Cancel())

    def kinds_and_ids(effects: list[s.Effect]) -> tuple[list[str], set[str]]:
        parsed = [parse_record(e.payload) for e in effects if isinstance(e, s.RecordTransaction)]
        return [r.record for r in parsed], {r.visit_id for r in parsed}  # type: ignore[attr-defined]

    kinds, ids = kinds_and_ids(first)
    assert kinds == ["ticket", "rating", "visit_metrics"] and len(ids) == 1
    kinds2, ids2 = kinds_and_ids(second)
    assert kinds2 == ["call_staff", "visit_metrics"] and len(ids2) == 1
    assert ids != ids2


def test_a_card_left_on_the_reader_is_asked_for_until_it_goes(
    visit: s.VisitSession, clock: FakeClock
) -> None:
    """Given a card read for a visit that then times out, the goodbye and the attract screen ask
    for the card while the reader still sees it, and stop once it is taken away."""
    visit.handle(s.CardRead(card()))
    assert not visit.view().card_left_on_reader  # in use: nothing to ask yet
    clock.now += visit.timeouts.catalogue + 1
    visit.tick()
    assert visit.state is State.GOODBYE and visit.view().end_reason == "timeout"
    assert visit.view().card_left_on_reader
    clock.now += visit.timeouts.goodbye + 1
    visit.tick()
    assert visit.state is State.ATTRACT and visit.view().card_left_on_reader
    visit.handle(s.CardRemoved())
    assert not visit.view().card_left_on_reader
