"""``kiosk-central personal keygen | register | retire | keys | open | audit | purge``: the back
office's personal data (central/backoffice.py), from a shell where the private key is.

The private key never goes near ``serve``: ``keygen`` is run on the back office's machine, the
public half goes to terminals inside a signed configuration (``payload.personal_key``, the line
``keygen`` prints), and to the platform with ``register`` (for terminals before sealing).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from central.store import CentralStore

OpenStore = Callable[[str | None], AbstractContextManager["CentralStore"]]

RETENTION_ENV = "KIOSK_CENTRAL_PERSONAL_RETENTION_DAYS"
# Long enough for the back office to act on feedback and request slips; the terminal keeps its
# own copies 7 days ([outbox] retention_days).
DEFAULT_RETENTION_DAYS = 90


def retention_option(flag: str, *, in_serve: bool) -> Callable[[Any], Any]:
    """The one retention setting (the same environment variable) for serve's schedule and for
    ``personal purge``, so the two cannot disagree by accident."""
    return click.option(
        flag,
        "retention_days",
        type=click.IntRange(0, 36500),
        default=DEFAULT_RETENTION_DAYS,
        envvar=RETENTION_ENV,
        show_envvar=True,
        show_default=True,
        metavar="DAYS",
        help="Personal parts received longer ago than this are purged"
        + (", checked at start and hourly (0: never)." if in_serve else " (0: none)."),
    )


KEY = click.option(
    "--key",
    "key_files",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="A personal-data private key (0600); repeat for keys rotated out that still open "
    "older records.",
)
WHY = click.option("--why", required=True, help="Why it is opened: kept in the audit.")
BY = click.option("--by", metavar="NAME", help="Who opens it (default: the OS user).")


def register(cli: click.Group, db_option: Callable[[Any], Any], opened_store: OpenStore) -> None:
    @cli.group()
    def personal() -> None:
        """Residents' personal data: sealed by terminals, opened only here, with the key."""

    @personal.command("keygen")
    @click.option("--out", required=True, type=click.Path(path_type=Path, file_okay=False))
    @click.option("--name", required=True, help="The key's file names: NAME.key and NAME.pub.")
    def keygen(out: Path, name: str) -> None:
        """Make a personal-data key pair (NAME.key 0600, NAME.pub) and print the
        "personal_key" a signed configuration's payload carries to terminals."""
        from contracts.personal import generate

        try:
            key_path, pub_path, public = generate(out, name)
        except FileExistsError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"private key {key_path} (keep it off the API server), public {pub_path}")
        click.echo(json.dumps({"personal_key": public.model_dump()}))

    @personal.command("register")
    @click.argument("public_file", type=click.Path(path_type=Path, dir_okay=False))
    @db_option
    def register_key(public_file: Path, db_url: str | None) -> None:
        """Make the public key PUBLIC_FILE the one the platform seals personal parts to when a
        terminal from before sealing sends them in the clear; seal those stored so far."""
        from central.backoffice import PersonalError
        from central.backoffice import register_key as register_public
        from contracts.personal import PersonalSealError, load_public

        try:
            public = load_public(public_file)
        except PersonalSealError as exc:
            raise PersonalError(str(exc)) from None
        with opened_store(db_url) as store:
            sealed = register_public(store, public)
        click.echo(f"personal-data key {public.key_id} registered; {sealed} clear part(s) sealed")

    @personal.command("retire")
    @click.argument("key_id", metavar="KEY_ID")
    @db_option
    def retire(key_id: str, db_url: str | None) -> None:
        """Stop sealing to KEY_ID (records sealed to it still open with its private key)."""
        from central.backoffice import retire_key

        with opened_store(db_url) as store:
            retire_key(store, key_id)
        click.echo(f"personal-data key {key_id} retired")

    @personal.command("keys")
    @click.option("--json", "as_json", is_flag=True)
    @db_option
    def list_keys(as_json: bool, db_url: str | None) -> None:
        """The keys: registered ones and any that sealed parts name, with how many each opens."""
        from central.backoffice import keys

        with opened_store(db_url) as store:
            rows = keys(store)
        if as_json:
            click.echo(json.dumps(rows))
            return
        for row in rows:
            state = (
                "unregistered" if row["added_at"] is None
                else f"retired {row['retired_at']}" if row["retired_at"]
                else f"current since {row['added_at']}"
            )  # fmt: skip
            click.echo(f"{row['key_id']}  {state}  {row['sealed_parts']} sealed part(s)")

    @personal.command("open")
    @click.argument("uuid", metavar="UUID")
    @KEY
    @WHY
    @BY
    @click.option("--kiosk", "kiosk_id", metavar="ID", help="When the uuid is several kiosks'.")
    @db_option
    def open_command(
        uuid: str,
        key_files: tuple[Path, ...],
        why: str,
        by: str | None,
        kiosk_id: str | None,
        db_url: str | None,
    ) -> None:
        """Print one transaction's personal fields as JSON; the opening is audited first."""
        from central.backoffice import Keyring, Opener, open_record

        keyring = Keyring.load(key_files)
        opener = Opener.of(why, by)
        with opened_store(db_url) as store:
            opened = open_record(store, uuid, keyring, opener, kiosk_id=kiosk_id)
        line = {"kiosk_id": opened.kiosk_id, "uuid": opened.uuid, "key_id": opened.key_id,
                "personal": opened.fields}  # fmt: skip
        click.echo(json.dumps(line, ensure_ascii=False))

    @personal.command("audit")
    @click.option("--uuid", metavar="UUID", help="Only the openings of this transaction.")
    @click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    @db_option
    def audit(uuid: str | None, limit: int, as_json: bool, db_url: str | None) -> None:
        """Who opened which personal parts, when, why, and whether they opened; newest first."""
        from central.backoffice import openings

        with opened_store(db_url) as store:
            rows = openings(store, uuid=uuid, limit=limit)
        for row in rows:
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(
                    f"{row['opened_at']}  {row['opened_by']} (OS user {row['os_user']})  "
                    f"{row['via']} {row['kiosk_id']}/{row['uuid']}  {row['outcome']}  "
                    f"why: {row['why']}"
                )

    @personal.command("purge")
    @retention_option("--retention-days", in_serve=False)
    @db_option
    def purge_command(retention_days: int, db_url: str | None) -> None:
        """Remove the personal parts received more than the retention period ago."""
        from central.backoffice import purge

        if retention_days == 0:
            click.echo("retention 0: nothing purged")
            return
        with opened_store(db_url) as store:
            purged = purge(store, retention_days)
        click.echo(f"purged {purged} personal part(s) older than {retention_days} day(s)")


def export_personal(
    store: CentralStore, kiosk_id: str, key_files: tuple[Path, ...], why: str, by: str | None
) -> None:
    """``export --personal-key``: every transaction as JSON lines, with its personal fields
    opened (each opening audited before its page is written)."""
    from central.backoffice import Keyring, Opener, open_many

    keyring = Keyring.load(key_files)
    opener = Opener.of(why, by)
    out = sys.stdout.buffer
    page: list[dict[str, Any]] = []

    def flush() -> None:
        sealed = [line["uuid"] for line in page if line.get("personal") == "sealed"]
        opened = {
            o.uuid: o for o in open_many(store, kiosk_id, sealed, keyring, opener, via="export")
        }
        for line in page:
            found = opened.get(line["uuid"])
            if found is not None:
                if found.fields is not None:
                    line["personal"] = found.fields
                else:
                    line["personal_error"] = found.error
            out.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
        page.clear()

    for txn in store.iter_transactions(kiosk_id):
        page.append(txn.model_dump(exclude_none=True))
        if len(page) >= 1000:
            flush()
    flush()
    out.flush()
