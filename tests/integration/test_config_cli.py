"""Signed configuration from the operator's keys to a terminal's data directory, through the
real commands; and SIGKILL while applying: always the old or the new configuration, whole."""

from __future__ import annotations

import json
import random
import subprocess
import sys
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
    trust = data / "keys" / "config-trust"
    trust.mkdir(parents=True)
    for name in ("alice", "bob", "carol"):
        assert (
            run("central", "config", "keygen", "--out", str(keys), "--name", name).returncode == 0
        )
        (trust / f"{name}.pub").write_text((keys / f"{name}.pub").read_text())
    (trust / "threshold").write_text("2\n")
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[central]\nkiosk_id = "kiosk-7"\ngroups = ["hepingli"]\n')
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
        out = run("central", "config", "sign", str(bundle), "--key", str(keys / f"{name}.key"))
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
