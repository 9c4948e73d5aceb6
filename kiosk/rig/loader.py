"""Scenario files in, checked scenarios out: every mistake is one line naming the file and line.

YAML is parsed twice, once to nodes (their marks give the lines) and once to data; a pydantic
error's location is walked down the node tree to the line of the value it is about.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from kiosk.errors import KioskError
from kiosk.rig import scenario as sc

# A control given as an identifier is an object name, checked against the window's; anything
# else (Chinese text, spaces) is an accessible name, found on screen when the step runs.
ControlCheck = Callable[[str], str | None]  # name -> None when known, else the error


class ScenarioError(KioskError):
    """A scenario file that cannot be played: ``file:line: what is wrong``."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = Path(path), line, message


@dataclass(frozen=True)
class StepAt:
    kind: str
    args: BaseModel  # the step's model (sc.Touch, ...)
    line: int

    @property
    def value(self) -> Any:
        return getattr(self.args, self.kind)

    def describe(self) -> str:
        value = self.value
        if isinstance(value, BaseModel):
            shown = value.model_dump(exclude_defaults=True, mode="json")
            text = ", ".join(f"{k}={v}" for k, v in shown.items())
        else:
            text = "" if value is None else str(value)
        return f"{self.kind} {text}".strip()


@dataclass(frozen=True)
class LoadedScenario:
    path: Path
    scenario: sc.Scenario
    steps: tuple[StepAt, ...]
    line: int  # where the scenario begins

    @property
    def name(self) -> str:
        return self.scenario.name


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _child(node: yaml.Node, key: object) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                return v
    elif (
        isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value)
    ):
        child: yaml.Node = node.value[key]
        return child
    return None


def line_at(node: yaml.Node, location: Sequence[object]) -> int:
    """The line of the deepest node *location* reaches (pydantic locations include union
    branch names, which match no key and are skipped)."""
    line = _line(node)
    for key in location:
        child = _child(node, key)
        if child is None:
            continue
        node, line = child, _line(child)
    return line


def _first_error(exc: ValidationError) -> tuple[tuple[object, ...], str]:
    """The most useful of pydantic's errors: for unions, the branch that got furthest."""
    errors = exc.errors()
    best = max(errors, key=lambda e: len(e["loc"]))
    msg = best["msg"]
    where = ".".join(str(p) for p in best["loc"] if not _is_branch(p))
    if best["type"] == "extra_forbidden":
        msg = f"unknown field {str(best['loc'][-1])!r}"
    elif where:
        msg = f"{where}: {msg}"
    return best["loc"], msg


def _is_branch(part: object) -> bool:
    text = str(part)
    return text[:1].isupper() or text in ("str", "float", "int", "none") or "[" in text


def load(path: Path, *, control_check: ControlCheck | None = None) -> LoadedScenario:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ScenarioError(path, 0, f"cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, 1, f"not UTF-8 text ({exc.reason})") from exc
    return parse(text, path, control_check=control_check)


def parse(text: str, path: Path, *, control_check: ControlCheck | None = None) -> LoadedScenario:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        if exc.context_mark is not None and "<stream end>" in problem:
            # An unclosed bracket or quote: where it was opened, not the end of the file.
            mark = exc.context_mark
            problem += f" ({exc.context} opened here)"
        line = mark.line + 1 if mark is not None else 1
        raise ScenarioError(path, line, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, 1, f"YAML error: {exc}") from None
    if root is None or not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise ScenarioError(path, 1, "a scenario is a mapping with name, steps, ...")
    known_top = set(sc.Scenario.model_fields)
    for key_node, _value in root.value:
        if key_node.value not in known_top:
            raise ScenarioError(
                path,
                _line(key_node),
                f"unknown key {key_node.value!r}{_hint(key_node.value, known_top)}",
            )
    steps_node = _child(root, "steps")
    raw_steps = data.get("steps")
    if steps_node is None or not isinstance(raw_steps, list) or not raw_steps:
        where = _line(steps_node) if steps_node is not None else _line(root)
        raise ScenarioError(path, where, "steps: a list of at least one step is required")
    checked: list[StepAt] = []
    for index, raw in enumerate(raw_steps):
        node = steps_node.value[index]
        checked.append(_step(path, node, raw, control_check))
    header = {k: v for k, v in data.items() if k != "steps"}
    try:
        scenario = sc.Scenario.model_validate({**header, "steps": [s.args for s in checked]})
    except ValidationError as exc:
        loc, msg = _first_error(exc)
        raise ScenarioError(path, line_at(root, loc), msg) from None
    _check_settings(path, root, scenario)
    return LoadedScenario(path, scenario, tuple(checked), _line(root))


def _hint(word: str, known: set[str] | frozenset[str]) -> str:
    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(sorted(known))}"


def _step(path: Path, node: yaml.Node, raw: object, control_check: ControlCheck | None) -> StepAt:
    line = _line(node)
    if isinstance(raw, str) and raw in sc.STEP_MODELS:  # a step without arguments: `- remove_card`
        raw = {raw: None}
    elif not isinstance(node, yaml.MappingNode):
        raw = None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ScenarioError(path, line, "a step is a mapping with one key, the step's kind")
    kind = str(next(iter(raw)))
    model = sc.STEP_MODELS.get(kind)
    if model is None:
        raise ScenarioError(path, line, f"unknown step {kind!r}{_hint(kind, set(sc.STEP_MODELS))}")
    try:
        args = model.model_validate(raw)
    except ValidationError as exc:
        loc, msg = _first_error(exc)
        msg = msg if msg.startswith(f"{kind}:") else f"{kind}: {msg}"
        raise ScenarioError(path, line_at(node, loc), msg) from None
    at = StepAt(kind, args, line)
    problem = _meaning(at, control_check, path)
    if problem is not None:
        where, message = problem
        raise ScenarioError(path, line_at(node, where), f"{kind}: {message}")
    return at


def _meaning(
    step: StepAt, control_check: ControlCheck | None, path: Path
) -> tuple[list[object], str] | None:
    """What the models cannot say: names that must exist, arguments that go together."""
    value, kind = step.value, step.kind
    if kind in ("touch", "expect_control"):
        control = value if isinstance(value, str) else value.control
        if control_check is not None:
            problem = control_check(control)
            if problem is not None:
                return ([kind] if isinstance(value, str) else [kind, "control"]), problem
    elif kind in ("inject", "clear"):
        known = sc.SIMULATOR_FAULTS[value.device]
        if value.fault not in known:
            return [kind, "fault"], (
                f"the {value.device} has no fault {value.fault!r}; its faults: "
                f"{', '.join(sorted(known))}"
            )
    elif kind in ("unplug", "replug"):
        if "unplugged" not in sc.SIMULATOR_FAULTS[value]:
            return [kind], f"the {value} cannot be unplugged in the simulator"
    elif kind == "present_card":
        from drivers.sim_cards import SAMPLE_CARDS

        resident = value if isinstance(value, str) else value.resident
        names = {c.name for c in SAMPLE_CARDS}
        if isinstance(value, sc.CardArgs) and (value.resident is None) == (value.record is None):
            return [kind], "give either resident (a sample's name) or record"
        if resident is not None and resident not in names:
            where: list[object] = [kind] if isinstance(value, str) else [kind, "resident"]
            return (
                where,
                f"no sample resident {resident!r}; the samples: {', '.join(sorted(names))}",
            )
    elif kind == "show_qr" and isinstance(value, sc.QrArgs):
        if (value.text is None) == (value.sample is None):
            return [kind], "give either text or sample"
    elif kind == "wait_for" and isinstance(value, sc.WaitArgs):
        if value.state is None and value.text is None:
            return [kind], "give a state, a text, or both"
    elif (
        kind == "ask"
        and isinstance(value, sc.AskArgs)
        and value.until is not None
        and value.until.state is None
        and value.until.text is None
    ):
        return [kind, "until"], "until: give a state, a text, or both"
    elif kind == "take_config":
        from kiosk.rig.signed_config import check_step

        wrong = check_step(value, path)
        if wrong is not None:
            return [kind, *wrong[0]], wrong[1]
    return None


def _check_settings(path: Path, root: yaml.Node, scenario: sc.Scenario) -> None:
    """The scenario's settings must make a valid configuration on their own (over defaults)."""
    if not scenario.settings:
        return
    from kiosk.config.settings import Settings

    try:
        Settings.model_validate(scenario.settings)
    except ValidationError as exc:
        loc, msg = _first_error(exc)
        raise ScenarioError(path, line_at(root, ["settings", *loc]), f"settings: {msg}") from None


def load_all(
    paths: Sequence[Path], *, control_check: ControlCheck | None = None
) -> list[LoadedScenario]:
    """Every file, or the first error (a rig run plays nothing when one file is wrong)."""
    return [load(p, control_check=control_check) for p in paths]
