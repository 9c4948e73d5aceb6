"""Scenario files: what a rig operator gets wrong is one line naming the file and the line, exit 2,
never a traceback; the shipped scenarios and the shipped JSON Schema hold together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.camera import CAMERA_FAULTS
from drivers.sim_escpos_sink import FAULTS as PRINTER_FAULTS
from drivers.sim_sam import FAULTS as SAM_FAULTS
from drivers.sim_vpcd import FAULTS as SMARTCARD_FAULTS
from kiosk.rig import scenario as sc
from kiosk.rig.controls import control_check
from kiosk.rig.loader import ScenarioError, parse

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "kiosk" / "rig" / "scenarios").glob("*.yaml"))

GOOD_START = "name: a visit\nsteps:\n  - touch: startButton\n"

# (what is wrong, the file, the line it is on, words the message must hold)
BAD = [
    (
        "unknown step",
        GOOD_START + "  - tuch: service_feedback\n",
        4,
        ["unknown step 'tuch'", "touch"],
    ),
    (
        "unknown control",
        GOOD_START + "  - touch: startButon\n",
        4,
        ["no control named 'startButon'", "startButton"],
    ),
    (
        "unknown control, long form",
        GOOD_START + "  - touch:\n      control: serviceFeedback\n",
        5,
        ["serviceFeedback"],
    ),
    (
        "unknown fault",
        GOOD_START + "  - inject: {device: receipt_printer, fault: paper_jam}\n",
        4,
        ["no fault 'paper_jam'", "paper_out"],
    ),
    (
        "fault of another device",
        GOOD_START + "  - inject:\n      device: camera\n      fault: paper_out\n",
        6,
        ["camera has no fault 'paper_out'"],
    ),
    (
        "YAML syntax error",
        GOOD_START + "  - touch: [startButton\n  - remove_card\n",
        4,
        ["YAML syntax error"],
    ),
    ("bad indentation", "name: x\nsteps:\n  - touch: a\n - touch: b\n", 4, ["YAML syntax error"]),
    ("unknown key", "name: x\nstep:\n  - touch: startButton\n", 2, ["unknown key 'step'", "steps"]),
    (
        "unknown argument",
        GOOD_START + "  - wait_for: {state: result, timout: 3}\n",
        4,
        ["unknown field 'timout'"],
    ),
    ("unknown state", GOOD_START + "  - wait_for: resultt\n", 4, ["wait_for"]),
    (
        "unknown resident",
        GOOD_START + "  - present_card: 张三\n",
        4,
        ["no sample resident '张三'", "张秀英"],
    ),
    (
        "two steps in one",
        GOOD_START + "  - touch: startButton\n    remove_card: null\n",
        4,
        ["one key"],
    ),
    ("no steps", "name: x\nsteps: []\n", 2, ["steps"]),
    (
        "a service the catalogue lacks",
        GOOD_START + "  - take_config:\n      drop_services: [feedbak]\n",
        5,
        ["take_config: no service 'feedbak' in the shipped catalogue", "feedback"],
    ),
    (
        "a payload terminals would refuse",
        GOOD_START + "  - take_config:\n      payload:\n        timeouts: {identify: 5}\n",
        6,
        ["terminals would refuse it", "payload.timeouts.identify"],
    ),
    (
        "a bundle file that is not there",
        GOOD_START + "  - take_config: {bundle: v7.json}\n",
        4,
        ["no file v7.json beside mine.yaml"],
    ),
    (
        "a bundle file with a payload",
        GOOD_START + "  - take_config: {bundle: v7.json, payload: {language: en}}\n",
        4,
        ["published as it is"],
    ),
    (
        "bad settings",
        "name: x\nsettings:\n  timeouts:\n    goodbye: -3\nsteps:\n  - remove_card\n",
        4,
        ["settings", "goodbye"],
    ),
]


@pytest.mark.parametrize(("text", "line", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_mistake_names_its_file_and_line(text: str, line: int, words: list[str]) -> None:
    path = Path("rigs/mine.yaml")
    with pytest.raises(ScenarioError) as caught:
        parse(text, path, control_check=control_check())
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    for word in words:
        assert word in message, message


def test_kiosk_rig_check_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    """Given a scenario with a typo'd control and another with a fault the printer lacks, when
    `kiosk rig check` reads them, then each is one line file:line on stderr, exit 2."""
    typo = tmp_path / "typo.yaml"
    typo.write_text(GOOD_START + "  - touch: confirmButon\n", "utf-8")
    fault = tmp_path / "fault.yaml"
    fault.write_text(GOOD_START + "  - inject: {device: receipt_printer, fault: jam}\n", "utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [x\n", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "rig", "check", str(typo), str(fault), str(broken)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"kiosk: {typo}:4: touch: no control named 'confirmButon' in the terminal's window "
        "(did you mean 'confirmButton'?)",
        f"kiosk: {fault}:4: inject: the receipt_printer has no fault 'jam'; its faults: "
        "cover_open, paper_out, unplugged",
        f"kiosk: {broken}:1: YAML syntax error: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence opened here)",
    ], lines


def test_kiosk_rig_run_plays_nothing_when_a_file_is_wrong(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD_START + "  - press: startButton\n", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "rig", "run", str(bad), "--artifacts", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == f"kiosk: {bad}:4: unknown step 'press'" + (
        f"; known: {', '.join(sorted(sc.STEP_MODELS))}"
    )
    assert "Traceback" not in done.stderr


def test_the_shipped_scenarios_check_and_are_listed() -> None:
    assert len(SHIPPED) >= 10
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "rig", "check", *map(str, SHIPPED)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "kiosk", "rig", "list"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=True,
    ).stdout  # fmt: skip
    names = sorted(line.split()[0] for line in listed.splitlines())
    assert names == sorted(p.stem for p in SHIPPED)


def test_the_simulator_faults_are_the_simulators_own_and_the_readmes() -> None:
    assert sc.SIMULATOR_FAULTS == {
        "id_card_reader": SAM_FAULTS,
        "receipt_printer": PRINTER_FAULTS,
        "smart_card_reader": SMARTCARD_FAULTS,
        "camera": CAMERA_FAULTS,
    }
    readme = (ROOT / "README.md").read_text("utf-8")
    listed = readme[readme.index("Simulator faults (`--fault`") :][:600]
    for faults in sc.SIMULATOR_FAULTS.values():
        for fault in faults:
            assert f"`{fault}`" in listed, fault


def test_the_shipped_schema_is_the_models() -> None:
    """The JSON Schema shipped for editors and outside tools is generated from the step models
    the loader validates with; every step kind is in it, each a mapping with one key."""
    shipped = json.loads((ROOT / "kiosk" / "rig" / "scenario.schema.json").read_text("utf-8"))
    assert shipped == sc.schema(), "regenerate: kiosk rig schema > kiosk/rig/scenario.schema.json"
    branches = shipped["properties"]["steps"]["items"]["anyOf"]
    kinds = set()
    for branch in branches:
        step = shipped["$defs"][branch["$ref"].rsplit("/", 1)[1]]
        assert step["additionalProperties"] is False and len(step["properties"]) == 1
        kinds |= set(step["properties"])
    assert kinds == set(sc.STEP_MODELS)
