"""Signed configuration from the operator's keys to a terminal's data directory, through the
real commands; what a signer is shown and asked; and SIGKILL while applying: always the old or
the new configuration, whole."""

from __future__ import annotations

import json
import os
import pty
import random
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.config.bundle_store import ConfigStore
from tests.processes import run_then_kill

RIG = Path(__file__).with_name("config_apply_rig.py")


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", tool, *args], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_operator_signs_and_a_terminal_verifies_applies_and_rolls_back(tmp_path: Path) -> None:
    keys, data = tmp_path / "keys", tmp_path / "data"
    trust = tmp_path / "etc" / "config-trust"  # root's folder on a terminal: not the data dir
    trust.mkdir(parents=True)
    for name in ("alice", "bob", "carol"):
        assert (
            run("central", "config", "keygen", "--out", str(keys), "--name", name).returncode == 0
        )
        (trust / f"{name}.pub").write_text((keys / f"{name}.pub").read_text())
    (trust / "threshold").write_text("2\n")
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[central]\nkiosk_id = "kiosk-7"\ngroups = ["hepingli"]\nconfig_trust = "{trust}"\n'
    )
    term = ("--config", str(cfg), "--data-dir", str(data))

    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"schema_version": 2, "timeouts": {"identify": 100}}))
    bundle = tmp_path / "v1.json"
    out = run("central", "config", "draft", "--version", "1", "--payload", str(payload),
              "--group", "hepingli", "--out", str(bundle))  # fmt: skip
    assert out.returncode == 0, out.stderr

    refused = run("kiosk", "config", "verify", str(bundle), *term)
    assert refused.returncode == 1
    assert refused.stderr == "kiosk: config: refused: too_few_signatures: 0 valid of 2 needed\n"
    for name in ("alice", "bob"):
        out = run("central", "config", "sign", str(bundle), "--key", str(keys / f"{name}.key"),
                  "--yes")  # fmt: skip
        assert out.returncode == 0, out.stderr
    assert run("kiosk", "config", "verify", str(bundle), *term).stdout.startswith("ok: version 1")

    forged = tmp_path / "forged.json"
    doc = json.loads(bundle.read_text())
    doc["signed"]["payload"]["timeouts"]["identify"] = 3600
    forged.write_text(json.dumps(doc))
    out = run("kiosk", "config", "apply", str(forged), *term)
    assert out.returncode == 1 and "refused: bad_signature" in out.stderr
    assert out.stderr.count("\n") == 1

    assert run("kiosk", "config", "apply", str(bundle), *term).returncode == 0
    shown = json.loads(run("kiosk", "config", "show", "--json", *term).stdout)
    assert shown["current"] == 1 and shown["payload"]["timeouts"]["identify"] == 100
    again = run("kiosk", "config", "apply", str(bundle), *term)
    assert "refused: old_version" in again.stderr

    no_back = run("kiosk", "config", "rollback", *term)
    assert no_back.returncode == 1 and "no previous" in no_back.stderr


def draft(tmp_path: Path, version: int, payload: dict[str, object], *extra: str) -> Path:
    source = tmp_path / f"payload-{version}.json"
    source.write_text(json.dumps({"schema_version": 2, **payload}))
    bundle = tmp_path / f"v{version}.json"
    out = run("central", "config", "draft", "--version", str(version), "--payload", str(source),
              "--group", "hepingli", "--out", str(bundle), *extra)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return bundle


def sign_at_a_terminal(args: list[str], answer: bytes) -> tuple[int, str]:
    """`kiosk-central config sign` with a real terminal on stdin, answering *answer*."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "central", "config", "sign", *args],
                            stdin=follower, stdout=follower, stderr=follower)  # fmt: skip
    os.close(follower)
    seen = b""
    while b"[y/N]" not in seen:
        chunk = os.read(leader, 4096)
        assert chunk, seen
        seen += chunk
    os.write(leader, answer)
    code = proc.wait(timeout=60)
    try:
        while chunk := os.read(leader, 4096):
            seen += chunk
    except OSError:  # the other side closed: all read
        pass
    os.close(leader)
    return code, seen.decode().replace("\r\n", "\n")


def test_a_signer_sees_what_they_sign_and_is_asked(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert run("central", "config", "keygen", "--out", str(keys), "--name", "alice").returncode == 0
    catalogue = json.loads((Path(__file__).parents[2] / "kiosk/config/catalogue.json").read_text())
    v1 = draft(tmp_path, 1, {"timeouts": {"identify": 100}, "catalogue": catalogue})
    queue = next(s for s in catalogue["services"] if s["code"] == "queue_ticket")
    queue["options"] = queue["options"][:2]
    v2 = draft(tmp_path, 2, {"timeouts": {"identify": 120}, "catalogue": catalogue})
    key = ["--key", str(keys / "alice.key")]
    empty_db = ["--db", f"sqlite:///{tmp_path / 'central.db'}"]

    # A script that forgot --yes: one line, nothing signed.
    out = run("central", "config", "sign", str(v2), *key, *empty_db)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == (
        "kiosk-central: config sign asks before signing and no one can answer here: "
        "pass --yes to sign without being asked\n"
    )
    assert json.loads(v2.read_text())["signatures"] == []

    # At a terminal: the summary, then the question; "n" signs nothing.
    code, seen = sign_at_a_terminal([str(v2), *key, "--previous", str(v1)], b"n\n")
    assert code == 1 and "not signed" in seen
    assert "  version   2, issued " in seen
    assert "  targets   groups: hepingli; kiosks: none" in seen
    assert "(in 30 days)" in seen and "this key: " in seen
    assert f"changes against {v1} (version 1):" in seen
    assert "~ payload.timeouts.identify: 100 -> 120" in seen
    assert "- payload.catalogue.services[queue_ticket].options[housing_fund]" in seen
    assert "- payload.catalogue.services[queue_ticket].options[general]" in seen
    assert "Sign version 2 with key " in seen
    assert json.loads(v2.read_text())["signatures"] == []
    code, seen = sign_at_a_terminal([str(v2), *key, "--previous", str(v1)], b"y\n")
    assert code == 0, seen
    print(seen)  # what a signer reads (pytest -s)
    assert len(json.loads(v2.read_text())["signatures"]) == 1

    # Without --previous the platform's database says what is published now.
    out = run("central", "config", "sign", str(v1), *key, *empty_db, "--yes")
    assert out.returncode == 0, out.stderr
    assert "changes   none to show: nothing published to hepingli before" in out.stdout
    assert "payload   sets catalogue, timeouts" in out.stdout
    out = run("central", "config", "publish", str(v1), "--group", "hepingli", *empty_db)
    assert out.returncode == 0, out.stderr
    out = run("central", "config", "sign", str(v2), *key, *empty_db, "--yes")
    assert "changes against version 1, published to hepingli:" in out.stdout
    assert "~ payload.timeouts.identify: 100 -> 120" in out.stdout


def test_what_terminals_would_refuse_is_never_signed(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert run("central", "config", "keygen", "--out", str(keys), "--name", "alice").returncode == 0
    sign = ("central", "config", "sign", "--key", str(keys / "alice.key"), "--yes")

    source = tmp_path / "bad.json"
    source.write_text(json.dumps({"schema_version": 2, "receipt_qr": "KIOSK:{ticket_no}"}))
    out = run("central", "config", "draft", "--version", "1", "--payload", str(source),
              "--group", "hepingli", "--out", str(tmp_path / "x.json"))  # fmt: skip
    assert out.returncode == 1
    assert "payload.receipt_qr: unknown placeholder {ticket_no}" in out.stderr

    # Edited after the draft: the signer's command refuses it too, naming field and placeholder.
    bundle = draft(tmp_path, 1, {"receipt_qr": "KIOSK:{ticket}"})
    doc = json.loads(bundle.read_text())
    doc["signed"]["payload"]["receipt_qr"] = "KIOSK:{ticket_no}"
    bundle.write_text(json.dumps(doc))
    out = run(*sign, str(bundle))
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "schema_error: payload.receipt_qr: unknown placeholder {ticket_no}" in out.stderr

    fine = source.with_name("payload-1.json")
    out = run("central", "config", "draft", "--version", "2", "--payload", str(fine),
              "--group", "hepingli", "--days", "365", "--out", str(bundle))  # fmt: skip
    assert out.returncode == 1 and "more than the 90 days allowed" in out.stderr
    now = datetime.now().astimezone()
    for field, when, why in (
        ("expires_at", now + timedelta(days=400), "too_long: valid for"),
        ("issued_at", now + timedelta(hours=2), "issued_in_future: issued at"),
    ):
        doc = json.loads(draft(tmp_path, 3, {}).read_text())
        doc["signed"][field] = when.isoformat()
        bundle.write_text(json.dumps(doc))
        out = run(*sign, str(bundle))
        assert out.returncode == 1 and why in out.stderr, out.stderr
        assert json.loads(bundle.read_text())["signatures"] == []
    doc["signed"]["issued_at"] = now.isoformat()
    doc["signed"]["expires_at"] = (now + timedelta(days=180)).isoformat()
    bundle.write_text(json.dumps(doc))
    assert run(*sign, str(bundle), "--max-days", "180").returncode == 0  # a fleet set to 180


def test_sigkill_while_applying_leaves_old_or_new_never_a_mix(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    rng = random.Random(7)
    for _ in range(40):
        lines = run_then_kill([sys.executable, str(RIG), str(folder)], rng.uniform(0, 0.05))
        state = ConfigStore(folder).state()
        if state.current is None:
            continue
        current = ConfigStore(folder).current_bundle()
        assert current == (f"version {state.current}\n" * 20_000).encode()
        done = [
            int(ln.split()[1]) for ln in lines if ln.startswith("applied ") and ln.endswith("\n")
        ]
        if done:  # what an apply promised is there (or a later apply or rollback replaced it)
            assert state.highest >= done[-1]
    assert ConfigStore(folder).state().highest > 40
