"""Alerts (central/alerts.py): raised after the rule's time, cleared only after the condition has
been gone a while (no flapping), each change sent once to a real local HTTP receiver in the shape
企业微信 and 钉钉 group robots take, and a receiver that fails is tried again."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from central import alerts
from central.alerts import AlertsError, Rules, Webhook, evaluate, listing, load_rules
from central.store import CentralStore
from central.tables import heartbeats

T0 = datetime.now(UTC)


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                if outer.fail:
                    self.send_response(503)
                else:
                    outer.bodies.append(body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook")
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def printer(state: str, fault: str | None = None) -> list[dict[str, object]]:
    return [{"name": "receipt_printer", "kind": "receipt_printer", "driver": "sim",
             "state": state, "fault_code": fault}]  # fmt: skip


def beat(store: CentralStore, at: datetime, state: str, fault: str | None = None) -> None:
    """A heartbeat as if sent at *at* (the rules read its age)."""
    store.record_heartbeat("kiosk-a", app_version="1", devices=printer(state, fault),
                           queue_depth=0)  # fmt: skip
    with store._write() as conn:
        conn.execute(heartbeats.update().values(last_seen=at.isoformat(timespec="microseconds")))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_fault_raises_after_its_time_and_clears_without_flapping(
    store: CentralStore, receiver: Receiver
) -> None:
    hook = Webhook(receiver.url, "wecom")
    rules = Rules(device_fault_minutes=15, clear_minutes=2, webhooks=(hook,))
    store.add_kiosk("kiosk-a", "east")
    for minute in (0, 14):
        beat(store, at(minute), "fault", "paper_out")
        assert evaluate(store, rules, at(minute)) == []  # pending: not yet 15 minutes
    beat(store, at(15), "fault", "paper_out")
    raised = evaluate(store, rules, at(15))
    assert [(a["key"], a["event"]) for a in raised] == [
        ("device:receipt_printer:kiosk-a", "raised")
    ]
    (sent,) = receiver.bodies
    content = str(sent["text"]["content"])  # type: ignore[index]
    assert sent["msgtype"] == "text" and "paper_out" in content and "告警" in content

    beat(store, at(16), "ready")  # paper in, for one round
    assert evaluate(store, rules, at(16)) == []  # gone a minute: still raised
    beat(store, at(17), "fault", "paper_out")  # out again
    assert evaluate(store, rules, at(17)) == []  # no second raise
    assert [a["state"] for a in listing(store)] == ["raised"]
    beat(store, at(18), "ready")
    assert evaluate(store, rules, at(18)) == []
    beat(store, at(19.1), "ready")
    cleared = evaluate(store, rules, at(19.1))  # gone two minutes: cleared
    assert [a["event"] for a in cleared] == ["cleared"]
    assert len(receiver.bodies) == 2 and "恢复" in str(receiver.bodies[1]["text"])


def test_a_short_fault_never_raises(store: CentralStore, receiver: Receiver) -> None:
    rules = Rules(webhooks=(Webhook(receiver.url),))
    store.add_kiosk("kiosk-a")
    beat(store, at(0), "fault", "cover_open")
    evaluate(store, rules, at(0))
    for minute in (5, 30):
        beat(store, at(minute), "ready")
        assert evaluate(store, rules, at(minute)) == []
    assert receiver.bodies == []


def test_offline_and_a_failing_receiver_is_tried_again(
    store: CentralStore, receiver: Receiver
) -> None:
    rules = Rules(offline_minutes=10, webhooks=(Webhook(receiver.url, "json"),))
    store.add_kiosk("kiosk-a")
    beat(store, at(0), "ready")
    assert evaluate(store, rules, at(5)) == []
    receiver.fail = True
    raised = evaluate(store, rules, at(11))
    assert [a["key"] for a in raised] == ["offline:kiosk-a"] and receiver.bodies == []
    receiver.fail = False
    evaluate(store, rules, at(12))  # delivered now, once
    assert [(b["event"], b["subject"]) for b in receiver.bodies] == [("raised", "kiosk-a")]
    evaluate(store, rules, at(13))
    assert len(receiver.bodies) == 1


def test_rules_from_a_file_and_clear_errors(tmp_path: Path) -> None:
    good = tmp_path / "alerts.toml"
    good.write_text('[rules]\noffline_minutes = 5\n[[webhooks]]\nurl = "https://x.example/h"\n'
                    'format = "dingtalk"\n')  # fmt: skip
    rules = load_rules(good)
    assert rules.offline_minutes == 5
    assert rules.webhooks == (Webhook("https://x.example/h", "dingtalk"),)
    for text, words in (("[rules]\nofline_minutes = 5\n", "unknown rule 'ofline_minutes'"),
                        ("[[webhooks]]\nurl = 'ftp://x'\n", "url must be http(s)"),
                        ("[rules\n", "alerts")):  # fmt: skip
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(AlertsError, match=words.replace("(", r"\(").replace(")", r"\)")):
            load_rules(bad)
    assert alerts.load_rules(None) == Rules()


def test_an_old_queue_and_dead_letters_raise(store: CentralStore) -> None:
    store.add_kiosk("kiosk-a")
    store.record_heartbeat("kiosk-a", app_version="1", devices=printer("ready"), queue_depth=3,
                           oldest_waiting_seconds=7200.0, dead_letters=2)  # fmt: skip
    moment = datetime.now(UTC)
    raised = {a["key"] for a in evaluate(store, Rules(), moment)}
    assert raised == {"queue_age:kiosk-a", "dead_letters:kiosk-a"}
    quiet = Rules(oldest_waiting_minutes=180, dead_letters=False)
    store.record_heartbeat("kiosk-a", app_version="1", devices=printer("ready"), queue_depth=0)
    # the condition was last seen five minutes ago (more than clear_minutes): cleared
    cleared = evaluate(store, quiet, moment + timedelta(minutes=5))
    assert {(a["key"], a["event"]) for a in cleared} == {
        ("queue_age:kiosk-a", "cleared"), ("dead_letters:kiosk-a", "cleared")}  # fmt: skip
