"""What the terminal says for each view, and that a view re-published by ticks is said once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from kiosk.texts import Texts
from kiosk.visit.session import AnswerLine, State, VisitView
from kiosk.visit.spoken import Speech, SpeechPlanner, speech_for

# Texts these tests lean on; the translation files (kiosk/locales/*.ts) win where they have them.
PROPOSED = {
    "zh_CN": {
        "speak.tap": "请轻触“{button}”。",
        "speak.rating": "请轻触一个表情为本次服务评分，也可以选择跳过。",
    },
    "en": {
        "speak.tap": "Tap “{button}”.",
        "speak.rating": "Tap a face to rate this service, or skip.",
    },
}


class Speaking:
    """Texts with the proposed spoken keys filled in."""

    def __init__(self, language: str) -> None:
        self.texts = Texts(language)
        self.extra = PROPOSED[language]

    def __call__(self, key: str, **values: object) -> str:
        text = self.texts(key, **values)
        if text or key not in self.extra:
            return text
        return self.extra[key].format(**values)


def view(state: State, language: str = "zh_CN", **fields: object) -> VisitView:
    return VisitView(state, language, 7, **fields)  # type: ignore[arg-type]


ZH, EN = Speaking("zh_CN"), Speaking("en")


# ---- speech_for ------------------------------------------------------------------------------
@pytest.mark.parametrize("state", [s for s in State if s is not State.TECHNICIAN])
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_step_has_something_to_say(state: State, language: str) -> None:
    v = view(
        state,
        language,
        service="queue_ticket",
        option="social_security",
        action="ticket",
        outcome="ticket",
        keypad_kind="phone",
        ticket="A001",
        receipt="printing",
        end_reason="finished",
    )
    for t in (Speaking(language), Texts(language)):  # with and without the spoken-only keys
        text = speech_for(v, t)
        assert text, f"{state} says nothing in {language}"
        assert "{" not in text and "。。" not in text and ". ." not in text


def test_the_technicians_mode_is_not_narrated() -> None:
    assert speech_for(view(State.TECHNICIAN), ZH) is None


def test_nothing_is_said_when_every_text_is_missing() -> None:
    assert speech_for(view(State.IDENTIFY, warning_seconds=20), lambda key, **v: "") is None


def test_a_step_is_its_title_and_instruction_as_sentences() -> None:
    assert speech_for(view(State.IDENTIFY), ZH) == (
        "请放置您的身份证。请将身份证平放在屏幕下方的读卡区。"
    )
    assert speech_for(view(State.IDENTIFY, "en"), EN) == (
        "Please place your ID card. Lay your ID card flat on the reader below the screen."
    )


def test_the_residents_name_is_never_spoken() -> None:
    text = speech_for(view(State.CATALOGUE, resident_name="张秀英"), ZH)
    assert text == "您好，欢迎。请选择要办理的业务。"


def test_what_a_resident_types_or_is_told_privately_is_never_spoken() -> None:
    typed = view(State.KEYPAD, keypad_kind="phone", entered="13800138000")
    assert speech_for(typed, ZH) == "请输入手机号码。方便我们回复您；不想留也可以跳过。"
    line = AnswerLine("余额", "Balance", "12345.67")
    answer = view(State.RESULT, outcome="answer", answer=(line,), reference="Q-778899")
    assert speech_for(answer, ZH) == "查询结果。"


def test_confirm_says_what_will_happen_and_which_button_to_tap() -> None:
    v = view(State.CONFIRM, service="queue_ticket", option="social_security", action="ticket")
    assert speech_for(v, ZH) == "请确认。为您领取「社会保险」窗口的排队号码。请轻触“确认取号”。"


def test_an_offer_says_which_button_takes_it() -> None:
    text = speech_for(view(State.RESULT, outcome="offline_offer"), ZH)
    assert text is not None
    assert text.startswith("网络暂时中断。现在查不到结果。")
    assert text.endswith("请轻触“打印申请单”。")


def test_a_card_problem_follows_the_step() -> None:
    text = speech_for(view(State.IDENTIFY, notice_key="card.read_failed"), ZH)
    assert text is not None
    assert text.endswith("没有读取成功，请将证件平放，稍等片刻。")


def test_the_reader_being_away_is_said_instead_of_an_older_card_problem() -> None:
    v = view(
        State.IDENTIFY, notice_key="card.read_failed", device_notice_key="device.reader_paused"
    )
    text = speech_for(v, ZH)
    assert text is not None
    assert "读卡器正在恢复" in text and "没有读取成功" not in text


def test_the_timeout_warning_says_the_seconds_and_the_button() -> None:
    text = speech_for(view(State.CHOOSE, "en", service="queue_ticket", warning_seconds=20), EN)
    assert text == (
        "Which service do you need? You have not touched the screen for a while."
        " This visit ends in 20 seconds. Tap “I need more time”."
    )


def test_the_ticket_is_spelled_out_like_a_counter_calls_it() -> None:
    v = view(State.RESULT, outcome="ticket", ticket="A001", receipt="printing")
    assert speech_for(v, ZH) == "取号成功。您的号码 A 0 0 1。正在打印凭条…"


def test_a_failed_receipt_repeats_the_number() -> None:
    v = view(State.RESULT, outcome="ticket", ticket="A001", receipt="failed")
    text = speech_for(v, ZH)
    assert text is not None
    assert text.endswith("凭条没有打印出来，请记住您的号码。您的号码 A 0 0 1。")


def test_a_failed_certificate_points_to_the_code_on_screen() -> None:
    v = view(State.RESULT, outcome="certificate", reference="C-2026-000123", receipt="failed")
    text = speech_for(v, ZH)
    assert text is not None
    assert "C-2026" not in text and text.endswith("可用手机拍下这个二维码，凭它到窗口查询。")


def test_a_query_that_found_nothing_says_why() -> None:
    v = view(State.RESULT, outcome="not_found", reason_key="answer.no_record")
    assert speech_for(v, ZH) == "没有查到记录。没有查到您的记录。"


def test_a_problem_says_what_happened() -> None:
    text = speech_for(view(State.PROBLEM, notice_key="problem.processing_timeout"), ZH)
    assert text == "抱歉，暂时无法办理。办理时间过长，请到服务台，工作人员会帮您确认。"


# ---- SpeechPlanner ---------------------------------------------------------------------------
def test_a_new_step_is_said_whole_and_interrupts() -> None:
    planner = SpeechPlanner()
    first = planner.plan(view(State.IDENTIFY), ZH)
    assert first == Speech(
        "请放置您的身份证。请将身份证平放在屏幕下方的读卡区。",
        "zh_CN",
        True,
        "请放置您的身份证。请将身份证平放在屏幕下方的读卡区。",
    )
    second = planner.plan(view(State.CATALOGUE), ZH)
    assert second is not None and second.interrupt and second.text.endswith("请选择要办理的业务。")


def test_ticks_that_change_nothing_spoken_are_silent() -> None:
    planner = SpeechPlanner()
    v = view(State.CHOOSE, service="queue_ticket")
    assert planner.plan(v, ZH) is not None
    assert planner.plan(v, ZH) is None
    assert planner.plan(replace(v, sync_link="offline", sync_waiting=3), ZH) is None
    assert planner.plan(replace(v, unavailable={"queue_ticket": "device.unavailable"}), ZH) is None


def test_the_warning_is_said_once_when_it_starts_and_again_after_more_time() -> None:
    planner = SpeechPlanner()
    v = view(State.CONFIRM, service="queue_ticket", option="general", action="ticket")
    planner.plan(v, ZH)
    start = planner.plan(replace(v, warning_seconds=20), ZH)
    assert start is not None
    assert start.text == "您已有一段时间没有操作，20 秒后将自动结束办理。请轻触“我还需要时间”。"
    assert not start.interrupt  # waits for the sentence in progress
    assert start.full.startswith("请确认。") and start.full.endswith(start.text)
    for seconds in range(19, -1, -1):  # the countdown itself is not read out
        assert planner.plan(replace(v, warning_seconds=seconds), ZH) is None
    assert planner.plan(v, ZH) is None  # "more time": nothing to say
    again = planner.plan(replace(v, warning_seconds=20), ZH)
    assert again is not None and "20 秒" in again.text


def test_a_new_notice_is_said_and_a_cleared_one_is_not() -> None:
    planner = SpeechPlanner()
    v = view(State.IDENTIFY)
    planner.plan(v, ZH)
    failed = planner.plan(replace(v, notice_key="card.read_failed"), ZH)
    assert failed == Speech(
        "没有读取成功，请将证件平放，稍等片刻。",
        "zh_CN",
        False,
        "请放置您的身份证。请将身份证平放在屏幕下方的读卡区。没有读取成功，请将证件平放，稍等片刻。",
    )
    assert planner.plan(replace(v, notice_key="card.read_failed"), ZH) is None
    assert planner.plan(replace(v, reading_card=True), ZH) is None  # reading clears the notice
    again = planner.plan(replace(v, notice_key="card.read_failed"), ZH)  # failed a second time
    assert again is not None and again.text.startswith("没有读取成功")


def test_a_language_change_says_the_step_again_in_the_new_language() -> None:
    planner = SpeechPlanner()
    planner.plan(view(State.CHOOSE, service="queue_ticket"), ZH)
    english = planner.plan(view(State.CHOOSE, "en", service="queue_ticket"), EN)
    assert english == Speech("Which service do you need?", "en", True, "Which service do you need?")


def test_staff_being_called_is_said_on_any_step() -> None:
    planner = SpeechPlanner()
    v = view(State.CHOOSE)
    planner.plan(v, ZH)
    called = planner.plan(replace(v, staff_called=True), ZH)
    assert called is not None and called.text == "已呼叫，请稍候。" and not called.interrupt


def test_the_receipt_news_follows_the_ticket_without_cutting_it_off() -> None:
    planner = SpeechPlanner()
    v = view(
        State.RESULT,
        outcome="ticket",
        option="general",
        ticket="D004",
        created_at=datetime(2026, 5, 1, 9, 30),
        receipt="printing",
    )
    entered = planner.plan(v, ZH)
    assert entered is not None and "D 0 0 4" in entered.text and entered.interrupt
    printed = planner.plan(replace(v, receipt="printed"), ZH)
    assert printed is not None
    assert (printed.text, printed.interrupt) == ("请取走下方的凭条。", False)


def test_a_new_visit_is_a_new_step_even_in_the_same_state() -> None:
    planner = SpeechPlanner()
    planner.plan(view(State.IDENTIFY), ZH)
    nxt = planner.plan(replace(view(State.IDENTIFY), visit=8), ZH)
    assert nxt is not None and nxt.interrupt


def test_the_technician_silences_the_planner_until_visits_resume() -> None:
    planner = SpeechPlanner()
    planner.plan(view(State.ATTRACT), ZH)
    assert planner.plan(view(State.TECHNICIAN), ZH) is None
    back = planner.plan(view(State.ATTRACT), ZH)
    assert back is not None and back.text.startswith("欢迎使用自助服务终端")


def test_the_people_ahead_are_said_when_the_platform_tells_them() -> None:
    planner = SpeechPlanner()
    ticket = view(State.RESULT, outcome="ticket", ticket="A012", action="ticket")
    first = planner.plan(ticket, ZH)
    assert first is not None and "前面" not in first.text
    news = planner.plan(replace(ticket, ahead=4), ZH)
    assert news is not None and news.text == "前面还有 4 人等候。" and not news.interrupt
    english = SpeechPlanner()
    english.plan(view(State.RESULT, "en", outcome="ticket", ticket="A012"), EN)
    none = english.plan(view(State.RESULT, "en", outcome="ticket", ticket="A012", ahead=0), EN)
    assert none is not None
    assert none.text == "Nobody is waiting ahead of you: watch for your number."
