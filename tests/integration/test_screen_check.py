"""A signed configuration is audited on every screen, offscreen in a child process, before the
running terminal takes it: a service name no tile can hold is refused and reported, nothing
changes on the terminal; a configuration that fits goes on."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from contracts.payload import SCHEMA_VERSION
from kiosk.config.screen_check import screen_problems, summary
from tests.unit.test_config_take_up import CATALOGUE, Hook, bundle, data_dir  # noqa: F401

LONG_NAME = "社会保险个人权益记录及历年缴费明细与待遇资格综合查询打印服务"


def with_name(name: str) -> dict[str, Any]:
    catalogue = copy.deepcopy(CATALOGUE)
    catalogue["services"][0]["name"]["zh_CN"] = name
    return {"schema_version": SCHEMA_VERSION, "catalogue": catalogue}


def test_a_name_no_tile_can_hold_is_found_on_the_screens(data_dir: Path) -> None:  # noqa: F811
    problems = screen_problems(bundle(data_dir, 1, with_name(LONG_NAME)))
    assert problems, "the audit found nothing"
    assert all(p.startswith("catalogue") or ".zh_CN:" in p for p in problems), problems
    assert any("text needs" in p for p in problems)
    assert summary(problems).startswith("screens: catalogue")
    assert screen_problems(bundle(data_dir, 2, with_name("社保查询"))) == []


def test_the_running_terminal_refuses_it_before_anything_changes(data_dir: Path) -> None:  # noqa: F811
    from kiosk.config.updater import ConfigUpdater

    hook = Hook()
    up = ConfigUpdater(
        data_dir, "kiosk-7", frozenset({"hepingli"}), take_up=hook,
        trusted=data_dir / "keys" / "config-trust", screen_check=screen_problems,
    )  # fmt: skip
    report = up.offer(bundle(data_dir, 1, with_name(LONG_NAME)))
    assert report["status"] == "rejected" and report["reason"].startswith("screens: ")
    assert len(report["reason"]) <= 500
    assert hook.handed == [] and up.store.state().current is None  # nothing applied
    fine = up.offer(bundle(data_dir, 2, with_name("社保查询")))
    assert fine["status"] == "applied" and len(hook.handed) == 1
