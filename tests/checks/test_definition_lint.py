"""Every state-machine definition the library can produce, linted after token resolution.

cfn-lint never reads the definitions in the synthesized templates: ``DefinitionString`` is an
``Fn::Join``. Here each resolved definition (``tests/sfn_configurations.py``, every
configuration) is linted by two independent checkers:

- cfn-lint's own state-machine rules (E3601), on a minimal template that holds the definition
  inline as ``Definition``;
- ``asl-validator`` (npm, pinned in ``package.json``, run with the project's Node): the Amazon
  States Language schema, transition targets, JSONPath syntax, intrinsic functions in payload
  templates (``*.$`` fields) and ``Resource`` ARN formats. It has no warning level: every finding
  is an error.

Each linter runs once per batch (one process for every definition), and a second batch of
deliberately broken definitions shows that each of them fails when it should.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from tests.gate_report import report
from tests.sfn_configurations import WORKFLOW, Configuration, synthesize_all

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
ASL_VALIDATOR_PACKAGE = ROOT / "node_modules" / "asl-validator"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
ROLE_ARN = "arn:aws:iam::123456789012:role/StateMachineRole"
SECTION = "State machine definitions linted"


@dataclass(frozen=True)
class Finding:
    """One finding of one linter on one definition."""

    level: str  # "Error", "Warning" or "Informational" (asl-validator: always "Error")
    rule: str  # cfn-lint's rule id, or asl-validator's error code
    where: str  # cfn-lint: path inside the definition; asl-validator: "" (it is in the message)
    message: str

    def __str__(self) -> str:
        where = f" {self.where}" if self.where else ""
        return f"{self.level} {self.rule}{where}: {self.message}"


# ---- the two linters -----------------------------------------------------------------------


def cfn_lint(definitions: dict[str, dict[str, Any]], workdir: Path) -> dict[str, list[Finding]]:
    """cfn-lint's findings (errors and warnings: its default checks) on each definition, each
    wrapped inline in a minimal template; one cfn-lint process for all of them."""
    workdir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for index, (key, definition) in enumerate(definitions.items()):
        template = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                "StateMachine": {
                    "Type": "AWS::StepFunctions::StateMachine",
                    "Properties": {"Definition": definition, "RoleArn": ROLE_ARN},
                }
            },
        }
        path = workdir / f"template-{index}.json"
        path.write_text(json.dumps(template, indent=1))
        files[str(path)] = key
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", "--", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 a failure
    assert result.returncode & 1 == 0, result.stdout + result.stderr
    found: dict[str, list[Finding]] = {key: [] for key in definitions}
    for match in json.loads(result.stdout):
        path = match["Location"]["Path"]
        # Resources/StateMachine/Properties/Definition/...: keep the part inside the definition
        where = "/".join(str(p) for p in path[4:]) if path[:4][-1:] == ["Definition"] else ""
        found[files[match["Filename"]]].append(
            Finding(match["Level"], match["Rule"]["Id"], where or "/".join(map(str, path)),
                    match["Message"])
        )  # fmt: skip
    return found


_INVALID = re.compile(r'^✕ State machine definition "(?P<path>.+)" is invalid:$', re.MULTILINE)
_VALID = re.compile(r'^✓ State machine definition "(?P<path>.+)" is valid$', re.MULTILINE)
_ERROR = re.compile(r"^(?P<code>[A-Z_]+): (?P<message>.*)$")


def asl_validator_command() -> list[str]:
    """The pinned asl-validator's CLI, run with the project's Node (never the machine's)."""
    package = ASL_VALIDATOR_PACKAGE / "package.json"
    missing = "is not installed: run `make setup` (npm ci from package-lock.json)"
    assert package.is_file(), f"asl-validator {missing}"
    assert NODE.exists(), f"the project's Node {missing}"
    bin_entry = json.loads(package.read_text())["bin"]["asl-validator"]
    return [str(NODE), str(ASL_VALIDATOR_PACKAGE / bin_entry)]


def asl_validate(definitions: dict[str, dict[str, Any]], workdir: Path) -> dict[str, list[Finding]]:
    """asl-validator's findings on each definition; one Node process for all of them.

    The CLI takes one ``--json-path`` per definition (the ``--json-definition`` form does not
    fail the exit code of a batch). It checks paths and ARNs (4.0.0 reads neither
    ``--no-path-check`` nor ``--no-arn-check``), and prints each file as valid on stdout or as
    invalid, with ``CODE: message`` lines, on stderr.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for index, (key, definition) in enumerate(definitions.items()):
        path = workdir / f"definition-{index}.json"
        path.write_text(json.dumps(definition, indent=1))
        files[str(path)] = key
    arguments = [a for path in files for a in ("--json-path", path)]
    result = subprocess.run(
        [*asl_validator_command(), *arguments], capture_output=True, text=True, check=False
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 2: the validator failed
    found: dict[str, list[Finding]] = {key: [] for key in definitions}
    valid = {m["path"] for m in _VALID.finditer(result.stdout)}
    headers = list(_INVALID.finditer(result.stderr))
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else None
        body = result.stderr[header.end() : end]
        errors = []
        for line in body.strip().splitlines():
            parsed = _ERROR.match(line.strip())
            assert parsed, f"unexpected asl-validator output: {line!r}\n{result.stderr}"
            errors.append(Finding("Error", parsed["code"], "", parsed["message"]))
        assert errors, result.stderr
        found[files[header["path"]]].extend(errors)
    # every definition was read, and the exit code agrees with the findings
    assert valid | {h["path"] for h in headers} == set(files), result.stdout + result.stderr
    assert (result.returncode == 1) == bool(headers), result.stdout + result.stderr
    return found


# ---- every configuration, linted -------------------------------------------------------------


@pytest.fixture(scope="module")
def configurations(tmp_path_factory: pytest.TempPathFactory) -> list[Configuration]:
    return synthesize_all(tmp_path_factory.mktemp("configurations"))


@pytest.fixture(scope="module")
def definitions(configurations: list[Configuration]) -> dict[str, dict[str, Any]]:
    """``configuration: family`` -> the resolved definition, parsed."""
    return {
        f"{configuration.name}: {family}": json.loads(definition)
        for configuration in configurations
        for family, definition in configuration.definitions.items()
    }


@dataclass(frozen=True)
class Linted:
    cfn_lint: dict[str, list[Finding]]
    asl_validator: dict[str, list[Finding]]


def _summary(linter: str, found: dict[str, list[Finding]], levels: tuple[str, ...]) -> list[str]:
    counts = Counter(f.level for findings in found.values() for f in findings)
    figures = ", ".join(f"{counts[level]} {level.lower()}s" for level in levels)
    lines = [f"{linter}: {figures}"]
    distinct = Counter(str(f) for findings in found.values() for f in findings)
    lines += [f"  {finding} (in {n} definitions)" for finding, n in sorted(distinct.items())]
    return lines


BROKEN_PREFIX = "broken: "


@pytest.fixture(scope="module")
def batch(
    definitions: dict[str, dict[str, Any]],
    broken_definitions: tuple[dict[str, str], dict[str, dict[str, Any]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Linted:
    """The real and the broken definitions through each linter: one process per linter."""
    _, mutated = broken_definitions
    everything = definitions | {BROKEN_PREFIX + case: d for case, d in mutated.items()}
    assert len(everything) == len(definitions) + len(mutated)
    workdir = tmp_path_factory.mktemp("definition-lint")
    return Linted(
        cfn_lint(everything, workdir / "cfn-lint"),
        asl_validate(everything, workdir / "asl-validator"),
    )


def _select(found: dict[str, list[Finding]], broken: bool) -> dict[str, list[Finding]]:
    if broken:
        return {
            k.removeprefix(BROKEN_PREFIX): v
            for k, v in found.items()
            if k.startswith(BROKEN_PREFIX)
        }
    return {k: v for k, v in found.items() if not k.startswith(BROKEN_PREFIX)}


@pytest.fixture(scope="module")
def linted(
    configurations: list[Configuration], definitions: dict[str, dict[str, Any]], batch: Linted
) -> Linted:
    """The findings on every real definition (and the gate report's figures)."""
    linted = Linted(_select(batch.cfn_lint, False), _select(batch.asl_validator, False))
    cfn_version = metadata.version("cfn-lint")
    asl_version = json.loads((ASL_VALIDATOR_PACKAGE / "package.json").read_text())["version"]
    report(
        SECTION,
        [
            f"{len(configurations)} configurations, {len(definitions)} definitions"
            " (tokens resolved)",
            *_summary(f"cfn-lint {cfn_version} (E3601, inline Definition)", linted.cfn_lint,
                      ("Error", "Warning")),
            *_summary(f"asl-validator {asl_version} (no warning level)", linted.asl_validator,
                      ("Error",)),
        ],
    )  # fmt: skip
    return linted


def test_every_configuration_is_linted(
    configurations: list[Configuration], definitions: dict[str, dict[str, Any]], linted: Linted
) -> None:
    # GIVEN every configuration, each with its tracker and, for the workflow ones, its workflow
    assert configurations
    assert len(definitions) == sum(len(c.definitions) for c in configurations)
    assert any(WORKFLOW in key for key in definitions)
    # THEN both linters read every definition
    assert set(linted.cfn_lint) == set(definitions)
    assert set(linted.asl_validator) == set(definitions)


def test_cfn_lint_finds_no_error_and_no_warning(linted: Linted) -> None:
    # GIVEN each resolved definition inline in a minimal template, through cfn-lint's rules
    findings = [f"{key}: {f}" for key, found in linted.cfn_lint.items() for f in found]
    # THEN nothing is found: no error, no warning
    assert findings == [], "\n".join(findings)


def test_asl_validator_finds_no_error(linted: Linted) -> None:
    # GIVEN each resolved definition through asl-validator (schema, transitions, paths,
    # intrinsic functions, ARNs)
    findings = [f"{key}: {f}" for key, found in linted.asl_validator.items() for f in found]
    # THEN nothing is found
    assert findings == [], "\n".join(findings)


# ---- each linter fails on a broken definition -------------------------------------------------

Mutation = Callable[[dict[str, Any]], str]


def _first(definition: dict[str, Any], test: Callable[[dict[str, Any]], bool]) -> tuple[str, Any]:
    return next((name, s) for name, s in definition["States"].items() if test(s))


def _choice_without_choices(definition: dict[str, Any]) -> str:
    name, state = _first(definition, lambda s: s["Type"] == "Choice")
    del state["Choices"]
    return name


def _choice_with_no_choices(definition: dict[str, Any]) -> str:
    name, state = _first(definition, lambda s: s["Type"] == "Choice")
    state["Choices"] = []
    return name


def _next_to_a_missing_state(definition: dict[str, Any]) -> str:
    _, state = _first(definition, lambda s: s["Type"] != "Choice" and "Next" in s)
    state["Next"] = "NoSuchState"
    return "NoSuchState"


def _start_at_a_missing_state(definition: dict[str, Any]) -> str:
    definition["StartAt"] = "NoSuchState"
    return "NoSuchState"


def _output_path_that_is_not_a_path(definition: dict[str, Any]) -> str:
    name, state = _first(definition, lambda s: s["Type"] == "Task")
    state["OutputPath"] = "Payload"
    return name


def _next_and_end(definition: dict[str, Any]) -> str:
    name, state = _first(definition, lambda s: s["Type"] == "Task" and "Next" in s)
    state["End"] = True
    return name


def _resource_that_is_not_an_arn(definition: dict[str, Any]) -> str:
    name, state = _first(definition, lambda s: s["Type"] == "Task")
    state["Resource"] = "not-an-arn"
    return name


def _intrinsic(definition: dict[str, Any], expression: str) -> str:
    def has_intrinsic(state: dict[str, Any]) -> bool:
        return any(
            k.endswith(".$") and str(v).startswith("States.")
            for k, v in state.get("Parameters", {}).items()
        )

    name, state = _first(definition, has_intrinsic)
    field = next(k for k, v in state["Parameters"].items() if str(v).startswith("States."))
    state["Parameters"][field] = expression
    return name


def _unclosed_intrinsic(definition: dict[str, Any]) -> str:
    return _intrinsic(definition, "States.Format('{}', $.a")


def _unknown_intrinsic(definition: dict[str, Any]) -> str:
    return _intrinsic(definition, "States.Frobnicate($.a)")


def _output_path_on_a_succeed_state(definition: dict[str, Any]) -> str:
    name, state = _first(definition, lambda s: s["Type"] == "Succeed")
    state["OutputPath"] = "$"
    return name


#: case -> (mutation of a real definition; what cfn-lint reports; what asl-validator reports).
#: A mutation returns the state the finding must name; None: that linter does not check it.
BROKEN: dict[str, tuple[Mutation, str | None, str | None]] = {
    "a Choice without Choices": (
        _choice_without_choices, "E3601: 'Choices' is a required property",
        "SCHEMA_VALIDATION_FAILED"),
    "a Choice with an empty Choices list": (
        _choice_with_no_choices, None, "SCHEMA_VALIDATION_FAILED: {state}/Choices is invalid"),
    "a Next to a missing state": (
        _next_to_a_missing_state, None, "MISSING_TRANSITION_TARGET: Missing 'StartAt'|'Next'"),
    "a StartAt naming a missing state": (
        _start_at_a_missing_state, "E3601: Missing 'Next' target 'NoSuchState'",
        "MISSING_TRANSITION_TARGET: Missing 'StartAt'|'Next'"),
    "an OutputPath that is not a path": (
        _output_path_that_is_not_a_path, "E3601: 'Payload' does not match",
        "SCHEMA_VALIDATION_FAILED: {state}/OutputPath is invalid"),
    "a Task with both Next and End": (
        _next_and_end, "E3601: Only one of ['Next', 'End']", "TERMINAL_STATE_WITH_NEXT"),
    "a Task Resource that is not an ARN": (
        _resource_that_is_not_an_arn, "E3601: 'not-an-arn' does not match",
        "SCHEMA_VALIDATION_FAILED: {state}/Resource is invalid"),
    "an unclosed intrinsic function": (
        _unclosed_intrinsic, None, "SCHEMA_VALIDATION_FAILED: {state}/Parameters/"),
    "an unknown intrinsic function": (
        _unknown_intrinsic, None, "SCHEMA_VALIDATION_FAILED: {state}/Parameters/"),
    "an OutputPath on a Succeed state": (
        _output_path_on_a_succeed_state,
        "E3601: Additional properties are not allowed ('OutputPath' was unexpected)", None),
}  # fmt: skip


@pytest.fixture(scope="module")
def broken_definitions(
    definitions: dict[str, dict[str, Any]],
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Each BROKEN case applied to the largest real workflow definition: case -> the state it
    broke, and case -> the broken definition."""
    workflows = [d for key, d in definitions.items() if key.endswith(WORKFLOW)]
    base = max(workflows, key=lambda d: len(json.dumps(d)))
    mutated: dict[str, dict[str, Any]] = {}
    states: dict[str, str] = {}
    for case, (mutate, _, _) in BROKEN.items():
        mutated[case] = copy.deepcopy(base)
        states[case] = mutate(mutated[case])
    return states, mutated


@pytest.fixture(scope="module")
def broken(
    broken_definitions: tuple[dict[str, str], dict[str, dict[str, Any]]], batch: Linted
) -> tuple[dict[str, str], Linted]:
    """case -> the state it broke, and each linter's findings on the broken definitions."""
    states, _ = broken_definitions
    return states, Linted(_select(batch.cfn_lint, True), _select(batch.asl_validator, True))


@pytest.mark.parametrize("case", [c for c, (_, rule, _) in BROKEN.items() if rule])
def test_cfn_lint_fails_on_a_broken_definition(
    case: str, broken: tuple[dict[str, str], Linted]
) -> None:
    # GIVEN a real definition broken in one place
    states, linted = broken
    expected = BROKEN[case][1]
    assert expected
    findings = linted.cfn_lint[case]
    # THEN cfn-lint reports it as an error, at the state it broke
    assert [f for f in findings if f.level == "Error" and expected in f"{f.rule}: {f.message}"], (
        findings
    )
    assert any(states[case] in f"{f.where} {f.message}" for f in findings), findings


@pytest.mark.parametrize("case", [c for c, (_, _, code) in BROKEN.items() if code])
def test_asl_validator_fails_on_a_broken_definition(
    case: str, broken: tuple[dict[str, str], Linted]
) -> None:
    # GIVEN a real definition broken in one place
    states, linted = broken
    expected = BROKEN[case][2]
    assert expected
    expected = expected.format(state=f"/States/{states[case]}")
    findings = linted.asl_validator[case]
    # THEN asl-validator reports it, naming the state it broke
    assert [f for f in findings if expected in f"{f.rule}: {f.message}"], findings
    assert any(states[case] in f.message for f in findings), findings


def test_every_broken_definition_is_caught_by_at_least_one_linter(
    broken: tuple[dict[str, str], Linted],
) -> None:
    _, linted = broken
    missed = [c for c in BROKEN if not linted.cfn_lint[c] and not linted.asl_validator[c]]
    assert missed == []
