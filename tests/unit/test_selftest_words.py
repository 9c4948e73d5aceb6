"""Self-test results carry text keys, so the technician's page reads them in the terminal's
language (the CLI keeps its English); the network self-test treats a missing embedded platform as
a failure, not "nothing configured"; dates and times are local, in each language's format."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.technician import selftests
from kiosk.technician.said import render
from kiosk.technician.selftests import SelfTestContext, SelfTestResult, run_selftest
from kiosk.texts import LANGUAGES, Texts, _table
from offline.outbox import OutboxStore
from screens.technician.localized_words import stamped, when

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
ZH, EN = Texts("zh_CN"), Texts("en")


def chinese(result: SelfTestResult) -> str:
    return render(result.said, ZH)


def test_every_result_key_the_self_tests_name_exists_in_both_languages() -> None:
    named: set[str] = set()
    for path in (ROOT / "kiosk" / "technician").glob("*.py"):
        code = path.read_text("utf-8")
        named |= set(re.findall(r"""said\(\s*"(diag\.[a-z_.]+)\"""", code))
        named |= {f"diag.result.{k}" for k in re.findall(r"""\bfail\(\s*"([a-z_]+)\"""", code)}
    assert len(named) > 30
    for language in LANGUAGES:
        assert named <= set(_table(language)), named - set(_table(language))
    words = [k for k in _table("zh_CN") if k.startswith(("diag.result.", "diag.speech."))]
    assert [k for k in words if not CJK.search(ZH(k)) and k != "diag.result.device_problem"] == []


def test_disk_and_outbox_read_in_chinese_and_their_english_is_unchanged(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "kiosk.db")
    try:
        store.record("queue_ticket", {"option": "general"})
        ctx = SelfTestContext(tmp_path, store=store)
        disk, outbox = run_selftest("disk", ctx), run_selftest("outbox", ctx)
    finally:
        store.close()
    assert chinese(disk).startswith("磁盘正常：剩余 ") and "，共 " in chinese(disk)
    assert re.fullmatch(
        r"待发送队列正常：数据库完好，1 条待发送（最早一条已等待 \d+ 秒），0 条被平台拒绝",
        chinese(outbox),
    ), chinese(outbox)
    assert re.fullmatch(r"outbox ok: database intact, 1 waiting \(oldest \d+ s\), 0 dead letters",
                        outbox.summary)  # fmt: skip
    for result in (disk, outbox):
        assert not ENGLISH_WORD.search(chinese(result)), chinese(result)
        assert render(result.said, EN) == result.summary


def test_an_unreachable_platform_and_a_broken_test_read_in_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = run_selftest(
        "network", SelfTestContext(tmp_path, central_url=f"http://127.0.0.1:{port}")
    )
    assert chinese(refused) == f"网络：127.0.0.1:{port} 拒绝连接"

    def broken(ctx: SelfTestContext, deadline: Any) -> Any:
        raise RuntimeError("oops")

    monkeypatch.setitem(selftests.SELFTESTS, "disk", selftests.SelfTest("disk", broken, timeout=1))
    failed = run_selftest("disk", SelfTestContext(tmp_path))
    assert failed.summary == "disk: error: RuntimeError: oops"  # the CLI names the test as it does
    assert chinese(failed) == "磁盘空间：出错：RuntimeError: oops"  # the page as its button does


def test_an_embedded_platform_that_is_not_running_fails_rather_than_skips(tmp_path: Path) -> None:
    result = run_selftest("network", SelfTestContext(tmp_path, embedded=True))
    assert (result.verdict, result.summary) == (
        "fail",
        "platform: the embedded platform is not running (see the log)",
    )
    assert chinese(result) == "平台：内置平台没有运行（请查看日志）"
    # Only a terminal that configures no platform at all and embeds none has nothing to test.
    assert run_selftest("network", SelfTestContext(tmp_path)).verdict == "skip"


@pytest.fixture
def beijing_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "CST-8")  # UTC+8 in POSIX form: no tz database needed
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_shown_in_the_local_zone_in_each_languages_format(beijing_time: None) -> None:
    utc = "2026-12-05T06:03:09+00:00"
    assert when(utc, ZH) == "2026年12月5日 14:03"
    assert when(utc, EN) == "5 Dec 2026 14:03"
    assert when(utc, EN, seconds=True) == "5 Dec 2026 14:03:09"
    assert when("2026-12-05T23:30:00.123Z", ZH) == "2026年12月6日 07:30"
    assert when("not a time", ZH) == "not a time" and when(None, ZH) == ""
    note = "2026-12-05T06:03:09+00:00 ok: sent 3, acknowledged 3, dead 0"
    assert stamped(note, ZH) == "2026年12月5日 14:03 ok: sent 3, acknowledged 3, dead 0"
    assert stamped("connection refused", ZH) == "connection refused"
