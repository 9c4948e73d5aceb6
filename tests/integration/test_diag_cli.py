"""``kiosk diag ...`` as a technician on an SSH session and a rig use it: real processes against the
simulators, with the printer out of paper, and a bundle that carries no personal data."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.sim_cards import SAMPLE_CARDS
from kiosk.logs import setup_logging
from kiosk.technician.access import verify_pin
from kiosk.technician.redaction import forget_personal, remember_personal
from offline.outbox import OutboxStore
from tests.integration.test_kiosk_cli import kiosk

CARD = SAMPLE_CARDS[1]
PHONE = "13987654321"
TOKEN = "tok-5f1c9e-do-not-leak"

PAPER_OUT = '[devices.receipt_printer]\ndriver = "sim"\nfaults = ["paper_out"]\n'


@pytest.fixture
def paper_out(tmp_path: Path) -> Path:
    """A configuration whose simulated printer starts out of paper."""
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(PAPER_OUT, encoding="utf-8")
    return cfg


def one_line_error(stderr: str) -> bool:
    return stderr.count("\n") == 1 and stderr.startswith("kiosk: ") and "Traceback" not in stderr


def test_diag_devices_json(tmp_path: Path, paper_out: Path) -> None:
    out = kiosk(
        "diag", "devices", "--json", "--simulate", "--config", str(paper_out),
        "--data-dir", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = {r["kind"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert list(rows) == ["id_card_reader", "receipt_printer", "camera", "smart_card_reader"]
    for row in rows.values():
        assert set(row) == {
            "name", "kind", "driver", "where", "state", "problem", "fault", "last_fault",
            "counters", "facts",
        }  # fmt: skip
        assert set(row["counters"]) == {"operations", "faults", "reconnects", "since"}
    printer = rows["receipt_printer"]
    assert (printer["state"], printer["problem"]) == ("fault", "printer: paper out")
    assert printer["fault"]["code"] == "paper_out" and printer["counters"]["faults"] == 1
    assert printer["where"].startswith("127.0.0.1:")
    reader = rows["id_card_reader"]
    assert (reader["state"], reader["problem"]) == ("ready", None)
    assert reader["where"] == str(tmp_path / "sim-sam-reader")
    assert reader["facts"]["sam_id"]


def test_diag_devices_text_names_the_problem(tmp_path: Path, paper_out: Path) -> None:
    out = kiosk("diag", "devices", "--config", str(paper_out), "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "receipt_printer: FAULT - printer: paper out" in out.stdout
    assert "  last fault  printer: paper out (paper end sensor) at " in out.stdout


def test_selftest_with_the_printer_out_of_paper(tmp_path: Path, paper_out: Path) -> None:
    out = kiosk(
        "diag", "selftest", "--simulate", "--json", "--config", str(paper_out),
        "--data-dir", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 1
    assert one_line_error(out.stderr) and "print" in out.stderr
    results = {r["name"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert list(results) == ["card", "print", "camera", "network", "disk", "outbox"]
    assert (results["print"]["verdict"], results["print"]["summary"]) == (
        "fail",
        "printer: paper out",
    )
    assert (results["card"]["verdict"], results["card"]["summary"]) == (
        "pass",
        "card read ok, ID number valid",
    )
    assert results["camera"]["verdict"] == "pass", results["camera"]["summary"]
    assert results["camera"]["details"]["faces"] == 1
    assert results["network"]["verdict"] == "skip"  # no platform configured
    assert results["disk"]["verdict"] == "pass"
    read = SAMPLE_CARDS[0]  # what the simulated reader was given: never shown
    for value in (read.name, read.id_number, read.address, read.photo_sha256):
        assert value not in out.stdout


def test_selftest_with_the_reader_and_camera_unplugged(tmp_path: Path) -> None:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        '[devices.id_card_reader]\ndriver = "sim"\nfaults = ["unplugged"]\n'
        '[devices.camera]\ndriver = "sim"\nfaults = ["unplugged"]\n',
        encoding="utf-8",
    )
    out = kiosk(
        "diag", "selftest", "card", "camera", "--config", str(cfg), "--data-dir", str(tmp_path)
    )
    assert out.returncode == 1 and one_line_error(out.stderr)
    assert out.stdout.splitlines()[0].startswith(
        "FAIL  card     card reader: cannot open its port (unplugged?)"
    )
    assert out.stdout.splitlines()[1].startswith(
        "FAIL  camera   camera: cannot open the camera (unplugged?)"
    )


def test_selftest_by_name_passes_and_usage_errors(tmp_path: Path) -> None:
    out = kiosk("diag", "selftest", "disk", "outbox", "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("PASS  disk ")
    assert "SKIP  outbox " in out.stdout
    bad = kiosk("diag", "selftest", "toaster", "--data-dir", str(tmp_path))
    assert bad.returncode == 2 and one_line_error(bad.stderr)
    assert "no self-test named toaster" in bad.stderr


def test_hash_pin_from_stdin(tmp_path: Path) -> None:
    import subprocess
    import sys

    def run(pin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiosk", "diag", "hash-pin"],
            input=pin + "\n",
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    out = run("204863")
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert line.startswith("scrypt$16384$8$1$") and verify_pin("204863", line)
    assert "204863" not in out.stdout
    bad = run("12ab")
    assert bad.returncode == 1 and one_line_error(bad.stderr) and "4 to 16 digits" in bad.stderr


@pytest.fixture
def terminal_with_a_resident(tmp_path: Path) -> Iterator[Path]:
    """A data directory where a resident was served: a transaction with personal fields (one
    refused by the platform, with their ID number in the reason), and log lines of the visit."""
    data = tmp_path / "data"
    store = OutboxStore(data / "kiosk.db")
    personal = {
        "name": CARD.name,
        "id_number": CARD.id_number,
        "phone": PHONE,
        "address": CARD.address,
    }
    try:
        store.record("queue_ticket", {"option": "general"}, personal=personal)
        refused = store.record("queue_ticket", {"option": "medical_insurance"}, personal=personal)
        store.bury([(refused.seq, "rejected", f"duplicate id_number {CARD.id_number}")])
    finally:
        store.close()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    setup_logging(data / "logs")
    try:
        remember_personal(CARD.name, CARD.address)  # what the visit does when a card is read
        log = logging.getLogger("kiosk.visit.controller")
        log.info("visit 7: card %s read for %s (%s)", CARD.id_number, CARD.name, PHONE)
        log.info("visit 7: resident %s", {"name": CARD.name, "address": CARD.address})
        logging.getLogger("drivers.receipt_printer").warning("printer: paper out")
    finally:
        forget_personal()
        for h in root.handlers[:]:
            if h not in handlers:
                root.removeHandler(h)
                h.close()
        root.setLevel(level)
    yield data


def test_bundle_is_written_and_holds_no_personal_data_or_secret(
    tmp_path: Path, paper_out: Path, terminal_with_a_resident: Path
) -> None:
    data = terminal_with_a_resident
    bundle = tmp_path / "out" / "bundle.zip"
    env = os.environ.copy()
    env["KIOSK_TOKEN"] = TOKEN
    env["KIOSK_CENTRAL_URL"] = "http://127.0.0.1:9"  # nobody listens: the network test fails
    out = kiosk(
        "diag", "bundle", "--out", str(bundle), "--simulate", "--config", str(paper_out),
        "--data-dir", str(data), env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(bundle)
    with zipfile.ZipFile(bundle) as zf:
        members = {name: zf.read(name).decode("utf-8") for name in zf.namelist()}
    raw = bundle.read_bytes()

    # No secret, no personal field, anywhere: neither inside the files nor in the zip's bytes.
    forbidden = [TOKEN, CARD.name, CARD.id_number, PHONE, CARD.address, CARD.photo_sha256]
    for name, text in members.items():
        for value in forbidden:
            assert value not in text, (name, value)
    for value in forbidden:
        assert value.encode() not in raw

    # Pinned: which files, which keys, and the facts a technician needs.
    assert sorted(members) == [
        "config.redacted.json",
        "logs/recent.jsonl",
        "selftests.json",
        "snapshot.json",
        "versions.json",
    ]
    snapshot = json.loads(members["snapshot.json"])
    assert sorted(snapshot) == [
        "config", "devices", "disk", "generated_at", "kiosk_id", "last_selftests", "logs",
        "outbox", "schema", "selftests", "sync", "versions", "workers",
    ]  # fmt: skip
    config = json.loads(members["config.redacted.json"])
    config["data_dir"] = "<data>"
    assert config["central"] == {
        "url": "http://127.0.0.1:9",
        "kiosk_id": "kiosk-dev-001",
        "token": "[redacted]",
        "batch_size": 500,
        "timeout": 10.0,
        "backoff_base": 1.0,
        "backoff_cap": 300.0,
        "embedded": False,  # the default: no url means offline, not a platform of its own
        "groups": [],
        "config_interval": 300.0,
        "config_trust": None,
        "config_clock_skew": 600.0,
        "config_max_days": 90.0,
        "ca_file": None,
        "allow_insecure": False,
    }
    assert config["devices"]["receipt_printer"] == {"driver": "sim", "faults": ["paper_out"]}
    devices = {d["name"]: (d["state"], d["problem"]) for d in snapshot["devices"]}
    assert devices["receipt_printer"] == ("fault", "printer: paper out")
    assert devices["id_card_reader"] == ("ready", None)
    outbox = snapshot["outbox"]
    assert (outbox["by_state"]["pending"], outbox["by_state"]["dead"]) == (1, 1)
    assert outbox["holding_personal_data"] == 2
    (dead,) = outbox["dead_letters"]
    assert set(dead) == {"seq", "uuid", "service", "status", "reason", "died_at"}
    assert dead["reason"] == "duplicate id_number [id-number]"
    selftests = json.loads(members["selftests.json"])
    verdicts = {r["name"]: r["verdict"] for r in selftests["results"]}
    # The voice lives in the running terminal: a bundle written from the CLI cannot say.
    assert verdicts == {"camera": "pass", "network": "fail", "disk": "pass", "outbox": "pass",
                        "voice": "skip"}  # fmt: skip
    logs = [json.loads(line) for line in members["logs/recent.jsonl"].splitlines()]
    assert logs[0]["message"] == "visit 7: card [id-number] read for [personal] ([phone])"
    assert (logs[-1]["device"], logs[-1]["level"]) == ("receipt_printer", "WARNING")
    versions = json.loads(members["versions.json"])
    assert versions["app"] and versions["python"] and versions["qt"]


def test_diag_logs_filters_by_device(terminal_with_a_resident: Path) -> None:
    data = terminal_with_a_resident
    out = kiosk("diag", "logs", "--device", "receipt_printer", "--json", "--data-dir", str(data))
    assert out.returncode == 0, out.stderr
    (entry,) = map(json.loads, out.stdout.splitlines())
    assert entry["message"] == "printer: paper out"
    text = kiosk("diag", "logs", "-n", "2", "--data-dir", str(data))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == 2 and lines[0].endswith(
        "kiosk.visit.controller: visit 7: resident {'name': '[personal]', 'address': '[personal]'}"
    )
    assert CARD.id_number not in text.stdout
