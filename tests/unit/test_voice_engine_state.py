"""The speech engine's state as the technician reads it: the engine's process says why it could
not start, the report keeps the running engine's state, and the voice self-test words it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kiosk.technician.said import render
from kiosk.technician.selftests import SELFTESTS, SelfTestContext, run_selftest, run_selftests
from kiosk.technician.speech import (
    STARTING,
    UNAVAILABLE,
    WORKING,
    SpeechReport,
    SpeechState,
)
from kiosk.texts import Texts

ROOT = Path(__file__).resolve().parents[2]


def context(tmp_path: Path, report: SpeechReport) -> SelfTestContext:
    return SelfTestContext(tmp_path, speech=report.get)


def test_the_engine_process_says_which_engine_is_missing() -> None:
    """Asked for an engine Qt does not have, the engine's process answers that it is not
    installed (and ends), so the kiosk can say why it is silent without waiting for anything."""
    done = subprocess.run(
        [sys.executable, "-m", "screens.voice_process", "--engine", "no-such-engine"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    events = [json.loads(line) for line in done.stdout.splitlines()]
    (opened,) = [e for e in events if e["event"] == "opened"]
    assert opened == {
        "event": "opened",
        "engine": "",
        "problems": {"no-such-engine": "not_installed"},
    }


def test_speech_dispatcher_that_fails_for_want_of_its_program_is_not_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from screens.voice_process import _why_failed

    monkeypatch.setenv("PATH", str(tmp_path))  # no speech-dispatcher anywhere
    assert _why_failed("speechd") == "not_installed"
    assert _why_failed("flite") == "failed"


def test_the_voice_self_test_says_working_or_why_not_in_both_languages(tmp_path: Path) -> None:
    report = SpeechReport()
    owner = object()
    report.publish(owner, SpeechState(WORKING, "speechd"))
    ok = run_selftest("voice", context(tmp_path, report))
    assert (ok.verdict, ok.summary) == ("pass", "voice working (speech-dispatcher)")
    assert render(ok.said, Texts("zh_CN")) == "语音播报正常（speech-dispatcher）"

    for reason, zh in (
        ("not_installed", "未安装 speech-dispatcher"),
        ("failed", "speech-dispatcher 无法启动"),
        ("hung", "speech-dispatcher 没有响应"),
        ("crashed", "speech-dispatcher 多次出错，已停用"),
    ):
        report.publish(owner, SpeechState(UNAVAILABLE, "speechd", reason))
        down = run_selftest("voice", context(tmp_path, report))
        assert down.verdict == "fail" and down.summary.startswith("voice unavailable: ")
        assert render(down.said, Texts("zh_CN")) == f"语音播报不可用：{zh}"
    assert (
        down.summary
        == "voice unavailable: speech-dispatcher failed again and again and was switched off"
    )


def test_the_voice_self_test_waits_for_an_engine_still_starting(tmp_path: Path) -> None:
    report = SpeechReport()
    owner = object()
    report.publish(owner, SpeechState(STARTING))
    later = threading.Timer(0.3, lambda: report.publish(owner, SpeechState(WORKING, "mock")))
    later.start()
    try:
        result = run_selftest("voice", context(tmp_path, report))
    finally:
        later.join()
    assert result.verdict == "pass" and result.summary == "voice working (mock)"


def test_outside_the_window_there_is_no_engine_and_the_cli_does_not_run_it(
    tmp_path: Path,
) -> None:
    skipped = run_selftest("voice", SelfTestContext(tmp_path))
    assert skipped.verdict == "skip"
    assert SELFTESTS["voice"].window_only
    # ``kiosk diag selftest`` with no names runs what a CLI can test, as before.
    names = [r.name for r in run_selftests(None, SelfTestContext(tmp_path))]
    assert names == ["card", "print", "camera", "network", "disk", "outbox"]


def test_a_newer_engine_keeps_its_report_when_an_older_one_ends() -> None:
    report = SpeechReport()
    old, new = object(), object()
    report.publish(old, SpeechState(WORKING, "mock"))
    report.publish(new, SpeechState(UNAVAILABLE, "speechd", "hung"))
    report.withdraw(old)
    assert report.get() == SpeechState(UNAVAILABLE, "speechd", "hung")
    report.withdraw(new)
    assert report.get() is None
