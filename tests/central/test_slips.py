"""Request slips answered by SMS (central/slips.py): the worker opens each slip with the back
office's key (audited), answers its query from the platform's data and sends it through a
gateway; the HTTP gateway against a real local HTTP receiver (retries on 5xx and timeouts, gives
up after N attempts, a 4xx is final), the results recorded; nothing personal in its logs."""

from __future__ import annotations

import http.server
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from central import services
from central.backoffice import Keyring, Opener
from central.cli import main
from central.slips import SlipPolicy, SlipWorker, deliveries, requeue
from central.sms_gateway import HttpGateway, LogGateway, SmsGateway, check_template
from central.store import CentralStore
from central.tables import personal_openings
from contracts.personal import seal
from contracts.wire import BatchItem, ServiceQuery
from tests.central.helpers import item
from tests.central.test_online_services import id_number
from tests.central.test_personal_sealed import BACK_OFFICE, PUBLIC

KIOSK = "kiosk-001"
FAST = SlipPolicy(max_attempts=3, retry_base=0.01, retry_cap=0.05)


def with_phone(service: str = "social_security", status: str = "ok") -> str:
    for seq in range(1, 500):
        candidate = id_number("19850612", seq)
        asked = ServiceQuery(service=service, identifier=candidate)  # type: ignore[arg-type]
        answer = services.answer(asked, today=date.today(), book=None, kiosk_id=KIOSK)  # type: ignore[arg-type]
        if answer.status == status and services.registered_phone(candidate):
            return candidate
    raise AssertionError("no such resident")


def slip(n: int, identifier: str, *, query: str = "social_security", language: str = "zh_CN",
         fields: dict[str, str] | None = None) -> BatchItem:  # fmt: skip
    """A request slip as a terminal records it: the query asked, the identifier sealed."""
    body = item(n, service="query_request", payload={
        "record": "query_request", "visit_id": "0123456789abcdef0123456789abcdef",
        "query": query, "language": language, "ticket": f"R{n:04d}",
    })  # fmt: skip
    sealed = fields if fields is not None else {"identifier": identifier}
    body["sealed"] = seal(PUBLIC, sealed, body["uuid"]).model_dump()
    return BatchItem.model_validate(body)


@pytest.fixture
def slips_store(store: CentralStore) -> CentralStore:
    store.add_kiosk(KIOSK)
    return store


def worker(store: CentralStore, gateway: SmsGateway, policy: SlipPolicy = FAST) -> SlipWorker:
    return SlipWorker(store, Keyring([BACK_OFFICE]), Opener.of("test", "alice"), gateway, policy)


def run_once(w: SlipWorker) -> dict[str, int]:
    return w.run(loop=False, interval=1, stop=threading.Event())


def test_a_slip_ends_as_an_sms_with_its_answer(slips_store: CentralStore) -> None:
    resident = with_phone()
    slips_store.ingest(KIOSK, [slip(1, resident)])
    out = io.StringIO()
    assert run_once(worker(slips_store, LogGateway(out)))["sent"] == 1
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    asked = ServiceQuery(service="social_security", identifier=resident)
    answer = services.answer(asked, today=date.today(), book=slips_store, kiosk_id=KIOSK)
    assert line["to"] == services.registered_phone(resident)
    assert line["text"].startswith("【社区服务中心】您在自助终端提交的社保查询申请（申请单R0001）")
    assert all(f"{f.label_zh}：{f.value}" in line["text"] for f in answer.fields)
    assert resident not in line["text"] and "demos only" in line["note"]
    (done,) = deliveries(slips_store)
    assert (done["status"], done["attempts"], done["answer_status"]) == ("sent", 1, "ok")
    assert resident not in json.dumps(done) and line["to"] not in json.dumps(done)
    # Opened with the key, audited like any opening; a second run sends nothing again.
    with slips_store._read() as conn:
        audit = conn.execute(select(personal_openings)).all()
    assert [(a.via, a.opened_by, a.outcome) for a in audit] == [("slips", "alice", "opened")]
    again = io.StringIO()
    assert run_once(worker(slips_store, LogGateway(again)))["sent"] == 0
    assert again.getvalue() == ""


def test_a_slip_in_english_with_a_phone_of_its_own_and_no_record(
    slips_store: CentralStore,
) -> None:
    resident = with_phone("housing_fund", "not_found")
    own = {"identifier": resident, "phone": "13911112222"}
    slips_store.ingest(KIOSK, [slip(2, resident, query="housing_fund", language="en", fields=own)])
    out = io.StringIO()
    run_once(worker(slips_store, LogGateway(out)))
    line = json.loads(out.getvalue())
    assert line["to"] == "13911112222"  # one the resident gave wins over the one on file
    assert line["text"].startswith("[社区服务中心] Your housing fund record request")
    assert "(slip R0002)" in line["text"] and "No record found" in line["text"]
    assert deliveries(slips_store)[0]["answer_status"] == "not_found"


def test_slips_that_cannot_be_answered_are_recorded_as_undeliverable(
    slips_store: CentralStore,
) -> None:
    no_phone = next(
        id_number("19700101", seq) for seq in range(1, 500)
        if services.registered_phone(id_number("19700101", seq)) is None
    )  # fmt: skip
    other_key = Keyring([])  # the back office gave no key that opens it
    slips_store.ingest(
        KIOSK, [slip(3, no_phone), slip(4, with_phone(), query="appointment_checkin")]
    )
    out = io.StringIO()
    counts = run_once(worker(slips_store, LogGateway(out)))
    assert counts["undeliverable"] == 2 and out.getvalue() == ""
    outcomes = {row["uuid"][-2:]: row["outcome"] for row in deliveries(slips_store)}
    assert "no mobile number on file" in outcomes["03"]
    assert "not a query answered by SMS" in outcomes["04"]
    slips_store.ingest(KIOSK, [slip(5, with_phone())])
    locked_out = SlipWorker(slips_store, other_key, Opener.of("t"), LogGateway(out), FAST)
    run_once(locked_out)
    assert (
        "cannot open its personal part"
        in deliveries(slips_store, status="undeliverable")[-1]["outcome"]
    )
    # Put back in line once the key is found: sent.
    assert requeue(slips_store, uuids=[deliveries(slips_store)[-1]["uuid"]], failed=False) == 1
    assert run_once(worker(slips_store, LogGateway(out)))["sent"] == 1


# -- the HTTP gateway against a real receiver ----------------------------------------------------


@dataclass
class Receiver:
    """A local SMS provider: answers each POST with the next status of *script* (the last one
    repeats); a status of 0 means answer nothing for *stall* seconds (a timeout)."""

    script: list[int]
    stall: float = 2.0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(script=[200])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            state.bodies.append(json.loads(self.rfile.read(length)))
            state.headers.append(dict(self.headers))
            status = state.script[min(len(state.bodies), len(state.script)) - 1]
            if status == 0:
                time.sleep(state.stall)
                status = 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": "m-1"}')

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


TEMPLATE = '{"mobile": $phone, "content": $text, "ref": $reference, "sign": "hpl"}'


@pytest.mark.parametrize(
    ("script", "status", "attempts", "says"),
    [
        ([200], "sent", 1, "HTTP 200"),
        ([503, 500, 200], "sent", 3, "HTTP 200"),  # 5xx: tried again
        ([429, 200], "sent", 2, "HTTP 200"),  # too many requests: later
        ([0, 200], "sent", 2, "HTTP 200"),  # no answer in time: tried again
        ([500], "failed", 3, "gave up after 3 attempt(s): HTTP 500"),
        ([400], "failed", 1, "refused by the gateway: HTTP 400"),  # final: not retried
    ],
)  # fmt: skip
def test_the_http_gateway_retries_what_may_pass_and_records_the_result(
    slips_store: CentralStore, receiver: Receiver, caplog: pytest.LogCaptureFixture,
    script: list[int], status: str, attempts: int, says: str,
) -> None:  # fmt: skip
    receiver.script = script
    resident = with_phone()
    phone = services.registered_phone(resident)
    slips_store.ingest(KIOSK, [slip(1, resident)])
    gateway = HttpGateway(receiver.url, template=TEMPLATE, timeout=0.5,
                          headers={"Authorization": "Bearer provider-secret"})  # fmt: skip
    with caplog.at_level(logging.DEBUG):
        run_once(worker(slips_store, gateway))
    (row,) = deliveries(slips_store)
    assert (row["status"], row["attempts"]) == (status, attempts)
    assert says in row["outcome"] and row["gateway"] == "http"
    assert len(receiver.bodies) == attempts
    body = receiver.bodies[-1]
    assert body["mobile"] == phone and body["sign"] == "hpl"
    assert body["ref"] == f"{KIOSK}/{row['uuid']}"  # the same on every attempt: a provider dedupes
    assert body["content"].startswith("【社区服务中心】")
    assert receiver.headers[-1]["Authorization"] == "Bearer provider-secret"
    # The worker's log names the slip, never the resident.
    assert row["uuid"] in caplog.text
    assert phone is not None and phone not in caplog.text and resident not in caplog.text
    assert body["content"] not in caplog.text


def test_an_unreachable_provider_is_retried_then_given_up(slips_store: CentralStore) -> None:
    slips_store.ingest(KIOSK, [slip(1, with_phone())])
    gone = HttpGateway("http://127.0.0.1:9/sms", timeout=0.5)  # nothing listens on port 9
    run_once(worker(slips_store, gone))
    (row,) = deliveries(slips_store)
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert "gave up after 3 attempt(s): cannot reach http://127.0.0.1:9" in row["outcome"]


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ('{"to": "$phone", "text": $text}', "does not fill to JSON"),
        ('{"to": $phone, "text": $txt}', "bad placeholder"),
        ('{"to": $phone}', "never sends the text"),
    ],
)
def test_a_template_that_cannot_work_is_refused_at_start(template: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        check_template(template)


def test_the_commands_refuse_a_gateway_not_chosen(
    slips_store: CentralStore, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "personal.key"
    key.write_bytes(b"")  # never read: the usage error comes first
    assert main(["slips", "process", "--personal-key", str(key), "--db", db_url]) == 2
    assert "--gateway" in capsys.readouterr().err
    assert main(["slips", "process", "--personal-key", str(key), "--gateway", "http",
                 "--db", db_url]) == 2  # fmt: skip
    assert "--http-url" in capsys.readouterr().err


def test_slips_process_with_the_log_gateway_from_the_command_line(
    slips_store: CentralStore, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "personal.key"
    key.write_text(BACK_OFFICE.private_bytes_raw().hex() + "\n")
    key.chmod(0o600)
    resident = with_phone()
    slips_store.ingest(KIOSK, [slip(1, resident)])
    sms_log = tmp_path / "sms.jsonl"
    sign = "和平里社区服务中心"
    assert main(["slips", "process", "--personal-key", str(key), "--gateway", "log",
                 "--sms-log", str(sms_log), "--sign", sign, "--db", db_url]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    assert "sends nothing" in err and "tests and demos only" in err
    assert out.startswith("slips: 1 sent, 0 failed")
    (line,) = [json.loads(text) for text in sms_log.read_text("utf-8").splitlines()]
    assert line["to"] == services.registered_phone(resident)
    assert line["text"].startswith("【和平里社区服务中心】")
    assert main(["slips", "status", "--json", "--db", db_url]) == 0
    (status,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert status["status"] == "sent" and line["to"] not in json.dumps(status)
