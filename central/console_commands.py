"""``kiosk-central user ...`` (console accounts) and ``kiosk-central fleet`` (the fleet's state,
as the console's fleet page shows it)."""

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


def _password() -> str:
    """From standard input: typed twice at a terminal, else its first line (scripts, CI)."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


def register(cli: click.Group, db_option: Callable[[Any], Any], opened_store: OpenStore) -> None:
    from central.console.accounts import ROLES

    @cli.group()
    def user() -> None:
        """Console accounts: add, list, password, disable, enable."""

    @user.command("add")
    @click.argument("name")
    @click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
    @db_option
    def user_add(name: str, role: str, db_url: str | None) -> None:
        """Add NAME; the password comes from standard input (at least 10 characters)."""
        from central.console.accounts import add_user, audit

        password = _password()
        with opened_store(db_url) as store:
            add_user(store, name, role, password)
            audit(store, "cli", "user_add", name, f"role {role}")
        click.echo(f"added {name} ({role})")

    @user.command("list")
    @click.option("--json", "as_json", is_flag=True)
    @db_option
    def user_list(as_json: bool, db_url: str | None) -> None:
        """The accounts, their roles and states."""
        from central.console.accounts import list_users

        with opened_store(db_url) as store:
            users = list_users(store)
        if as_json:
            click.echo(json.dumps(users, ensure_ascii=False, indent=2))
            return
        for u in users:
            flags = " disabled" if u["disabled"] else ""
            click.echo(f"{u['name']:24} {u['role']:9}{flags}")

    @user.command("password")
    @click.argument("name")
    @db_option
    def user_password(name: str, db_url: str | None) -> None:
        """Set NAME's password (from standard input); signs NAME out everywhere."""
        from central.console.accounts import audit, set_password

        password = _password()
        with opened_store(db_url) as store:
            set_password(store, name, password)
            audit(store, "cli", "user_password", name)
        click.echo(f"password of {name} set")

    for verb, disabled in (("disable", True), ("enable", False)):

        def change(name: str, db_url: str | None, disabled: bool = disabled) -> None:
            from central.console.accounts import audit, set_disabled

            with opened_store(db_url) as store:
                set_disabled(store, name, disabled)
                audit(store, "cli", "user_disable" if disabled else "user_enable", name)
            click.echo(f"{name} {'disabled' if disabled else 'enabled'}")

        user.command(verb, help=f"{verb.title()} NAME's account.")(
            click.argument("name")(db_option(change))
        )

    @cli.command("fleet")
    @click.option("--group", metavar="G", help="One group only.")
    @click.option("--state", type=click.Choice(["offline", "attention", "ok"]))
    @click.option("--json", "as_json", is_flag=True, help="One JSON object.")
    @db_option
    def fleet_command(
        group: str | None, state: str | None, as_json: bool, db_url: str | None
    ) -> None:
        """Every terminal: online or not, versions, and what needs a technician, problems first."""
        from central.fleet import fleet, summary

        with opened_store(db_url) as store:
            terminals = fleet(store, group=group, state=state)
        if as_json:
            click.echo(json.dumps(
                {"summary": summary(terminals), "terminals": [t.as_json() for t in terminals]},
                ensure_ascii=False, indent=2,
            ))  # fmt: skip
            return
        for t in terminals:
            seen = t.last_seen[:19].replace("T", " ") if t.last_seen else "never"
            problems = ", ".join(t.problems) or "-"
            click.echo(f"{t.id:24} {t.state:9} {t.group or '-':12} {seen:19}  {problems}")
        counts = summary(terminals)
        click.echo(f"{counts['total']} terminals: {counts['attention']} need attention, "
                   f"{counts['offline']} offline, {counts['ok']} ok")  # fmt: skip

    register_alerts(cli, db_option, opened_store)


def register_alerts(
    cli: click.Group, db_option: Callable[[Any], Any], opened_store: OpenStore
) -> None:
    alerts_file = click.option(
        "--alerts", "alerts_file", type=click.Path(dir_okay=False, path_type=Path),
        envvar="KIOSK_CENTRAL_ALERTS", show_envvar=True, metavar="FILE",
        help="Alert rules and webhooks (TOML; see central/alerts.py). Default: built-in rules.",
    )  # fmt: skip

    @cli.group("alerts")
    def alerts_group() -> None:
        """Alerts: check the rules once, or list what is raised."""

    @alerts_group.command("check")
    @alerts_file
    @db_option
    def alerts_check(alerts_file: Path | None, db_url: str | None) -> None:
        """One round: raise, clear, and send what is owed to the webhooks."""
        from central.alerts import evaluate, load_rules

        rules = load_rules(alerts_file)
        with opened_store(db_url) as store:
            for change in evaluate(store, rules):
                click.echo(f"{change['event']:8} {change['key']}: {change['detail']}")

    @alerts_group.command("list")
    @click.option("--json", "as_json", is_flag=True)
    @db_option
    def alerts_list(as_json: bool, db_url: str | None) -> None:
        """Raised alerts, then those being watched, then those cleared."""
        from central.alerts import listing

        with opened_store(db_url) as store:
            rows = listing(store)
        if as_json:
            click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for r in rows:
            click.echo(f"{r['state']:8} {r['subject']:24} {r['rule']:28} {r['detail']}")
