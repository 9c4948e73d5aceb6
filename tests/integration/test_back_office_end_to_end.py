"""The back office keeps the terminal's promises, end to end, with a real terminal (the visit
through its controller, outbox and simulated printer), a real platform process and the real
commands: a request slip printed while the platform was unreachable reaches it with the next
sync and ends as an SMS in the log gateway's output; a printed certificate's QR code, read off
the printed receipt, verifies on the platform, and an altered or forged one is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contracts.certificates import ALPHABET, new_reference
from drivers.escpos_preview import render_preview
from drivers.sim_cards import SAMPLE_CARDS
from drivers.vision import decode_qr
from tests.platform_process import Platform, central, platform_process

KIOSK = "hpl-01"
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, module: str = "kiosk") -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    res = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True, text=True, timeout=180, check=False, env=env, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def write_config(path: Path, data: Path, url: str, token: str, trust: Path) -> Path:
    path.write_text(
        f'data_dir = "{data}"\n'
        "[central]\n"
        f'url = "{url}"\nkiosk_id = "{KIOSK}"\ntoken = "{token}"\n'
        f'config_trust = "{trust}"\ngroups = ["hepingli"]\ntimeout = 3\n'
    )
    return path


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = answer.read().decode()
            status = answer.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read().decode(), exc.code
        exc.close()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    (tmp_path / "central").mkdir()
    with platform_process(tmp_path / "central", KIOSK) as running:
        yield running  # type: ignore[misc]


def test_a_slip_ends_as_an_sms_and_a_certificate_verifies(
    platform: Platform, tmp_path: Path
) -> None:
    # The back office's key, signed into the terminal's configuration by an operator.
    back_office = tmp_path / "back-office"
    printed = central("personal", "keygen", "--out", str(back_office), "--name", "personal")
    personal_key = json.loads(printed.splitlines()[-1])["personal_key"]
    operators, trust = tmp_path / "operators", tmp_path / "config-trust"
    central("config", "keygen", "--out", str(operators), "--name", "alice")
    trust.mkdir()
    (trust / "alice.pub").write_text((operators / "alice.pub").read_text())
    (trust / "threshold").write_text("1\n")
    data = tmp_path / "terminal"
    online = write_config(tmp_path / "online.toml", data, platform.url, platform.token, trust)
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"schema_version": 2, "personal_key": personal_key}))
    bundle = tmp_path / "v1.json"
    central("config", "draft", "--version", "1", "--payload", str(payload), "--group",
            "hepingli", "--out", str(bundle))  # fmt: skip
    central("config", "sign", str(bundle), "--key", str(operators / "alice.key"), "--yes",
            "--db", platform.db_url)  # fmt: skip
    run("config", "apply", str(bundle), "--config", str(online))

    # 1. The platform cannot be reached: a social-security query leaves a request slip.
    offline = write_config(tmp_path / "offline.toml", data, "http://127.0.0.1:9", platform.token,
                           trust)  # fmt: skip
    said = run(str(offline), "slip", module="tests.integration.back_office_rig")
    assert said.startswith("PRINTED slip printed R0001"), said
    assert "R0001" in render_text(data)
    # The next sync delivers it, sealed.
    assert run("queue", "sync", "--once", "--config", str(online)).startswith(
        "sent 1, acknowledged"
    )
    (slip,) = [line for line in platform.export() if line["service"] == "query_request"]
    assert slip["personal"] == "sealed"

    # The back office answers it: the SMS is in the log gateway's output.
    sms_log = tmp_path / "sms.jsonl"
    key = str(back_office / "personal.key")
    done = central("slips", "process", "--personal-key", key, "--gateway", "log",
                   "--sms-log", str(sms_log), "--db", platform.db_url)  # fmt: skip
    assert done.startswith("slips: 1 sent"), done
    (sms,) = [json.loads(line) for line in sms_log.read_text("utf-8").splitlines()]
    assert sms["reference"] == f"{KIOSK}/{slip['uuid']}" and sms["to"].isdigit()
    assert "社保查询申请（申请单R0001）" in sms["text"]
    assert "参保状态" in sms["text"] or "未查询到记录" in sms["text"]
    resident = SAMPLE_CARDS[0]
    assert resident.id_number not in sms["text"]
    audit = central("personal", "audit", "--json", "--db", platform.db_url)
    assert [json.loads(line)["via"] for line in audit.splitlines()] == ["slips"]

    # 2. Online: a certificate is printed; its QR code, read off the paper, opens the platform.
    said = run(str(online), "certificate", module="tests.integration.back_office_rig")
    assert said.startswith("PRINTED certificate printed"), said
    (link,) = decode_qr(np.asarray(render_preview(last_receipt(data)).convert("L")))
    assert link.startswith(f"{platform.url}/v/C"), link
    reference = link.rsplit("/", 1)[1]
    # Recorded through the outbox: it verifies once synced (the rig's own sync may have sent it).
    run("queue", "sync", "--once", "--config", str(online))
    status, found = get(f"{platform.url}/v1/certificates/{reference}")
    assert status == 200, found
    assert found["valid"] is True and found["kind"] == "insured_certificate"
    assert found["title"] == {"zh_CN": "参保证明", "en": "Proof of insurance"}
    assert (
        found["holder"]["id_number"] == resident.id_number[:4] + "*" * 10 + resident.id_number[-4:]
    )
    assert found["holder"]["name"].startswith(resident.name[0]) and "*" in found["holder"]["name"]
    status, page = get(link)  # the page the resident's phone opens
    assert status == 200 and "有效证明" in page and "Valid certificate" in page
    assert found["holder"]["id_number"] in page and resident.id_number not in page

    # An altered reference and a forged one are refused, on the endpoint and on the page.
    digit = reference[5]
    changed = reference[:5] + ALPHABET[(ALPHABET.index(digit) + 1) % 32] + reference[6:]
    for fake in (changed, new_reference()):
        status, refused = get(f"{platform.url}/v1/certificates/{fake}")
        assert status == 404 and set(refused) == {"error", "detail"}, refused
        status, page = get(f"{platform.url}/v/{fake}")
        assert status == 404 and "无效" in page and "Not valid" in page


def last_receipt(data: Path) -> bytes:
    return (data / "printer" / "last-receipt.bin").read_bytes()


def render_text(data: Path) -> str:
    return last_receipt(data).decode("gb18030", errors="replace")
