"""``kiosk-central slips process | status | retry``: request slips answered by SMS
(central/slips.py), from the back office's machine, where the personal-data private key is.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from central.sms_gateway import SmsGateway
    from central.store import CentralStore

OpenStore = Callable[[str | None], AbstractContextManager["CentralStore"]]
TOKEN_ENV = "KIOSK_CENTRAL_SMS_TOKEN"
log = logging.getLogger("central.slips")


@contextmanager
def _gateway(
    kind: str, sms_log: Path | None, url: str | None, template: str | None, timeout: float,
    ca_file: Path | None,
) -> Iterator[SmsGateway]:  # fmt: skip
    from central.sms_gateway import DEFAULT_TEMPLATE, HttpGateway, LogGateway

    if kind == "log":
        if url or template:
            raise click.UsageError("--http-url and --http-template go with --gateway http")
        where = str(sms_log) if sms_log else "standard output"
        click.echo(
            f"kiosk-central: slips: --gateway log sends nothing: each message, phone number "
            f"included, is written to {where}; for tests and demos only",
            err=True,
        )
        out: IO[str] | None = None
        if sms_log is not None:
            out = sms_log.open("a", encoding="utf-8")
        try:
            yield LogGateway(out)
        finally:
            if out is not None:
                out.close()
        return
    if sms_log is not None:
        raise click.UsageError("--sms-log goes with --gateway log")
    if not url:
        raise click.UsageError("--gateway http needs --http-url (or KIOSK_CENTRAL_SMS_URL)")
    # The provider's credential from the environment, never the command line (ps shows that).
    token = os.environ.get(TOKEN_ENV)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        http = HttpGateway(url, template=template or DEFAULT_TEMPLATE, timeout=timeout,
                           headers=headers, ca_file=ca_file)  # fmt: skip
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--http-url/--http-template") from None
    yield http


def register(cli: click.Group, db_option: Callable[[Any], Any], opened_store: OpenStore) -> None:
    @cli.group()
    def slips() -> None:
        """Request slips printed offline, answered by SMS (run where the personal-data key is)."""

    @slips.command("process")
    @click.option("--personal-key", "key_files", multiple=True, required=True, metavar="FILE",
                  type=click.Path(path_type=Path, dir_okay=False),
                  help="The personal-data private key (0600); repeat for rotated keys. Each "
                  "slip opened is audited.")  # fmt: skip
    @click.option("--gateway", required=True, type=click.Choice(["http", "log"]),
                  help="http: the SMS provider at --http-url. log: send nothing, write each "
                  "message to --sms-log or standard output (tests and demos only).")  # fmt: skip
    @click.option("--sms-log", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
                  help="--gateway log: append the messages here (JSON lines).")  # fmt: skip
    @click.option("--http-url", envvar="KIOSK_CENTRAL_SMS_URL", show_envvar=True, metavar="URL",
                  help="--gateway http: where each message is POSTed.")  # fmt: skip
    @click.option("--http-template", envvar="KIOSK_CENTRAL_SMS_TEMPLATE", show_envvar=True,
                  metavar="JSON", help="--gateway http: the body, with $phone, $text and "
                  "$reference (each becomes a JSON string). Default: "
                  '{"to": $phone, "text": $text, "reference": $reference}. A bearer token '
                  f"for the provider goes in {TOKEN_ENV}.")  # fmt: skip
    @click.option("--http-timeout", type=click.FloatRange(0.1, 120), default=10,
                  show_default=True, help="Seconds to wait for the provider.")  # fmt: skip
    @click.option(
        "--http-ca",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="Trust only this CA for the provider (default: the system's).",
    )
    @click.option("--max-attempts", type=click.IntRange(1, 100), default=5, show_default=True,
                  help="Attempts per slip before it is recorded as failed.")  # fmt: skip
    @click.option(
        "--retry-base",
        type=click.FloatRange(0, 3600),
        default=30,
        show_default=True,
        help="Seconds before the 2nd attempt; doubling after.",
    )
    @click.option("--retry-cap", type=click.FloatRange(0, 86400), default=600,
                  show_default=True, help="The longest wait between attempts.")  # fmt: skip
    @click.option(
        "--sign",
        default="社区服务中心",
        show_default=True,
        help="The SMS signature (【...】): the sender as residents know it.",
    )
    @click.option("--loop", is_flag=True, help="Keep running, looking for new slips.")
    @click.option("--interval", type=click.FloatRange(0.1, 3600), default=60,
                  show_default=True, help="--loop: seconds between looks.")  # fmt: skip
    @click.option("--by", metavar="NAME", help="Who runs it, for the audit (default: OS user).")
    @db_option
    def process(
        key_files: tuple[Path, ...], gateway: str, sms_log: Path | None, http_url: str | None,
        http_template: str | None, http_timeout: float, http_ca: Path | None, max_attempts: int,
        retry_base: float, retry_cap: float, sign: str, loop: bool, interval: float,
        by: str | None, db_url: str | None,
    ) -> None:  # fmt: skip
        """Answer every request slip not answered yet, by SMS; retry failed sends.

        Without --loop it returns once every slip is sent, failed (after --max-attempts) or
        undeliverable, and prints the counts. Log lines name slips by kiosk and uuid only."""
        from central.backoffice import Keyring, Opener
        from central.slips import WHY, SlipPolicy, SlipWorker

        policy = SlipPolicy(max_attempts=max_attempts, retry_base=retry_base,
                            retry_cap=retry_cap, sign=sign)  # fmt: skip
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, force=True,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            with (
                _gateway(gateway, sms_log, http_url, http_template, http_timeout,
                         http_ca) as chosen,
                opened_store(db_url) as store,
            ):  # fmt: skip
                keyring = Keyring.load(key_files)  # after the usage is known to be right
                worker = SlipWorker(store, keyring, Opener.of(WHY, by), chosen, policy)
                counts = worker.run(loop=loop, interval=interval, stop=stop)
        finally:
            signal.signal(signal.SIGTERM, previous)
        click.echo(
            f"slips: {counts['sent']} sent, {counts['failed']} failed, "
            f"{counts['undeliverable']} undeliverable, {counts['retried']} attempt(s) retried",
            err=gateway == "log" and sms_log is None,  # stdout is the log gateway's then
        )

    @slips.command("status")
    @click.option(
        "--status",
        "only",
        type=click.Choice(["pending", "sending", "sent", "failed", "undeliverable"]),
        help="Only these.",
    )
    @click.option("--json", "as_json", is_flag=True)
    @db_option
    def status(only: str | None, as_json: bool, db_url: str | None) -> None:
        """Where each slip stands: status, attempts, the last outcome (no personal value)."""
        from central.slips import deliveries

        with opened_store(db_url) as store:
            rows = deliveries(store, status=only)
        for row in rows:
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(f"{row['kiosk_id']}/{row['uuid']}  {row['status']}  "
                           f"{row['attempts']} attempt(s)  {row['outcome'] or ''}")  # fmt: skip

    @slips.command("retry")
    @click.argument("uuids", nargs=-1, metavar="[UUID]...")
    @click.option("--failed", is_flag=True, help="Every failed slip.")
    @db_option
    def retry(uuids: tuple[str, ...], failed: bool, db_url: str | None) -> None:
        """Put failed or undeliverable slips back in line, after the cause is fixed."""
        from central.slips import requeue

        if not uuids and not failed:
            raise click.UsageError("name the slips' UUIDs, or --failed")
        with opened_store(db_url) as store:
            count = requeue(store, uuids=list(uuids), failed=failed)
        click.echo(f"{count} slip(s) back in line")
