"""The signed-configuration walk-through of the README, end to end: an operator creates three
keys, two holders sign a catalogue change, it is published to a group of three running
terminals (``kiosk run --simulate`` processes against a real platform process), and all three
take it up while running; a forged copy is then refused by all three with a clear reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.platform_process import central, platform_process
from tests.waiting import wait_for

KIOSKS = ("hpl-01", "hpl-02", "hpl-03")
ROOT = Path(__file__).parents[2]


def fleet_status(db: str) -> dict[str, dict[str, object]]:
    rows = [json.loads(x) for x in central("config", "status", "--json", "--db", db).splitlines()]
    return {str(r["id"]): r for r in rows if r["id"] in KIOSKS}


def test_an_operator_changes_the_catalogue_of_three_running_terminals(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    for name in ("alice", "bob", "carol"):
        central("config", "keygen", "--out", str(keys), "--name", name)
    with platform_process(tmp_path / "central", kiosk_id="operator-console") as platform:
        db = platform.db_url
        terminals, errors = [], []
        try:
            for kiosk_id in KIOSKS:
                token = central("kiosk", "add", kiosk_id, "--group", "hepingli", "--db", db)
                data = tmp_path / kiosk_id
                trust = data / "keys" / "config-trust"
                trust.mkdir(parents=True)
                for name in ("alice", "bob", "carol"):
                    (trust / f"{name}.pub").write_text((keys / f"{name}.pub").read_text())
                (trust / "threshold").write_text("2\n")
                config = tmp_path / f"{kiosk_id}.toml"
                config.write_text(
                    f'data_dir = "{data}"\n[central]\nurl = "{platform.url}"\n'
                    f'kiosk_id = "{kiosk_id}"\ntoken = "{token.split()[-1]}"\n'
                    'groups = ["hepingli"]\nconfig_interval = 1\n'
                )
                env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
                errors.append((tmp_path / f"{kiosk_id}.err").open("w"))
                terminals.append(subprocess.Popen(
                    [sys.executable, "-m", "kiosk", "run", "--config", str(config), "--simulate",
                     "--windowed"],
                    env=env, stdout=subprocess.DEVNULL, stderr=errors[-1],
                ))  # fmt: skip

            # The catalogue change: the queue ticket offers two kinds of window, not four.
            catalogue = json.loads((ROOT / "kiosk" / "config" / "catalogue.json").read_text())
            queue = next(s for s in catalogue["services"] if s["code"] == "queue_ticket")
            queue["options"] = queue["options"][:2]
            payload = tmp_path / "payload.json"
            payload.write_text(json.dumps({"schema_version": 2, "catalogue": catalogue}))
            bundle = tmp_path / "v1.json"
            central("config", "draft", "--version", "1", "--payload", str(payload),
                    "--group", "hepingli", "--out", str(bundle))  # fmt: skip
            for holder in ("alice", "bob"):
                central("config", "sign", str(bundle), "--key", str(keys / f"{holder}.key"),
                        "--yes")  # fmt: skip
            central("config", "publish", str(bundle), "--group", "hepingli", "--db", db)

            # "applied" with no reason left: taken up by the running terminal and healthy.
            def all_taken_up() -> bool:
                rows = fleet_status(db).values()
                return len(rows) == 3 and all(
                    r["version"] == 1 and r["status"] == "applied" and not r["reason"] for r in rows
                )

            wait_for(all_taken_up, timeout=90)
            for kiosk_id in KIOSKS:
                log = (tmp_path / kiosk_id / "logs" / "kiosk.jsonl").read_text()
                assert "configuration 1 taken up" in log

            # A forged copy: someone raises the version and edits the signed payload.
            doc = json.loads(bundle.read_text())
            doc["signed"]["version"] = 2
            doc["signed"]["payload"]["catalogue"]["services"].pop()
            forged = tmp_path / "v2-forged.json"
            forged.write_text(json.dumps(doc))
            central("config", "publish", str(forged), "--group", "hepingli", "--db", db)

            def all_refused() -> bool:
                rows = fleet_status(db).values()
                return len(rows) == 3 and all(
                    r["status"] == "rejected" and str(r["reason"]).startswith("bad_signature")
                    for r in rows
                )

            wait_for(all_refused, timeout=90)
            assert all(r["version"] == 1 for r in fleet_status(db).values())
            for proc in terminals:
                assert proc.poll() is None, "a terminal stopped"
        finally:
            for proc in terminals:
                proc.terminate()
            codes = [proc.wait(timeout=30) for proc in terminals]
            for sink in errors:
                sink.close()
            assert codes == [0, 0, 0]
