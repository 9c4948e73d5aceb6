"""``kiosk-central queue caller | call | set | show``: the centre's calling side, from a shell.

The same numbers the calling API moves (central/queue.py), read and written in the database
directly, so a counter can call the next ticket even when no calling system is set up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from central.store import CentralStore

OpenStore = Callable[[str | None], AbstractContextManager["CentralStore"]]


def _prefix(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from central.queue import PREFIX_RULE, is_prefix

    if not is_prefix(value):
        raise click.BadParameter(PREFIX_RULE)
    return value


def register(cli: click.Group, db_option: Callable[[Any], Any], opened_store: OpenStore) -> None:
    from contracts.wire import MAX_TICKET_NUMBER

    group_option = click.option(
        "--group",
        metavar="G",
        help="The centre: the kiosk group whose queues these are (default: kiosks without one).",
    )

    @cli.group()
    def queue() -> None:
        """Queue calling: the number each ticket prefix serves now, today."""

    @queue.command("caller")
    @click.argument("caller_id", metavar="ID")
    @group_option
    @click.option("--rotate", is_flag=True, help="The calling system exists: replace its token.")
    @db_option
    def caller(caller_id: str, group: str | None, rotate: bool, db_url: str | None) -> None:
        """Register a calling system for a centre and print its token (shown once; only a hash
        is stored). It moves that centre's queues through the /v1/queue routes."""
        import re

        from central.queue import Queues
        from contracts.wire import KIOSK_ID_PATTERN

        if not re.fullmatch(KIOSK_ID_PATTERN, caller_id):
            raise click.BadParameter(
                "1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or digit", param_hint="ID"
            )
        with opened_store(db_url) as store:
            click.echo(Queues(store).add_caller(caller_id, group, rotate=rotate))

    @queue.command("call")
    @click.argument("prefix", callback=_prefix)
    @group_option
    @db_option
    def call(prefix: str, group: str | None, db_url: str | None) -> None:
        """Call the next ticket of PREFIX today and print it (A008)."""
        from central.queue import DEFAULT_CENTRE, Queues

        with opened_store(db_url) as store:
            called = Queues(store).call(group or DEFAULT_CENTRE, prefix, date.today())
        click.echo(called.ticket)

    @queue.command("set")
    @click.argument("prefix", callback=_prefix)
    @click.argument("serving", metavar="N", type=click.IntRange(0, MAX_TICKET_NUMBER))
    @group_option
    @db_option
    def set_serving(prefix: str, serving: int, group: str | None, db_url: str | None) -> None:
        """Set the number PREFIX serves now, today (a correction; 0: none called yet)."""
        from central.queue import DEFAULT_CENTRE, Queues

        with opened_store(db_url) as store:
            now = Queues(store).set_serving(group or DEFAULT_CENTRE, prefix, date.today(), serving)
        click.echo(now.ticket or f"{prefix}: none called")

    @queue.command("show")
    @group_option
    @click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
    @db_option
    def show(group: str | None, as_json: bool, db_url: str | None) -> None:
        """Today's numbers served, per centre and prefix (every centre unless --group)."""
        from central.queue import Queues

        with opened_store(db_url) as store:
            board = Queues(store).board(date.today(), group)
        for row in board.queues:
            if as_json:
                click.echo(json.dumps(row.model_dump(), ensure_ascii=False))
            else:
                click.echo(f"{row.centre or '-':<16} {row.prefix:<4} {row.ticket}")
        if not board.queues and not as_json:
            click.echo(f"nothing called on {board.day}")
