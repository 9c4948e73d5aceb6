"""The operators' console over HTTP: every route walked as nobody and as each role, CSRF on
every form, lockout after repeated failures, sessions that end when an account is disabled, and
the audit of what operators did. The browser tests are in test_console_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from central import kpi
from central.api import create_app
from central.console import accounts
from central.console.accounts import LOCK_AFTER, RANK
from central.console.routes import ROUTES, console_router
from central.store import CentralStore
from contracts.wire import BatchItem

PASSWORD = "correct horse battery"
ROLES = ("viewer", "operator", "admin")


@pytest.fixture
def app_client(store: CentralStore) -> Iterator[TestClient]:
    for role in ROLES:
        accounts.add_user(store, f"{role}-user", role, PASSWORD)
    store.add_kiosk("kiosk-a", "east")
    bad = {"record": "rating", "visit_id": "b" * 32, "service": "social_security", "score": 1}
    store.ingest("kiosk-a", [BatchItem.model_validate({
        "uuid": "0190a000-0000-7000-8000-000000000001", "seq": 1, "service": "rating",
        "payload": bad, "created_at": "2026-11-02T10:00:00+08:00"})])  # fmt: skip
    kpi.catch_up(store, now=datetime.now(UTC) + timedelta(minutes=1))  # opens case 1
    with TestClient(create_app(store), base_url="https://platform.test") as client:
        yield client


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> object:
    page = client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        "/console/login",
        data={"csrf": token.group(1), "name": name, "password": password, "next": ""},
        follow_redirects=False,
    )


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/fleet").text)
    assert found is not None
    return found.group(1)


def concrete(path: str) -> str:
    return path.replace("{kiosk_id}", "kiosk-a").replace("{case_id}", "1")


def test_the_route_table_is_every_route(store: CentralStore) -> None:
    served = {
        (method, route.path)  # type: ignore[attr-defined]
        for route in console_router(store).routes
        for method in route.methods - {"HEAD"}  # type: ignore[attr-defined]
    }
    assert served == set(ROUTES)


@pytest.mark.parametrize("who", [None, *ROLES])
def test_every_route_as_nobody_and_as_every_role(app_client: TestClient, who: str | None) -> None:
    if who:
        assert sign_in(app_client, f"{who}-user").status_code == 303  # type: ignore[attr-defined]
    token = csrf_of(app_client) if who else "x"
    for (method, path), least in ROUTES.items():
        if path in ("/console/login", "/console/logout"):
            continue  # signing in and out have their own tests
        url = concrete(path)
        if method == "GET":
            answer = app_client.get(url, follow_redirects=False)
        else:
            answer = app_client.post(url, data={"csrf": token}, follow_redirects=False)
        allowed = least == "public" or (who is not None and RANK[who] >= RANK[least])  # type: ignore[index]
        if allowed:
            assert answer.status_code in (200, 303, 400), (who, method, path, answer.status_code)
            if answer.status_code == 303:
                assert "/console/login" not in answer.headers["location"], (who, path)
        elif who is None and method == "GET":
            assert answer.status_code == 303, (path, answer.status_code)
            assert answer.headers["location"].startswith("/console/login?next=")
        else:
            assert answer.status_code == 403, (who, method, path, answer.status_code)


def test_a_form_without_its_csrf_token_is_refused(
    app_client: TestClient, store: CentralStore
) -> None:
    sign_in(app_client, "admin-user")
    body = {"name": "mallory", "role": "admin", "password": "x" * 12}
    refused = app_client.post("/console/users", data={**body, "csrf": "forged"})
    assert refused.status_code == 403
    assert all(u["name"] != "mallory" for u in accounts.list_users(store))
    made = app_client.post("/console/users", data={**body, "csrf": csrf_of(app_client)})
    assert made.status_code == 200 and any(
        u["name"] == "mallory" for u in accounts.list_users(store)
    )
    actions = [(a["user_name"], a["action"], a["target"]) for a in accounts.audit_log(store)]
    assert ("admin-user", "user_add", "mallory") in actions


def test_sign_in_needs_the_form_token_too(app_client: TestClient) -> None:
    answer = app_client.post(
        "/console/login", data={"csrf": "nope", "name": "admin-user", "password": PASSWORD},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 401 and "console" not in answer.cookies


def test_repeated_failures_lock_the_account(app_client: TestClient, store: CentralStore) -> None:
    for _ in range(LOCK_AFTER - 1):
        assert sign_in(app_client, "viewer-user", "wrong password").status_code == 401  # type: ignore[attr-defined]
    last = sign_in(app_client, "viewer-user", "wrong password")
    assert "暂时锁定" in last.text  # type: ignore[attr-defined]
    locked = sign_in(app_client, "viewer-user")  # the right password, too late
    assert locked.status_code == 401 and "暂时锁定" in locked.text  # type: ignore[attr-defined]
    failed = [a for a in accounts.audit_log(store) if a["action"] == "login_failed"]
    assert len(failed) == LOCK_AFTER + 1
    accounts.set_password(store, "viewer-user", PASSWORD)  # an admin resets it
    assert sign_in(app_client, "viewer-user").status_code == 303  # type: ignore[attr-defined]


def test_cookies_are_httponly_strict_and_secure_behind_tls(app_client: TestClient) -> None:
    answer = sign_in(app_client, "viewer-user")
    header = answer.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "HttpOnly" in header and "SameSite=strict" in header and "Secure" in header


def test_disabling_an_account_ends_its_sessions(
    app_client: TestClient, store: CentralStore
) -> None:
    sign_in(app_client, "operator-user")
    assert app_client.get("/console/fleet").status_code == 200
    accounts.set_disabled(store, "operator-user", True)
    assert app_client.get("/console/fleet", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_no_session(app_client: TestClient) -> None:
    app_client.cookies.set("kiosk_console", "abc.def", domain="platform.test", path="/console")
    assert app_client.get("/console/fleet", follow_redirects=False).status_code == 303


def test_the_next_page_stays_on_the_console(app_client: TestClient) -> None:
    page = app_client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    for target, expected in (("https://evil.example/", "/console/fleet"),
                             ("//evil.example/", "/console/fleet"),
                             ("/console/kpi?by=day", "/console/kpi?by=day")):  # fmt: skip
        app_client.cookies.clear()
        page = app_client.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        answer = app_client.post(
            "/console/login",
            data={"csrf": token, "name": "viewer-user", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == expected


def test_pages_say_no_script_and_nothing_from_elsewhere(app_client: TestClient) -> None:
    sign_in(app_client, "admin-user")
    for path in ("/console/fleet", "/console/kpi", "/console/kiosks/kiosk-a", "/console/users"):
        answer = app_client.get(path)
        assert answer.status_code == 200
        assert "<script" not in answer.text and "http://" not in answer.text.replace(
            'xmlns="http://www.w3.org/2000/svg"', ""
        )
        assert "default-src 'none'" in answer.headers["content-security-policy"]


def test_an_operator_publishes_a_bundle_signed_offline(
    app_client: TestClient, store: CentralStore
) -> None:
    """The upload keeps the bundle's bytes exactly as signed, refuses what is not a signed
    bundle with a line the operator can act on, and audits who published what."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from central.rollout import Rollouts
    from contracts.canonical import canonical
    from contracts.signing import sign

    signed = {"version": 4, "payload": {"schema_version": 2}}
    raw = canonical({"signed": signed, "signatures": [sign(signed, Ed25519PrivateKey.generate())]})
    unsigned = canonical({"signed": signed, "signatures": []})
    sign_in(app_client, "operator-user")
    token = csrf_of(app_client)

    def upload(body: bytes | None, group: str = "east", percent: str = "10") -> object:
        files = {"bundle": ("v4.json", body, "application/json")} if body is not None else None
        return app_client.post(
            "/console/rollouts/publish", data={"csrf": token, "group": group, "percent": percent},
            files=files, follow_redirects=False,
        )  # fmt: skip

    for body, group, percent, said in (
        (None, "east", "10", "请选择已签名的配置文件"),
        (b"{not json", "east", "10", "not a bundle"),
        (unsigned, "east", "10", "no signature"),
        (raw, "nowhere", "10", "请选择一个已有终端的分组"),
        (raw, "east", "ten", "percent must be between 1 and 100"),
        (raw, "east", "0", "percent must be between 1 and 100"),
    ):
        refused = upload(body, group, percent)
        assert refused.status_code == 400, (said, refused.status_code)  # type: ignore[attr-defined]
        assert said in refused.text, refused.text  # type: ignore[attr-defined]
    assert Rollouts(store).bundles() == []

    done = upload(raw)
    assert done.status_code == 303  # type: ignore[attr-defined]
    (bundle,) = Rollouts(store).bundles()
    assert (bundle["group"], bundle["version"], bundle["percent"]) == ("east", 4, 10)
    Rollouts(store).advance("east", 4, 100)  # everyone in the group now
    offer = Rollouts(store).offer_for("kiosk-a")
    assert offer is not None and offer.raw == raw  # byte for byte, as signed
    actions = [(a["user_name"], a["action"], a["target"]) for a in accounts.audit_log(store)]
    assert ("operator-user", "rollout_publish", "east") in actions
    # A viewer cannot publish.
    app_client.cookies.clear()
    sign_in(app_client, "viewer-user")
    token = csrf_of(app_client)
    assert upload(raw).status_code == 403  # type: ignore[attr-defined]


def test_the_fleet_pages_a_large_fleet_and_finds_a_terminal(
    app_client: TestClient, store: CentralStore
) -> None:
    for n in range(249):
        store.add_kiosk(f"kiosk-{n:03d}", "west" if n % 2 else "east")
    sign_in(app_client, "viewer-user")

    def rows(url: str) -> list[str]:
        page = app_client.get(url)
        assert page.status_code == 200
        return re.findall(r'<td><a href="/console/kiosks/([^"]+)"', page.text)

    first, third = rows("/console/fleet"), rows("/console/fleet?page=3")
    assert len(first) == 100 and len(third) == 50 and not set(first) & set(third)
    everyone = set(first) | set(rows("/console/fleet?page=2")) | set(third)
    assert len(everyone) == 250  # every terminal on exactly one page
    assert rows("/console/fleet?page=99") == third and rows("/console/fleet?page=x") == first
    page = app_client.get("/console/fleet?group=west&page=2").text
    assert "第 2 / 2 页，共 124 台" in page
    assert 'href="/console/fleet?group=west&amp;page=1"' in page
    assert rows("/console/fleet?find=KIOSK-04") == [f"kiosk-{n:03d}" for n in range(40, 50)]


def test_kpis_by_terminal_over_a_fleet_show_the_weakest_first_in_pages(
    app_client: TestClient, store: CentralStore
) -> None:
    for n in range(120):
        kiosk_id = f"kiosk-{n:03d}"
        store.add_kiosk(kiosk_id, "east")
        visit = {"record": "visit_metrics", "visit_id": f"{n:032x}", "service": "feedback",
                 "steps": [], "seconds": 20.0, "completed": n % 3 != 0, "ended": "finished",
                 "ended_at": "goodbye", "faults": [], "elder": False,
                 "language": "zh_CN"}  # fmt: skip
        store.ingest(kiosk_id, [BatchItem.model_validate({
            "uuid": f"0190a000-0000-7000-8000-{n + 100:012d}", "seq": 1,
            "service": "visit_metrics",
            "payload": visit, "created_at": "2026-11-03T10:00:00+08:00"})])  # fmt: skip
    kpi.catch_up(store, now=datetime.now(UTC) + timedelta(minutes=1))
    sign_in(app_client, "viewer-user")
    url = "/console/kpi?since=2026-11-01&until=2026-11-30&by=kiosk"

    def keys(page: str) -> list[str]:
        return re.findall(r'<tr data-key="(kiosk-\d+)">', page)

    first, second = app_client.get(url).text, app_client.get(url + "&page=2").text
    assert len(keys(first)) == 100 and len(keys(second)) == 20
    not_done = [f"kiosk-{n:03d}" for n in range(0, 120, 3)]  # 40 terminals at 0%
    assert keys(first)[:40] == not_done  # the weakest first
    assert set(keys(first)) | set(keys(second)) == {f"kiosk-{n:03d}" for n in range(120)}
    chart = first.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<title>") == 2 * 30  # the chart: the 30 weakest, two bars each
    assert "第 1 / 2 页，共 121 行" in first  # and kiosk-a, rated without a visit: last
    assert (
        'href="/console/kpi?since=2026-11-01&amp;until=2026-11-30&amp;by=kiosk&amp;page=2"' in first
    )


def test_guesses_sent_side_by_side_each_count_towards_the_lockout(store: CentralStore) -> None:
    """Sign-in runs in the thread pool of every worker: twelve wrong passwords at once must lock
    the account as twelve in a row do, and the right one after them must not get through."""
    from concurrent.futures import ThreadPoolExecutor

    accounts.add_user(store, "target", "admin", PASSWORD)
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda n: accounts.check_login(store, "target", f"guess {n}")[0],
                                range(12)))  # fmt: skip
    assert results.count("locked") >= 1, results
    assert accounts.check_login(store, "target", PASSWORD) == ("locked", None)
