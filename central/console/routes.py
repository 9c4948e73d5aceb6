"""The operators' console under /console/: server-rendered pages (Jinja2, plain forms, no script),
a role check on every route, CSRF tokens on every form, and an audit line for every action.

Roles: viewer reads (fleet, a terminal, KPIs, CSV); operator also acts on the fleet; admin also
manages accounts and reads the audit. Nobody signed in is sent to the sign-in page (a GET) or
refused (a POST).
"""

from __future__ import annotations

import asyncio
import csv
import functools
import hmac
import inspect
import io
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from starlette.exceptions import HTTPException

from central import alerts, cases, kpi
from central.console import accounts, charts
from central.console.accounts import RANK, Role, Session
from central.console.charts import paired_bars
from central.console.words import LANGUAGES, Words
from central.fleet import fleet, summary
from central.kpi_commands import csv_rows
from central.rollout import MAX_BUNDLE_BYTES, RolloutError, Rollouts, bundle_version
from central.store import CentralStore
from central.tables import transactions

COOKIE = "kiosk_console"
LOGIN_COOKIE = "kiosk_console_login"  # the sign-in form's CSRF token (double submit)
LANG_COOKIE = "kiosk_console_lang"
STATIC = Path(__file__).parent / "static"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Everything from the platform itself; no script at all, inline styles for SVG only.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

_env = Environment(
    loader=PackageLoader("central.console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class Forbidden(Exception):
    pass


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


_env.filters["ratio"] = _ratio


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


PAGE_ROWS = 100  # rows a page shows: terminals (problems first), KPI rows (weakest first)
CHART_ROWS = 30  # bars a chart draws; the table holds every row


def _weakest_first(row: dict[str, Any]) -> tuple[bool, float, str]:
    ratio = row["done_in_one_visit"]
    return (ratio is None, ratio if ratio is not None else 0.0, str(row["key"]))


async def _call(handler: Callable[..., Any], *args: Any) -> Response:
    """A coroutine handler awaited; a plain one run in the thread pool."""
    if inspect.iscoroutinefunction(handler):
        return cast(Response, await handler(*args))
    return cast(Response, await run_in_threadpool(handler, *args))


def _paged(request: Request, rows: list[Any], size: int) -> tuple[list[Any], int, int, str]:
    """The page of *rows* the request asks for (?page=N, kept within the pages there are): its
    rows, its number, how many pages, and the request's other parameters for the links."""
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, _whole_or(request.query_params.get("page"), 1)), pages)
    kept = "&".join(
        f"{quote(k)}={quote(v)}" for k, v in request.query_params.multi_items() if k != "page" and v
    )
    return rows[(number - 1) * size : number * size], number, pages, kept


def _whole_or(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


def _whole(raw: str, otherwise: str) -> int:
    """A whole number typed in a form, or RolloutError(*otherwise*) for the operator to read."""
    try:
        return int(raw.strip())
    except ValueError:
        raise RolloutError(otherwise) from None


def technician_visits(store: CentralStore, kiosk_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The terminal's technician audit records (entries, exits, actions), newest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(transactions.c.payload, transactions.c.created_at)
            .where(transactions.c.kiosk_id == kiosk_id,
                   transactions.c.service == "technician_audit")
            .order_by(transactions.c.id.desc())
            .limit(limit)
        ).all()  # fmt: skip
    out = []
    for row in rows:
        try:
            payload = json.loads(row.payload)
        except ValueError:
            continue
        facts = {k: v for k, v in payload.items() if k not in ("event", "at", "session")}
        out.append({"at": payload.get("at") or row.created_at, "event": payload.get("event"),
                    "session": payload.get("session"),
                    "facts": ", ".join(f"{k}={v}" for k, v in facts.items())})  # fmt: skip
    return out


def console_router(store: CentralStore) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)

    def words(request: Request) -> Words:
        asked = request.query_params.get("lang")
        return Words(asked if asked in LANGUAGES else request.cookies.get(LANG_COOKIE, "zh_CN"))

    def page(request: Request, template: str, session: Session | None, **values: Any) -> Response:
        t = words(request)
        html = _env.get_template(template).render(
            t=t, session=session, path=request.url.path, lang=t.language,
            can=lambda role: session is not None and RANK[session.user.role] >= RANK[role],
            **values,
        )  # fmt: skip
        response = HTMLResponse(html, status_code=values.get("status", 200), headers=HEADERS)
        if request.query_params.get("lang") in LANGUAGES:
            _cookie(request, response, LANG_COOKIE, t.language, max_age=365 * 86400)
        return response

    def _cookie(
        request: Request, response: Response, name: str, value: str, max_age: int | None = None
    ) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path="/console", httponly=True, samesite="strict",
            secure=request.url.scheme == "https",
        )  # fmt: skip

    def signed_in(request: Request) -> Session | None:
        return accounts.session_of(store, request.cookies.get(COOKIE))

    def to_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/console/login?next={quote(target)}", status_code=303)

    def guarded(
        role: Role,
    ) -> Callable[[Callable[..., Any]], Callable[..., Awaitable[Response]]]:
        """GET pages: sign in first, then at least *role*. The page's database work runs in the
        thread pool, never on the event loop the terminals' requests share."""

        def wrap(handler: Callable[..., Any]) -> Callable[..., Awaitable[Response]]:
            async def run(request: Request) -> Response:
                session = await run_in_threadpool(signed_in, request)
                if session is None:
                    return to_login(request)
                if RANK[session.user.role] < RANK[role]:
                    return page(request, "error.html", session, message="error.forbidden",
                                status=403)  # fmt: skip
                return await _call(handler, request, session)

            run.__name__ = handler.__name__
            return run

        return wrap

    async def form_of(request: Request) -> dict[str, str]:
        """The form's text fields. A file upload (multipart) leaves its one file's bytes in
        request.state.upload: only the bundle form sends one."""
        request.state.upload = None
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            fields: dict[str, str] = {}
            try:
                parts = await request.form(
                    max_files=1, max_fields=8, max_part_size=MAX_BUNDLE_BYTES
                )
            except HTTPException as exc:  # malformed or too many parts: the form is refused
                if exc.status_code == 413:
                    raise  # too large: the API's 413, not a form without its token
                return fields
            try:
                for name, value in parts.multi_items():
                    if isinstance(value, str):
                        fields.setdefault(name, value)
                    else:
                        request.state.upload = await value.read(MAX_BUNDLE_BYTES + 1)
            finally:
                await parts.close()  # the upload's spooled temporary file
            return fields
        body = (await request.body()).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

    def posted(
        role: Role,
    ) -> Callable[[Callable[..., Any]], Callable[..., Awaitable[Response]]]:
        """POST actions: a live session of at least *role*, and its CSRF token in the form."""

        def wrap(handler: Callable[..., Any]) -> Callable[..., Awaitable[Response]]:
            async def run(request: Request) -> Response:
                form = await form_of(request)
                session = await run_in_threadpool(signed_in, request)
                if session is None:
                    return page(request, "error.html", None, message="login.expired", status=403)
                if not hmac.compare_digest(form.get("csrf", ""), session.csrf):
                    return page(request, "error.html", session, message="error.csrf", status=403)
                if RANK[session.user.role] < RANK[role]:
                    return page(request, "error.html", session, message="error.forbidden",
                                status=403)  # fmt: skip
                return await _call(handler, request, session, form)

            run.__name__ = handler.__name__
            return run

        return wrap

    # -- signing in and out -------------------------------------------------------------------
    @router.get("/login")
    async def login_page(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = page(request, "login.html", None, login_csrf=token,
                        next=request.query_params.get("next", ""), error=None)  # fmt: skip
        _cookie(request, response, LOGIN_COOKIE, token)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await form_of(request)
        # argon2 takes tens of milliseconds of CPU by design: not on the event loop
        return await run_in_threadpool(signed_in_with, request, form)

    def signed_in_with(request: Request, form: dict[str, str]) -> Response:
        expected = request.cookies.get(LOGIN_COOKIE, "")
        name, password = form.get("name", "").strip(), form.get("password", "")
        target = form.get("next", "")
        if not target.startswith("/console/") or target.startswith("//"):
            target = "/console/fleet"
        error: str | None
        if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
            error = "login.expired"
            result, user = "expired", None
        else:
            result, user = accounts.check_login(store, name, password)
            error = {"wrong": "login.wrong", "locked": "login.locked",
                     "disabled": "login.disabled"}.get(result)  # fmt: skip
        if user is None:
            shown = name if accounts.valid_name(name) else "-"
            accounts.audit(store, shown, "login_failed", detail=result)
            token = secrets.token_urlsafe(24)
            response = page(request, "login.html", None, login_csrf=token, next=target,
                            error=error, status=401)  # fmt: skip
            _cookie(request, response, LOGIN_COOKIE, token)
            return response
        accounts.audit(store, user.name, "login")
        response = RedirectResponse(target, status_code=303, headers=HEADERS)
        _cookie(request, response, COOKIE, accounts.open_session(store, user))
        response.delete_cookie(LOGIN_COOKIE, path="/console")
        return response

    @router.post("/logout")
    @posted("viewer")
    def logout(request: Request, session: Session, form: dict[str, str]) -> Response:
        accounts.close_session(store, session)
        accounts.audit(store, session.user.name, "logout")
        response = RedirectResponse("/console/login", status_code=303, headers=HEADERS)
        response.delete_cookie(COOKIE, path="/console")
        return response

    @router.get("/")
    async def home(request: Request) -> Response:
        return RedirectResponse("/console/fleet", status_code=303)

    # -- fleet ----------------------------------------------------------------------------------
    @router.get("/fleet")
    @guarded("viewer")
    def fleet_page(request: Request, session: Session) -> Response:
        q = request.query_params
        group, state = q.get("group") or None, q.get("state") or None
        find = (q.get("find") or "").strip()
        everyone = fleet(store)
        matching = [
            t for t in everyone
            if (group is None or t.group == group) and (state is None or t.state == state)
            and find.casefold() in t.id.casefold()
        ]  # fmt: skip
        shown, number, pages, kept = _paged(request, matching, PAGE_ROWS)
        groups = sorted({t.group for t in everyone if t.group})
        return page(request, "fleet.html", session, terminals=shown, counts=summary(everyone),
                    groups=groups, group=group, state=state, find=find, page_number=number,
                    pages=pages, matching=len(matching), kept=kept)  # fmt: skip

    @router.get("/kiosks/{kiosk_id}")
    @guarded("viewer")
    def kiosk_page(request: Request, session: Session) -> Response:
        kiosk_id = request.path_params["kiosk_id"]
        found = [t for t in fleet(store) if t.id == kiosk_id]
        if not found:
            return page(request, "error.html", session, message="kiosk.unknown", status=404)
        kpi.roll_up(store, wait=False)
        since = date.today() - timedelta(days=30)
        figures = kpi.report(store, kpi.Filter(kiosk=kiosk_id, since=since), "service")
        return page(request, "kiosk.html", session, terminal=found[0], figures=figures,
                    history=alerts.history(store, kiosk_id),
                    visits=technician_visits(store, kiosk_id))  # fmt: skip

    # -- KPIs -------------------------------------------------------------------------------------
    def kpi_query(request: Request) -> tuple[kpi.Filter, str]:
        q = request.query_params
        today = date.today()
        since = _day(q.get("since")) or today.replace(day=1)
        until = _day(q.get("until")) or today
        by = q.get("by") if q.get("by") in kpi.DIMENSION else "service"
        where = kpi.Filter(group=q.get("group") or None, kiosk=q.get("kiosk") or None,
                           service=q.get("service") or None, since=since, until=until)  # fmt: skip
        return where, str(by)

    @router.get("/kpi")
    @guarded("viewer")
    async def kpi_page(request: Request, session: Session) -> Response:
        where, by = kpi_query(request)
        await run_in_threadpool(functools.partial(kpi.roll_up, store, wait=False))
        # Three reads side by side, each on a connection of its own in the thread pool: the
        # page takes the longest of them, not their sum.
        figures_of_cases = functools.partial(
            cases.case_figures, store, since=where.since, until=where.until,
            group=where.group, kiosk=where.kiosk, service=where.service,
        )  # fmt: skip
        result, days, followed = await asyncio.gather(
            run_in_threadpool(kpi.report, store, where, by),  # type: ignore[arg-type]
            run_in_threadpool(kpi.trend, store, where),
            run_in_threadpool(figures_of_cases),
        )
        t = words(request)
        rows = result["rows"]
        many = len(rows) > PAGE_ROWS  # by terminal over a fleet: the weakest first, in pages
        if many:
            rows = sorted(rows, key=_weakest_first)
        shown, number, pages, kept = _paged(request, rows, PAGE_ROWS)
        chart = paired_bars(  # the weakest (or the first) rows, whichever page is shown
            [(row["key"] or "—", row["done_in_one_visit"], row["satisfaction"])
             for row in rows[:CHART_ROWS]],
            (t("kpi.done_in_one_visit"), t("kpi.satisfaction")),
        )  # fmt: skip
        trend = charts.trend(
            [(d["day"][5:], d["visits"], d["done_in_one_visit"], d["satisfaction"]) for d in days],
            (t("kpi.visits"), t("kpi.done_in_one_visit"), t("kpi.satisfaction")),
        )  # fmt: skip
        return page(request, "kpi.html", session, result=result, rows=shown, where=where, by=by,
                    chart=chart, trend=trend, query=request.url.query, cases=followed,
                    many=many, page_number=number, pages=pages, kept=kept,
                    charted=min(len(rows), CHART_ROWS))  # fmt: skip

    @router.get("/kpi.csv")
    @guarded("viewer")
    def kpi_csv(request: Request, session: Session) -> Response:
        where, by = kpi_query(request)
        result = kpi.report(store, where, by)  # type: ignore[arg-type]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(csv_rows(result))
        name = f"kpi-{by}-{where.since}-{where.until}.csv"
        return Response(
            "\ufeff" + out.getvalue(),  # the BOM: spreadsheet programs then read it as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
        )

    # -- alerts -----------------------------------------------------------------------------------
    @router.get("/alerts")
    @guarded("viewer")
    def alerts_page(request: Request, session: Session) -> Response:
        since = date.today() - timedelta(days=7)
        return page(
            request, "alerts.html", session, alerts=alerts.listing(store, cleared_since=since)
        )

    # -- 差评 cases ------------------------------------------------------------------------------
    @router.get("/cases")
    @guarded("viewer")
    def cases_page(request: Request, session: Session) -> Response:
        kpi.roll_up(store, wait=False)  # a rating just received opens its case
        state = request.query_params.get("state") or None
        if state not in (None, "overdue", *cases.STATES):
            state = None
        return page(request, "cases.html", session, cases=cases.list_cases(store, state=state),
                    state=state, states=cases.STATES)  # fmt: skip

    def case_view(request: Request, session: Session, error: str | None = None) -> Response:
        try:
            case_id = int(request.path_params["case_id"])
        except ValueError:
            case_id = -1
        found = cases.case(store, case_id)
        if found is None:
            return page(request, "error.html", session, message="cases.unknown", status=404)
        return page(request, "case.html", session, case=found, next_state=cases.NEXT.get(
            found["state"]), call_back=cases.call_back(store, found), error=error,
            status=400 if error else 200)  # fmt: skip

    @router.get("/cases/{case_id}")
    @guarded("viewer")
    def case_page(request: Request, session: Session) -> Response:
        return case_view(request, session)

    @router.post("/cases/{case_id}")
    @posted("operator")
    def case_move(request: Request, session: Session, form: dict[str, str]) -> Response:
        case_id = request.path_params["case_id"]
        try:
            cases.advance(store, int(case_id), form.get("to", ""), session.user.name,
                          form.get("note", ""))  # fmt: skip
        except (cases.CaseError, ValueError) as exc:
            return case_view(request, session, error=str(exc))
        accounts.audit(store, session.user.name, "case_" + form.get("to", ""), f"case {case_id}")
        return RedirectResponse(f"/console/cases/{case_id}", status_code=303, headers=HEADERS)

    # -- configuration rollout ------------------------------------------------------------------
    def rollouts_view(
        request: Request, session: Session, error: str | None = None, status: int = 200
    ) -> Response:
        rollouts = Rollouts(store)
        reports = rollouts.status()
        groups = sorted({str(r["grp"]) for r in reports if r["grp"]})
        return page(request, "rollouts.html", session, bundles=rollouts.bundles(),
                    reports=reports, groups=groups, error=error, status=status)  # fmt: skip

    @router.get("/rollouts")
    @guarded("viewer")
    def rollouts_page(request: Request, session: Session) -> Response:
        return rollouts_view(request, session)

    @router.post("/rollouts")
    @posted("operator")
    def rollout_action(request: Request, session: Session, form: dict[str, str]) -> Response:
        group, action = form.get("group", ""), form.get("action", "")
        try:
            version = _whole(form.get("version", ""), "no such version")
            if action == "halt":
                was = Rollouts(store).halt(group, version)
                detail = f"version {version}: halted at {was}%"
            elif action == "advance":
                percent = _whole(form.get("percent", ""), "percent must be between 1 and 100")
                Rollouts(store).advance(group, version, percent)
                detail = f"version {version}: {percent}%"
            else:
                raise RolloutError(f"unknown action {action!r}")
        except RolloutError as exc:
            return rollouts_view(request, session, error=str(exc), status=400)
        accounts.audit(store, session.user.name, f"rollout_{action}", group, detail)
        return RedirectResponse("/console/rollouts", status_code=303, headers=HEADERS)

    @router.post("/rollouts/publish")
    @posted("operator")
    def rollout_publish(request: Request, session: Session, form: dict[str, str]) -> Response:
        """A bundle the key holders signed offline, uploaded as a file: the platform checks
        its shape and stores its bytes as they are (it cannot sign or change one)."""
        t = words(request)
        raw: bytes | None = request.state.upload
        group = form.get("group", "")
        known = {str(r["grp"]) for r in Rollouts(store).status() if r["grp"]}
        try:
            if not raw:
                raise RolloutError(t("rollouts.no_file"))
            if group not in known:
                raise RolloutError(t("rollouts.no_group"))
            percent = _whole(form.get("percent", ""), "percent must be between 1 and 100")
            version = bundle_version(raw)
            Rollouts(store).publish(raw, version, group, percent)
        except RolloutError as exc:
            return rollouts_view(request, session, error=str(exc), status=400)
        detail = f"version {version}: {percent}%, {len(raw):,} bytes"
        accounts.audit(store, session.user.name, "rollout_publish", group, detail)
        return RedirectResponse("/console/rollouts", status_code=303, headers=HEADERS)

    # -- accounts and audit (admin) ---------------------------------------------------------------
    @router.get("/users")
    @guarded("admin")
    def users_page(request: Request, session: Session) -> Response:
        return page(request, "users.html", session, users=accounts.list_users(store),
                    roles=accounts.ROLES, notice=None, error=None)  # fmt: skip

    @router.post("/users")
    @posted("admin")
    def add_user(request: Request, session: Session, form: dict[str, str]) -> Response:
        name, role = form.get("name", "").strip(), form.get("role", "")
        try:
            accounts.add_user(store, name, role, form.get("password", ""))
        except accounts.AccountError as exc:
            return page(request, "users.html", session, users=accounts.list_users(store),
                        roles=accounts.ROLES, notice=None, error=str(exc), status=400)  # fmt: skip
        accounts.audit(store, session.user.name, "user_add", name, f"role {role}")
        return page(request, "users.html", session, users=accounts.list_users(store),
                    roles=accounts.ROLES, notice=name, error=None)  # fmt: skip

    @router.get("/audit")
    @guarded("admin")
    def audit_page(request: Request, session: Session) -> Response:
        return page(request, "audit.html", session, lines=accounts.audit_log(store))

    @router.get("/static/console.css")
    async def stylesheet() -> Response:
        return Response(
            (STATIC / "console.css").read_bytes(), media_type="text/css",
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )  # fmt: skip

    return router


# Every route and the least role it needs ('public' for none): the role walk test reads this.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/console/login"): "public",
    ("POST", "/console/login"): "public",
    ("GET", "/console/static/console.css"): "public",
    ("GET", "/console/"): "public",
    ("POST", "/console/logout"): "viewer",
    ("GET", "/console/fleet"): "viewer",
    ("GET", "/console/kiosks/{kiosk_id}"): "viewer",
    ("GET", "/console/kpi"): "viewer",
    ("GET", "/console/kpi.csv"): "viewer",
    ("GET", "/console/alerts"): "viewer",
    ("GET", "/console/cases"): "viewer",
    ("GET", "/console/cases/{case_id}"): "viewer",
    ("POST", "/console/cases/{case_id}"): "operator",
    ("GET", "/console/rollouts"): "viewer",
    ("POST", "/console/rollouts"): "operator",
    ("POST", "/console/rollouts/publish"): "operator",
    ("GET", "/console/users"): "admin",
    ("POST", "/console/users"): "admin",
    ("GET", "/console/audit"): "admin",
}
