"""The path-coverage gate of the library's state machines (a pytest plugin).

``make test`` runs pytest with ``-p tests.sfn_coverage --sfn-coverage``. Then:

- every interpreter run (``tests/sfn_support.py``) writes the definition and the history of each
  of its executions, nested ones included, to ``.sfn-coverage/``;
- ``tests/checks/test_sfn_configurations.py`` writes the resolved definitions of every configuration
  the library can produce (``tests/sfn_configurations.py``);
- at the end of the session the main process compares them, per family (the job-status tracker,
  the audience-generation workflow), over the union of the states of all configurations:
  states entered, Choice branches taken (each distinct target of a Choice: its rules' and its
  default's), Catch edges taken (each catcher of each state), and, as figures, Retry rules
  exercised and failed Map iterations;
- it prints a table and fails the session when a state, a Choice branch or a Catch edge was
  never taken, unless ``tests/sfn_coverage_waivers.txt`` lists it with a reason.

Transitions are read from the history's ``previousEventId`` links (each state entered points
back through its thread to the state exited before it), so interleaved Map iterations are read
correctly. A state that exits right after a failure event exited through a Catch; the catcher is
the first whose errors match (``States.ALL``, ``States.TaskFailed`` or the name).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
COVERAGE_DIR = ROOT / ".sfn-coverage"
CONFIGURATIONS_FILE = "configurations.json"
WAIVERS_FILE = Path(__file__).resolve().parent / "sfn_coverage_waivers.txt"
ENV = "SFN_COVERAGE_DIR"

_TRACKER = "job-status tracker"
_WORKFLOW = "audience-generation workflow"
_BATCH = "batch inference workflow"


def family_of(definition: dict[str, Any]) -> str | None:
    states = definition.get("States", {})
    if "RouteByKind" in states:
        return _TRACKER
    if "SeedFileNotification" in states:
        return _WORKFLOW
    if "InputNotification" in states:
        return _BATCH
    return None


def all_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state of ``definition``, those inside Map and Parallel states included."""
    for name, state in definition.get("States", {}).items():
        yield name, state
        for inner in (state.get("ItemProcessor"), state.get("Iterator")):
            if inner:
                yield from all_states(inner)
        for branch in state.get("Branches", []):
            yield from all_states(branch)


@dataclass
class Expected:
    """What a family's definitions hold: states, Choice branches, catchers, retriers."""

    states: set[str] = field(default_factory=set)
    choices: set[tuple[str, str]] = field(default_factory=set)  # (choice, target)
    catches: set[tuple[str, str, tuple[str, ...]]] = field(default_factory=set)
    retries: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    catchers: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)
    retriers: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)

    def add(self, definition: dict[str, Any]) -> None:
        for name, state in all_states(definition):
            self.states.add(name)
            if state["Type"] == "Choice":
                targets = [rule["Next"] for rule in state.get("Choices", [])]
                targets += [state["Default"]] if "Default" in state else []
                # A branch is identified by its target (the history shows the state entered
                # next): two branches of one Choice must not share a target.
                if len(set(targets)) != len(targets):
                    raise ValueError(f"Choice {name} has branches with a shared target: {targets}")
                self.choices.update((name, target) for target in targets)
            catchers = [(tuple(c["ErrorEquals"]), c["Next"]) for c in state.get("Catch", [])]
            if catchers:
                self.catchers[name] = catchers
            for errors, target in catchers:
                self.catches.add((name, target, errors))
            retriers = [tuple(r["ErrorEquals"]) for r in state.get("Retry", [])]
            if retriers:
                self.retriers[name] = retriers
            for errors in retriers:
                self.retries.add((name, errors))


def _matches(errors: tuple[str, ...], error: str | None) -> bool:
    """Whether a catcher or retrier of ``errors`` handles ``error`` (States.ALL: all;
    States.TaskFailed: every error but States.Timeout)."""
    if "States.ALL" in errors or error in errors:
        return True
    return "States.TaskFailed" in errors and error is not None and error != "States.Timeout"


@dataclass
class Observed:
    """What executions did: states entered, transitions, catches, retries, failed iterations."""

    states: set[str] = field(default_factory=set)
    transitions: set[tuple[str, str]] = field(default_factory=set)
    catches: set[tuple[str, str, tuple[str, ...]]] = field(default_factory=set)
    retries: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    failed_iterations: int = 0
    executions: int = 0

    def add(self, events: list[list[Any]], expected: Expected) -> None:
        self.executions += 1
        by_id = {e[3]: e for e in events}
        children: dict[int, list[list[Any]]] = {}
        for e in events:
            children.setdefault(e[4], []).append(e)

        def back(event: list[Any], suffix: str) -> list[Any] | None:
            current = by_id.get(event[4])
            while current is not None and not current[0].endswith(suffix):
                current = by_id.get(current[4])
            return current

        for event in events:
            kind, name, error = event[0], event[1], event[2]
            if kind == "MapIterationFailed":
                self.failed_iterations += 1
            if kind.endswith("StateEntered") and name:
                self.states.add(name)
                source_exit = back(event, "StateExited")
                if source_exit is None or not source_exit[1]:
                    continue
                source = source_exit[1]
                self.transitions.add((source, name))
                before = by_id.get(source_exit[4])
                failed = before is not None and before[0].endswith("Failed")
                if failed:
                    for errors, target in expected.catchers.get(source, []):
                        if _matches(errors, before[2]):
                            if target == name:
                                self.catches.add((source, target, errors))
                            break
            if kind.endswith("Failed") and error and kind != "ExecutionFailed":
                after = children.get(event[3], [])
                if after and not any(a[0].endswith("StateExited") for a in after):
                    entered = back(event, "StateEntered")
                    state = entered[1] if entered else None
                    for errors in expected.retriers.get(state or "", []):
                        if _matches(errors, error):
                            self.retries.add((state or "", errors))
                            break


def _canonical(definition: str | dict[str, Any]) -> str:
    value = json.loads(definition) if isinstance(definition, str) else definition
    return json.dumps(value, sort_keys=True)


@dataclass
class Result:
    family: str
    expected: Expected
    observed: Observed
    waived: dict[str, str]
    #: configurations whose definition of this family no test executed
    unexecuted: list[str] = field(default_factory=list)

    def _missing(self) -> dict[str, list[str]]:
        states = sorted(self.expected.states - self.observed.states)
        choices = sorted(
            f"{c} -> {t}" for c, t in self.expected.choices - self.observed.transitions
        )
        catches = sorted(
            f"{s} catch {list(e)} -> {t}"
            for s, t, e in self.expected.catches - self.observed.catches
        )
        return {"state": states, "choice": choices, "catch": catches}

    def gaps(self) -> list[str]:
        """Untaken items not waived, as ``<kind> <item>``, and configurations never run."""
        return [f"configuration never executed: {name}" for name in self.unexecuted] + [
            f"{kind} {item}"
            for kind, items in self._missing().items()
            for item in items
            if f"{kind} {item}" not in self.waived
        ]

    def unused_waivers(self) -> list[str]:
        missing = {f"{kind} {item}" for kind, items in self._missing().items() for item in items}
        return [w for w in self.waived if w not in missing]

    def rows(self) -> list[str]:
        e, o = self.expected, self.observed
        retried = len(e.retries & o.retries)
        return [
            f"{self.family}: {o.executions} executions",
            f"  states entered   {len(e.states & o.states)}/{len(e.states)}",
            f"  Choice branches  {len(e.choices & o.transitions)}/{len(e.choices)}",
            f"  Catch edges      {len(e.catches & o.catches)}/{len(e.catches)}",
            f"  Retry rules      {retried}/{len(e.retries)} exercised (figure, not gated)",
            f"  failed Map iterations {o.failed_iterations}",
            f"  configurations executed: all but {len(self.unexecuted)}",
            f"  waived {len(self.waived)}, not taken and not waived {len(self.gaps())}",
        ]


def read_waivers(path: Path = WAIVERS_FILE) -> dict[str, dict[str, str]]:
    """``<family> | <kind> <item> | <reason>`` lines (``#`` comments), by family."""
    waivers: dict[str, dict[str, str]] = {}
    if not path.exists():
        return waivers
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        family, item, reason = (part.strip() for part in line.split("|", 2))
        if not reason:
            raise ValueError(f"{path}: a waiver needs a reason: {line}")
        waivers.setdefault(family, {})[item] = reason
    return waivers


def compute(directory: Path, waivers: dict[str, dict[str, str]]) -> list[Result]:
    """Coverage per family from what ``directory`` holds."""
    configurations = json.loads((directory / CONFIGURATIONS_FILE).read_text())
    expected: dict[str, Expected] = {}
    for definitions in configurations.values():
        for text in definitions.values():
            definition = json.loads(text)
            family = family_of(definition)
            if family:
                expected.setdefault(family, Expected()).add(definition)
    executions: list[tuple[dict[str, Any], list[list[Any]]]] = []
    for path in sorted(directory.glob("executions-*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            executions.append((json.loads(record["definition"]), record["events"]))
    # Definitions executed by tests count as configurations too (a test may build one more).
    for definition, _ in executions:
        family = family_of(definition)
        if family:
            expected.setdefault(family, Expected()).add(definition)
    executed = {_canonical(definition) for definition, _ in executions}
    unexecuted: dict[str, list[str]] = {}
    for name, definitions in configurations.items():
        for text in definitions.values():
            family = family_of(json.loads(text))
            if family and _canonical(text) not in executed:
                unexecuted.setdefault(family, []).append(name)
    observed = {family: Observed() for family in expected}
    for definition, events in executions:
        family = family_of(definition)
        if family:
            observed[family].add(events, expected[family])
    return [
        Result(
            family,
            expected[family],
            observed[family],
            waivers.get(family, {}),
            unexecuted.get(family, []),
        )
        for family in sorted(expected)
    ]


# ---- the plugin ----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--sfn-coverage",
        action="store_true",
        help="record state-machine executions and fail on untaken states, branches, catches",
    )


def _is_main(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if _is_main(config):
        from tests.gate_report import REPORT_DIR

        shutil.rmtree(REPORT_DIR, ignore_errors=True)
    if not config.getoption("--sfn-coverage"):
        return
    if _is_main(config):
        shutil.rmtree(COVERAGE_DIR, ignore_errors=True)
        COVERAGE_DIR.mkdir()
    os.environ[ENV] = str(COVERAGE_DIR)


_RESULTS: list[Result] = []
_PROBLEMS: list[str] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not (_is_main(config) and config.getoption("--sfn-coverage")):
        return
    if not (COVERAGE_DIR / CONFIGURATIONS_FILE).exists():
        _PROBLEMS.append(
            "no configurations recorded (tests/checks/test_sfn_configurations.py did not run)"
        )
    else:
        _RESULTS.extend(compute(COVERAGE_DIR, read_waivers()))
        for result in _RESULTS:
            _PROBLEMS.extend(f"{result.family}: not taken: {gap}" for gap in result.gaps())
            _PROBLEMS.extend(
                f"{result.family}: waiver for something taken or absent: {w}"
                for w in result.unused_waivers()
            )
    if _PROBLEMS and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _is_main(config):
        return
    from tests.gate_report import sections

    for section, lines in sections():
        terminalreporter.section(section, sep="-")
        for line in lines:
            terminalreporter.line(line)
    if not config.getoption("--sfn-coverage"):
        return
    terminalreporter.section("State-machine path coverage", sep="-")
    for result in _RESULTS:
        for line in result.rows():
            terminalreporter.line(line)
    for problem in _PROBLEMS:
        terminalreporter.line(f"FAILED {problem}", red=True)
    if not _PROBLEMS:
        terminalreporter.line("every state, Choice branch and Catch edge taken or waived")
