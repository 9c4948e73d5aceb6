"""`kiosk rig run` on the real terminal, offscreen, in a process of its own as CI runs it: a
scenario that expects what is not there fails with what a person needs to see why (the screen,
the receipt, the log); a touch reaches only what is on screen; the shipped scenarios pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from tests.pcscd_daemon import Pcscd, pcscd_or_skip

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "kiosk" / "rig" / "scenarios").glob("*.yaml"))
# Played against pcscd with vpcd's readers, in a test of its own that starts pcscd when it can.
PCSC = [p for p in SHIPPED if p.stem == "fault-smart-card"]

WRONG_RECEIPT = """\
name: a ticket whose receipt says something else
devices: [id_card_reader, receipt_printer]
steps:
  - touch: startButton
  - touch: service_queue_ticket
  - present_card: 王芳
  - wait_for: choose
  - touch: option_general
  - touch: confirmButton
  - wait_for: result
  - expect_receipt:
      text: ["排队凭条", "请到 9 号窗口"]
"""

HIDDEN_TOUCH = """\
name: the rating's submit button is not on the attract screen
steps:
  - wait_for: attract
  - touch: {control: submitRating, timeout: 1}
"""


def rig_run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "rig", "run", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env, check=False,
    )  # fmt: skip


def test_a_wrong_receipt_and_a_hidden_control_fail_with_their_evidence(tmp_path: Path) -> None:
    """Given a scenario expecting a window number the ticket does not print and one touching a
    button of another screen, when the rig plays them, then both fail (exit 1) naming the step
    and its line, and the artifacts hold the screen, the receipt's picture and the log."""
    wrong = tmp_path / "wrong-receipt.yaml"
    wrong.write_text(WRONG_RECEIPT, "utf-8")
    hidden = tmp_path / "hidden-touch.yaml"
    hidden.write_text(HIDDEN_TOUCH, "utf-8")
    junit, artifacts = tmp_path / "junit.xml", tmp_path / "artifacts"
    done = rig_run(str(wrong), str(hidden), "--junit", str(junit), "--artifacts", str(artifacts))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    summary = done.stdout.splitlines()
    assert summary[0].startswith("FAIL  a ticket whose receipt says something else"), summary
    assert "step 8 (wrong-receipt.yaml:11) expect_receipt" in summary[0]
    assert "missing ['请到 9 号窗口']" in summary[0]
    assert summary[1].startswith("FAIL  the rating's submit button is not on the attract screen")
    assert "step 2 (hidden-touch.yaml:4) touch" in summary[1]
    assert "'submitRating' is not on screen" in summary[1]
    assert summary[2].startswith("2 scenario(s): 0 passed, 2 failed")

    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [
        "a ticket whose receipt says something else",
        "the rating's submit button is not on the attract screen",
    ]
    failure = cases[0].find("failure")
    assert failure is not None and "wrong-receipt.yaml:11" in (failure.get("message") or "")
    steps = [p.get("name") for p in cases[0].findall("./properties/property")]
    assert "step 01 line 4: touch startButton" in steps
    assert all(float(p.get("value") or -1) >= 0 for p in cases[0].findall("./properties/property"))
    assert "recorded queue_ticket" in (cases[0].findtext("system-out") or "")

    folder = artifacts / "01-wrong-receipt"
    screen = Image.open(folder / "failure.png")
    assert screen.size == (1920, 1080)
    assert ImageStat.Stat(screen.convert("L")).stddev[0] > 20, "the screenshot is blank"
    receipt = Image.open(folder / "receipt-preview.png")
    assert receipt.size[0] >= 500 and receipt.size[1] >= 600
    assert ImageStat.Stat(receipt.convert("L")).extrema[0][0] < 50, "no ink on the receipt"
    assert "排队凭条" in (folder / "receipt.txt").read_text("utf-8")
    assert "recorded queue_ticket" in (folder / "log-excerpt.txt").read_text("utf-8")
    assert "王芳" not in (folder / "log-excerpt.txt").read_text("utf-8")  # redacted as the logs
    assert (artifacts / "02-hidden-touch" / "failure.png").exists()


@pytest.mark.slow
def test_the_shipped_scenarios_pass_offscreen(tmp_path: Path) -> None:
    played = [p for p in SHIPPED if p not in PCSC]
    junit = tmp_path / "junit.xml"
    began = time.monotonic()
    done = rig_run(*map(str, played), "--junit", str(junit), "--artifacts", str(tmp_path / "a"))
    seconds = time.monotonic() - began
    print(done.stdout)
    print(f"shipped suite: {len(played)} scenarios in {seconds:.0f} s")
    assert done.returncode == 0, done.stdout + done.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(played)) and suite.get("failures") == "0"
    assert seconds < 300, f"the shipped suite took {seconds:.0f} s"


@pytest.fixture
def pcscd() -> Iterator[Pcscd]:
    pytest.importorskip("smartcard.scard", reason="pyscard is not installed")
    daemon = pcscd_or_skip("Virtual PCD 00 00")  # the reader kiosk run --simulate uses
    yield daemon
    daemon.stop()


def test_the_smart_card_faults_pass_against_pcscd(pcscd: Pcscd, tmp_path: Path) -> None:
    """Given pcscd with vpcd's readers (started here when none runs), when the rig plays the
    shipped smart card scenario, then the real PC/SC driver reads the virtual social-security
    card after every fault (garbage answers, pulled mid-read, mute, not seen, link cut)."""
    assert PCSC, "the shipped smart card scenario is missing"
    junit = tmp_path / "junit.xml"
    done = rig_run(*map(str, PCSC), "--junit", str(junit), "--artifacts", str(tmp_path / "a"))
    assert done.returncode == 0, done.stdout + done.stderr
    case = ET.parse(junit).getroot().find("./testsuite/testcase")
    assert case is not None and case.find("failure") is None
    log = case.findtext("system-out") or ""
    assert "card read failed: bad_response" in log  # the garbage really reached the driver
    assert "device smart_card_reader ready" in log


OPERATORS_BUNDLE = """\
name: the operators' own bundle, taken up
settings:
  central: {config_trust: TRUST, groups: [hepingli]}
steps:
  - wait_for: {state: attract, text: "和平里社区服务中心"}
  - take_config: {bundle: v5.json}
  - wait_for: {state: attract, text: "安贞社区服务中心"}
"""

WRONG_EXPECTATION = """\
name: a good bundle expected to be refused
settings:
  central: {config_trust: TRUST, groups: [hepingli]}
steps:
  - take_config: {bundle: v5.json, expect: refused}
"""

RIG_SIGNED_BUT_OWN_TRUST = """\
name: a payload for the rig to sign on a terminal with trusted keys of its own
settings:
  central: {config_trust: TRUST}
steps:
  - take_config: {payload: {language: en}}
"""


def central(*args: str, cwd: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "central", *args], cwd=cwd, capture_output=True, text=True,
        timeout=60, check=True, input="",
    )  # fmt: skip


def test_an_operators_signed_bundle_is_taken_up_and_the_report_is_checked(tmp_path: Path) -> None:
    """Given a bundle drafted and signed by two key holders with kiosk-central, and a rig whose
    terminal trusts their keys, when a scenario takes it up, then the attract screen shows the
    new centre's name; a scenario expecting it refused fails with the terminal's report; and a
    payload for the rig to sign on that terminal is a usage error (exit 2), not a refusal."""
    trust = tmp_path / "trust"
    for name in ("alice", "bob"):
        central("config", "keygen", "--out", "keys", "--name", name, cwd=tmp_path)
        trust.mkdir(exist_ok=True)
        (trust / f"{name}.pub").write_bytes((tmp_path / "keys" / f"{name}.pub").read_bytes())
    (trust / "threshold").write_text("2\n")
    payload = {"schema_version": 2, "centre": {"name_zh": "安贞社区服务中心", "name_en": "Anzhen"}}
    (tmp_path / "payload.json").write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
    central("config", "draft", "--version", "5", "--payload", "payload.json", "--group",
            "hepingli", "--out", "v5.json", cwd=tmp_path)  # fmt: skip
    for name in ("alice", "bob"):
        central("config", "sign", "v5.json", "--key", f"keys/{name}.key", "--yes", cwd=tmp_path)
    files = []
    for stem, text in (("taken-up", OPERATORS_BUNDLE), ("wrong", WRONG_EXPECTATION),
                       ("own-trust", RIG_SIGNED_BUT_OWN_TRUST)):  # fmt: skip
        path = tmp_path / f"{stem}.yaml"
        path.write_text(text.replace("TRUST", str(trust)), "utf-8")
        files.append(str(path))
    done = rig_run(*files, "--artifacts", str(tmp_path / "a"))
    lines = done.stdout.splitlines()
    assert done.returncode == 2, done.stdout + done.stderr
    assert lines[0].startswith("PASS  the operators' own bundle, taken up"), lines
    assert lines[1].startswith("FAIL  a good bundle expected to be refused"), lines
    assert "step 1 (wrong.yaml:5) take_config" in lines[1]
    assert "expected refused; the terminal reported applied v5, running v5" in lines[1]
    assert done.stderr.strip().splitlines() == [
        "kiosk: take_config signs with the rig's keys, but this configuration trusts "
        "[central] config_trust: give a bundle file signed for it (bundle: FILE)"
    ]
    assert "Traceback" not in done.stderr
