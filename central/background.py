"""The server's rounds beside the API: the KPI roll-up (which opens 差评 cases) and the alert
rules, every ROUND_SECONDS, in the serving process (the supervisor, when there are workers), on
a thread that survives any error of a round and says so in the log."""

from __future__ import annotations

import logging
import threading
import time

from central import alerts, kpi
from central.store import CentralStore

log = logging.getLogger(__name__)

ROUND_SECONDS = 30.0


def one_round(store: CentralStore, rules: alerts.Rules) -> None:
    began = time.monotonic()
    read = kpi.catch_up(store)
    changes = alerts.evaluate(store, rules)
    for change in changes:
        log.warning("alert %s %s: %s", change["event"], change["key"], change["detail"])
    if read:
        log.info("kpi: %d record(s) rolled up in %.1f s", read, time.monotonic() - began)


def start_rounds(
    store: CentralStore, rules: alerts.Rules, stop: threading.Event, every: float = ROUND_SECONDS
) -> threading.Thread:
    def run() -> None:
        failures = 0
        while not stop.is_set():
            try:
                one_round(store, rules)
                failures = 0
            except Exception:  # a round that fails must not end the rounds
                failures += 1
                log.exception("kpi and alerts round failed (%d in a row)", failures)
            if stop.wait(every):
                return

    thread = threading.Thread(target=run, name="kpi-alerts", daemon=True)
    thread.start()
    return thread
