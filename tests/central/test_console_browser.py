"""The console in a real browser, as a centre manager uses it: Debian's chromium, headless, driven
by Playwright, against a real ``kiosk-central serve`` process whose terminals sent real heartbeats
and visit records over the API. Sign in, see which terminal needs a technician and why, filter
the fleet, open that terminal, read this month's 一次办成率 and 满意率 by service (the figures the
seeded visits imply), download the CSV, switch to English. Screenshots go to
test-artifacts/console/; look at them."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from tests.platform_process import Platform, central, platform_process

CHROMIUM = shutil.which("chromium")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium: apt-get install chromium"
)

PASSWORD = "manager password 1"


def post(url: str, token: str, body: object) -> None:
    request = Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})  # fmt: skip
    with urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def heartbeat(
    platform: Platform, kiosk_id: str, token: str, printer: str, fault: str | None
) -> None:
    body = {
        "app_version": "0.1.0", "queue_depth": 0,
        "sent_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "devices": [
            {"name": "id_card_reader", "kind": "id_card_reader", "driver": "sim", "state": "ready"},
            {"name": "receipt_printer", "kind": "receipt_printer", "driver": "sim",
             "state": printer, "fault_code": fault},
        ],
    }  # fmt: skip
    post(f"{platform.url}/v1/kiosks/{kiosk_id}/heartbeat", token, body)


def send_visits(platform: Platform, kiosk_id: str, token: str, visits: list[dict]) -> None:  # type: ignore[type-arg]
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    items = [
        {"uuid": f"0190b000-0000-7000-8000-{n:012d}", "seq": n, "service": v["record"],
         "payload": v, "created_at": now}
        for n, v in enumerate(visits, start=1)
    ]  # fmt: skip
    post(f"{platform.url}/v1/kiosks/{kiosk_id}/batches", token, {"items": items})


def visit(service: str, completed: bool) -> dict:  # type: ignore[type-arg]
    return {"record": "visit_metrics", "visit_id": "a" * 32, "service": service, "steps": [],
            "seconds": 30.0, "completed": completed, "ended": "finished" if completed else
            "cancelled", "ended_at": "goodbye" if completed else "confirm", "faults": [],
            "elder": False, "language": "zh_CN"}  # fmt: skip


def rating(service: str, score: int) -> dict:  # type: ignore[type-arg]
    return {"record": "rating", "visit_id": "a" * 32, "service": service, "score": score}


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    with platform_process(tmp_path / "platform", "kiosk-hall-01") as running:
        done = subprocess.run(
            [sys.executable, "-m", "central", "user", "add", "manager", "--role", "operator",
             "--db", running.db_url],
            input=PASSWORD + "\n", capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        second = central("kiosk", "add", "kiosk-hall-02", "--group", "north", "--db",
                         running.db_url).strip().splitlines()[-1]  # fmt: skip
        central("kiosk", "add", "kiosk-attic-03", "--db", running.db_url)  # never seen
        heartbeat(running, "kiosk-hall-01", running.token, "ready", None)
        heartbeat(running, "kiosk-hall-02", second, "fault", "paper_out")
        # social_security: 4 chose it, 3 done (75.0%); rated 5, 4, 1 (满意率 66.7%)
        send_visits(running, "kiosk-hall-01", running.token, [
            visit("social_security", True), rating("social_security", 5),
            visit("social_security", True), rating("social_security", 4),
            visit("social_security", False), rating("social_security", 1),
            visit("certificate", True), rating("certificate", 5),
            # ... and the visits' feedback left a phone for a call back (sealed; none here)
            {"record": "feedback", "visit_id": "a" * 32, "language": "zh_CN",
             "has_text": True, "has_phone": True},
        ])  # fmt: skip
        send_visits(running, "kiosk-hall-02", second, [
            visit("social_security", True),
            {"record": "technician_audit", "event": "enter", "session": "s1", "method": "pin"},
        ])  # fmt: skip
        central("alerts", "check", "--db", running.db_url)  # the printer's fault is seen
        # A configuration for the north group, signed offline, at 20%; hall-02 rolled it back.
        keys, bundle = tmp_path / "keys", tmp_path / "v1.json"
        central("config", "keygen", "--out", str(keys), "--name", "alice")
        payload = tmp_path / "payload.json"
        payload.write_text(json.dumps({"schema_version": 2, "timeouts": {"identify": 100}}))
        central("config", "draft", "--version", "1", "--payload", str(payload),
                "--group", "north", "--out", str(bundle))  # fmt: skip
        central("config", "sign", str(bundle), "--key", str(keys / "alice.key"), "--yes")
        central("config", "publish", str(bundle), "--group", "north", "--percent", "20",
                "--db", running.db_url)  # fmt: skip
        # Version 2, signed offline too, waits to be published from the console.
        payload.write_text(json.dumps({"schema_version": 2, "timeouts": {"identify": 90}}))
        central("config", "draft", "--version", "2", "--payload", str(payload),
                "--group", "north", "--out", str(tmp_path / "v2.json"))  # fmt: skip
        central("config", "sign", str(tmp_path / "v2.json"), "--key", str(keys / "alice.key"),
                "--yes")  # fmt: skip
        why = "the attract screen did not paint"
        report = {"version": 1, "status": "rolled_back", "reason": why}
        post(f"{running.url}/v1/kiosks/kiosk-hall-02/config-report", second, report)
        yield running


@pytest.fixture
def page(artifacts: Path) -> Iterator[object]:
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox"])  # fmt: skip
        context = browser.new_context(
            viewport={"width": 1366, "height": 900}, accept_downloads=True
        )
        yield context.new_page()
        context.close()
        browser.close()


def test_a_manager_signs_in_finds_the_terminal_to_fix_and_reads_the_kpis(
    platform: Platform, page: object, artifacts: Path, tmp_path: Path
) -> None:
    p = page  # a Playwright Page
    shots = artifacts / "console"
    shots.mkdir(parents=True, exist_ok=True)
    expect = playwright_api.expect

    p.goto(f"{platform.url}/console/")  # type: ignore[attr-defined]
    expect(p.get_by_role("heading", name="登录")).to_be_visible()  # type: ignore[attr-defined]
    p.get_by_label("用户名").fill("manager")  # type: ignore[attr-defined]
    p.get_by_label("密码").fill("wrong password!")  # type: ignore[attr-defined]
    p.get_by_role("button", name="登录").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("alert")).to_have_text("用户名或密码不正确。")  # type: ignore[attr-defined]
    p.get_by_label("用户名").fill("manager")  # type: ignore[attr-defined]
    p.get_by_label("密码").fill(PASSWORD)  # type: ignore[attr-defined]
    p.get_by_role("button", name="登录").click()  # type: ignore[attr-defined]

    # The fleet: problems first. The printer out of paper and the terminal never seen.
    expect(p.get_by_role("heading", name="终端概况")).to_be_visible()  # type: ignore[attr-defined]
    p.screenshot(path=str(shots / "01-fleet.png"), full_page=True)  # type: ignore[attr-defined]
    rows = p.locator("table.fleet tbody tr")  # type: ignore[attr-defined]
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("kiosk-attic-03")
    expect(rows.nth(0)).to_contain_text("从未上线")
    expect(rows.nth(1)).to_contain_text("kiosk-hall-02")
    expect(rows.nth(1)).to_contain_text("设备故障: receipt_printer:paper_out")
    expect(rows.nth(2)).to_contain_text("正常")
    expect(p.locator("#count-attention .n")).to_have_text("1")  # type: ignore[attr-defined]

    p.locator("#filter-state").select_option("attention")  # type: ignore[attr-defined]
    p.locator("#filter-apply").click()  # type: ignore[attr-defined]
    expect(rows).to_have_count(1)
    p.get_by_role("link", name="kiosk-hall-02").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("heading", name="终端 kiosk-hall-02 需处理")).to_be_visible()  # type: ignore[attr-defined]
    expect(p.locator("tr.bad").first).to_contain_text("paper_out")  # type: ignore[attr-defined]
    expect(p.locator("#kiosk-history")).to_contain_text("receipt_printer: paper_out")  # type: ignore[attr-defined]
    expect(p.locator("#kiosk-technician")).to_contain_text("enter")  # type: ignore[attr-defined]
    p.screenshot(path=str(shots / "02-terminal.png"), full_page=True)  # type: ignore[attr-defined]

    # This month's KPIs by service, as the seeded visits imply.
    p.get_by_role("link", name="服务指标").click()  # type: ignore[attr-defined]
    social = p.locator('#kpi-table tr[data-key="social_security"]')  # type: ignore[attr-defined]
    expect(social.locator('[data-kpi="visits"]')).to_have_text("4")
    expect(social.locator('[data-kpi="done_in_one_visit"]')).to_have_text("75.0%")
    expect(social.locator('[data-kpi="satisfaction"]')).to_have_text("66.7%")
    expect(social.locator('[data-kpi="bad_ratings"]')).to_have_text("1")
    total = p.locator('#kpi-table tr[data-key="total"]')  # type: ignore[attr-defined]
    expect(total.locator('[data-kpi="done_in_one_visit"]')).to_have_text("80.0%")
    expect(p.locator("#kpi-chart svg rect.bar0")).to_have_count(3)  # two services and the legend  # type: ignore[attr-defined]
    # The month day by day: today's visits among days without any (the seeded visits are
    # today's; on the 1st the month is one day, and one day draws no trend).
    if date.today().day > 1:
        expect(p.locator("#kpi-trend svg rect.volume title")).to_have_count(date.today().day)  # type: ignore[attr-defined]
        expect(p.locator("#kpi-trend svg circle.dot0")).to_have_count(1)  # type: ignore[attr-defined]
    p.screenshot(path=str(shots / "03-kpi.png"), full_page=True)  # type: ignore[attr-defined]

    with p.expect_download() as waiting:  # type: ignore[attr-defined]
        p.locator("#kpi-csv").click()  # type: ignore[attr-defined]
    saved = tmp_path / "kpi.csv"
    waiting.value.save_as(saved)
    lines = list(csv.reader(io.StringIO(saved.read_text("utf-8-sig"))))
    by_key = {line[0]: line for line in lines[1:]}
    assert lines[0][:4] == ["service", "visits", "chose", "completed"]
    assert by_key["social_security"][1:4] == ["4", "4", "3"] and by_key["total"][1] == "5"

    # The 非常不满意 opened a case: work it to 回访.
    expect(p.locator('#kpi-cases [data-kpi="rectification_rate"]')).to_have_text("—")  # type: ignore[attr-defined]
    p.get_by_role("link", name="差评整改").click()  # type: ignore[attr-defined]
    cases = p.locator("table.cases tbody tr")  # type: ignore[attr-defined]
    expect(cases).to_have_count(1)
    expect(cases.nth(0)).to_contain_text("非常不满意")
    cases.nth(0).get_by_role("link").click()
    expect(p.locator("#case-call-back")).to_contain_text("kiosk-central personal open")  # type: ignore[attr-defined]
    for button, note, state in (
        ("开始整改", "已联系窗口负责人核实情况", "整改中"),
        ("整改完成", "调整了窗口排班，高峰时段加开一个窗口", "已整改"),
        ("回访完成", "电话回访，居民表示满意", "已回访"),
    ):
        p.locator("#case-note").fill(note)  # type: ignore[attr-defined]
        p.get_by_role("button", name=button).click()  # type: ignore[attr-defined]
        expect(p.locator("#case-state")).to_have_text(state)  # type: ignore[attr-defined]
    expect(p.locator("table.small")).to_contain_text("电话回访")  # type: ignore[attr-defined]
    p.screenshot(path=str(shots / "04-case.png"), full_page=True)  # type: ignore[attr-defined]
    p.get_by_role("link", name="服务指标").click()  # type: ignore[attr-defined]
    expect(p.locator('#kpi-cases [data-kpi="rectification_rate"]')).to_have_text("100.0%")  # type: ignore[attr-defined]
    expect(p.locator('#kpi-cases [data-kpi="follow_up_rate"]')).to_have_text("100.0%")  # type: ignore[attr-defined]

    # The rollout that hall-02 rolled back: halt it.
    p.get_by_role("link", name="配置发布").click()  # type: ignore[attr-defined]
    bundle_row = p.locator('tr[data-bundle="north:1"]')  # type: ignore[attr-defined]
    expect(bundle_row).to_contain_text("20%")
    expect(p.locator("tr.bad")).to_contain_text("the attract screen did not paint")  # type: ignore[attr-defined]
    bundle_row.get_by_role("button", name="暂停发布").click()
    expect(bundle_row).to_contain_text("已暂停")
    p.screenshot(path=str(shots / "05-rollout-halted.png"), full_page=True)  # type: ignore[attr-defined]
    # ... and publish version 2, signed offline, to a tenth of the group.
    p.get_by_label("已签名的配置文件").set_input_files(str(tmp_path / "v2.json"))  # type: ignore[attr-defined]
    p.get_by_label("发布到分组").select_option("north")  # type: ignore[attr-defined]
    p.get_by_role("button", name="发布", exact=True).click()  # type: ignore[attr-defined]
    expect(p.locator('tr[data-bundle="north:2"]')).to_contain_text("10%")  # type: ignore[attr-defined]
    p.screenshot(path=str(shots / "05b-rollout-published.png"), full_page=True)  # type: ignore[attr-defined]

    p.get_by_role("link", name="服务指标").click()  # type: ignore[attr-defined]
    p.locator("#language").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("heading", name="Service KPIs")).to_be_visible()  # type: ignore[attr-defined]
    p.screenshot(path=str(shots / "06-kpi-en.png"), full_page=True)  # type: ignore[attr-defined]
    p.locator("#logout").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("heading", name="Sign in")).to_be_visible()  # type: ignore[attr-defined]
