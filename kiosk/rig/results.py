"""Results a CI reads: JUnit XML (one test case per scenario, each step's time in its properties,
the application's log in system-out, the failure naming its step and line) and one line per
scenario for a person."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from kiosk.rig.runner import ScenarioResult


def summary_line(result: ScenarioResult) -> str:
    word = "PASS" if result.passed else "FAIL"
    steps = len(result.loaded.steps)
    where = f"{result.loaded.path.name}, {steps} steps, {result.seconds:.1f} s"
    line = f"{word}  {result.loaded.name}  ({where})"
    if not result.passed:
        line += f": {result.failure}"
        if result.artifacts:
            line += f" [artifacts: {result.artifacts[0].parent}]"
    return line


def _xml_text(text: str) -> str:
    """XML 1.0 has no place for most control characters: a log line with one stays readable."""
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else f"\\x{ord(c):02x}" for c in text)


def junit(results: Sequence[ScenarioResult], path: Path, *, suite: str = "kiosk rig") -> None:
    failures = sum(not r.passed for r in results)
    total = sum(r.seconds for r in results)
    suites = ET.Element("testsuites", name=suite, tests=str(len(results)),
                        failures=str(failures), errors="0", time=f"{total:.3f}")  # fmt: skip
    element = ET.SubElement(suites, "testsuite", name=suite, tests=str(len(results)),
                            failures=str(failures), errors="0", skipped="0",
                            time=f"{total:.3f}")  # fmt: skip
    for result in results:
        loaded = result.loaded
        case = ET.SubElement(
            element,
            "testcase",
            classname=f"rig.{loaded.path.stem}",
            name=loaded.name,
            file=str(loaded.path),
            line=str(loaded.line),
            time=f"{result.seconds:.3f}",
        )
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="setup seconds", value=f"{result.setup_seconds:.3f}")
        for n, step in enumerate(result.steps, 1):
            ET.SubElement(
                props,
                "property",
                name=f"step {n:02d} line {step.step.line}: {_xml_text(step.step.describe())}",
                value=f"{step.seconds:.3f}",
            )
        if not result.passed:
            failure = ET.SubElement(case, "failure", message=_xml_text(result.failure or "failed"),
                                    type="ScenarioFailed")  # fmt: skip
            lines = [result.failure or ""]
            lines += [f"artifact: {p}" for p in result.artifacts]
            failure.text = _xml_text("\n".join(lines))
        out = ET.SubElement(case, "system-out")
        out.text = _xml_text(result.log)
    ET.indent(suites)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    ET.ElementTree(suites).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)
