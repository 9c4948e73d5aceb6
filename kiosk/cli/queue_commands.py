"""``kiosk queue status | enqueue | sync``: the local outbox of recorded transactions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from kiosk.cli.common import (
    CONFIG,
    DATA_DIR,
    cli,
    data_dir_from,
    open_outbox,
    serve_until_stopped,
    settings_from,
)
from kiosk.errors import KioskError


@cli.group()
def queue() -> None:
    """The local outbox of recorded transactions."""


@queue.command("status")
@click.option("--json", "as_json", is_flag=True)
@CONFIG
@DATA_DIR
def queue_status(as_json: bool, config_file: Path | None, data_dir: Path | None) -> None:
    """How many transactions wait to be delivered, since when, and the dead letters."""
    from offline.outbox import OUTBOX_STATES, OutboxStatus

    settings = settings_from(config_file, data_dir)
    path = data_dir_from(settings) / "kiosk.db"
    st = OutboxStatus(0, dict.fromkeys(OUTBOX_STATES, 0), None)
    dead: list[dict[str, object]] = []
    facts: dict[str, str] = {}
    store = open_outbox(settings)
    if store is not None:
        st = store.status()
        dead = [d.__dict__ for d in store.dead_letters()]
        facts = store.facts()
        store.close()
    key = _personal_key_of(settings)
    if as_json:
        body = {
            "database": str(path),
            "total": st.total,
            "by_state": st.by_state,
            "waiting": st.waiting,
            "oldest_pending_at": st.oldest_pending_at,
            "size_bytes": st.size_bytes,
            "max_bytes": st.max_bytes,
            "capacity_warning": st.capacity_warning,
            "holding_personal_data": st.sealed,
            "personal_key": key,
            # Waiting with personal fields sealed only locally: they go once a key is known.
            "awaiting_personal_key": st.unsealed_waiting if key is None else 0,
            "dead_letters": dead,
            "last_sync": facts.get("last_sync"),
            "platform": _platform_of(settings),
        }
        click.echo(json.dumps(body, ensure_ascii=False))
        return
    click.echo(f"database: {path}")
    click.echo(f"platform: {_platform_of(settings)}")
    click.echo(f"transactions: {st.total}")
    for state, n in st.by_state.items():
        click.echo(f"  {state:<13} {n}")
    if st.oldest_pending_at:
        click.echo(f"oldest waiting since: {st.oldest_pending_at}")
    click.echo(f"personal-data key: {key or 'none in the configuration in force'}")
    if key is None and st.unsealed_waiting:
        click.echo(
            f"  {st.unsealed_waiting} transaction(s) with personal fields wait for it: they are "
            "never sent in the clear (a signed configuration's payload.personal_key brings it)"
        )
    warn = "  (over 80%: deliver or raise the limit)" if st.capacity_warning else ""
    click.echo(f"size: {st.size_bytes} of {st.max_bytes} bytes{warn}")
    if facts.get("last_sync"):
        click.echo(f"last sync: {facts['last_sync']}")
    for d in dead:
        click.echo(f"dead seq={d['seq']} {d['service']} {d['status']}: {d['reason']}")


def _personal_key_of(settings: Any) -> str | None:
    """The id of the platform's personal-data key in the configuration in force, or None."""
    from kiosk.platform_link.personal_key import AppliedPersonalKey

    found = AppliedPersonalKey(settings)()
    return found.key_id if found is not None else None


def _platform_of(settings: Any) -> str:
    """Where delivery goes: a url, the embedded platform, or nowhere (said plainly)."""
    central = settings.central
    if central.url:
        return str(central.url)
    if central.embedded:
        return "the embedded platform on this machine ([central] embedded = true)"
    return "none configured ([central] url): working offline, transactions wait here"


@queue.command("enqueue")
@click.option("--service", required=True, help="Service code, e.g. queue_ticket.")
@click.option("--payload", required=True, help="A JSON object: nothing personal.")
@click.option(
    "--personal",
    metavar="JSON",
    help="A JSON object of personal fields (name, ID number, phone, text): sealed as a visit "
    "seals them, and sent only sealed to the platform's personal-data key.",
)
@CONFIG
@DATA_DIR
def queue_enqueue(
    service: str,
    payload: str,
    personal: str | None,
    config_file: Path | None,
    data_dir: Path | None,
) -> None:
    """Record one transaction durably; print its uuid once it is on disk."""
    from offline.outbox import OutboxError

    body = _json_object(payload, "--payload")
    if "personal" in body:
        # What terminals before sealing did: the platform would have to take it in the clear.
        raise click.BadParameter(
            "personal fields go in --personal, where they are sealed", param_hint="--payload"
        )
    fields = _json_object(personal, "--personal") if personal is not None else None
    settings = settings_from(config_file, data_dir)
    store = open_outbox(settings, must_exist=True)
    assert store is not None
    try:
        # The very call a visit makes (kiosk/visit/controller.py): sealed in the outbox now,
        # sealed to the platform at the first send.
        rec = store.record(service, body, personal=fields or None)
    except OutboxError as exc:
        raise KioskError(str(exc)) from exc
    finally:
        store.close()
    click.echo(rec.uuid)


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=option) from exc
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=option)
    return value


@queue.command("sync")
@click.option("--once", is_flag=True, help="Deliver what waits now, then exit.")
@CONFIG
@DATA_DIR
def queue_sync(once: bool, config_file: Path | None, data_dir: Path | None) -> None:
    """Deliver waiting transactions to the platform (`[central]` url, kiosk_id, token)."""
    from kiosk.platform_link.syncing import make_client, make_sync_worker
    from offline.sync import RefusedError, TransientError

    settings = settings_from(config_file, data_dir)
    store = open_outbox(settings, must_exist=True)
    assert store is not None
    try:
        client = make_client(store, settings)
        if client is None:
            raise KioskError(
                "queue sync: no platform configured (set [central] url and token, or "
                "KIOSK_CENTRAL_URL and KIOSK_TOKEN)"
            )
        if once:
            try:
                result = client.push()
            except (TransientError, RefusedError) as exc:
                left = store.status().waiting
                raise KioskError(f"queue sync: {exc} ({left} still waiting)") from exc
            left = store.status().waiting
            held = (
                f" ({result.awaiting_key} with personal fields, for the platform's "
                "personal-data key: never sent in the clear)"
                if result.awaiting_key
                else ""
            )
            click.echo(
                f"sent {result.sent}, acknowledged {result.acknowledged}, dead {result.dead}, "
                f"{left} waiting{held}"
            )
            return
        worker = make_sync_worker(store, settings)
        worker.add_listener(lambda st: click.echo(describe_sync(st), err=True))
        serve_until_stopped(settings.central.url or "", worker.stop, start=worker.start)
    finally:
        store.close()


def describe_sync(status: object) -> str:
    from offline.sync import SyncStatus, describe

    assert isinstance(status, SyncStatus)
    return describe(status)
