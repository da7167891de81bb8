"""The path-coverage gate can fail: a branch no execution takes is reported (and a waiver that
names something taken is reported too)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sfn_coverage import CONFIGURATIONS_FILE, ENV, compute, read_waivers
from tests.sfn_support import interpreter

#: A definition the gate takes for the tracker (its first state is named like the tracker's).
DEFINITION = {
    "StartAt": "RouteByKind",
    "States": {
        "RouteByKind": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.go", "StringEquals": "map", "Next": "Items"}],
            "Default": "Other",
        },
        "Items": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Boom",
                "States": {"Boom": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}},
            },
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Succeed"},
        "Other": {"Type": "Succeed"},
    },
}


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # GIVEN the definition as the only configuration, and one execution taking the Map branch
    monkeypatch.setenv(ENV, str(tmp_path))
    (tmp_path / CONFIGURATIONS_FILE).write_text(json.dumps({"c": {"t": json.dumps(DEFINITION)}}))
    with interpreter() as run:
        result = run(json.dumps(DEFINITION), {"go": "map", "items": [1]})
    assert result.status == "SUCCEEDED"
    return tmp_path


def test_fails_if_a_state_or_branch_is_never_taken(recorded: Path) -> None:
    # WHEN the gate compares them
    [result] = compute(recorded, {})
    # THEN the default branch and its state are reported, the Map's catch edge is taken, and
    # the failed iteration is counted
    assert result.gaps() == ["state Other", "choice RouteByKind -> Other"]
    assert ("Items", "Caught", ("States.ALL",)) in result.observed.catches
    assert result.observed.failed_iterations == 1


def test_a_waiver_with_a_reason_covers_a_gap_and_a_stale_one_is_reported(
    recorded: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    waivers = tmp_path_factory.mktemp("w") / "waivers.txt"
    waivers.write_text(
        "# comment\n"
        "job-status tracker | state Other | unreachable in this example\n"
        "job-status tracker | choice RouteByKind -> Other | unreachable in this example\n"
        "job-status tracker | state Caught | taken, so this waiver is stale\n"
    )
    [result] = compute(recorded, read_waivers(waivers))
    assert result.gaps() == []
    assert result.unused_waivers() == ["state Caught"]


def test_fails_if_a_waiver_has_no_reason(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.txt"
    waivers.write_text("job-status tracker | state Other |   \n")
    with pytest.raises(ValueError, match="needs a reason"):
        read_waivers(waivers)


def test_fails_if_a_catch_is_never_taken_or_a_configuration_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two configurations, and one execution of the first taking the default branch
    other = {**DEFINITION, "Comment": "a second configuration"}
    monkeypatch.setenv(ENV, str(tmp_path))
    (tmp_path / CONFIGURATIONS_FILE).write_text(
        json.dumps({"first": {"t": json.dumps(DEFINITION)}, "second": {"t": json.dumps(other)}})
    )
    with interpreter() as run:
        run(json.dumps(DEFINITION), {"go": "other"})
    [result] = compute(tmp_path, {})
    # THEN the Map's catch edge and the unexecuted configuration are reported
    assert "catch Items catch ['States.ALL'] -> Caught" in result.gaps()
    assert "configuration never executed: second" in result.gaps()


def test_fails_if_two_branches_of_a_choice_share_a_target(tmp_path: Path) -> None:
    shared = json.loads(json.dumps(DEFINITION))
    shared["States"]["RouteByKind"]["Default"] = "Items"
    (tmp_path / CONFIGURATIONS_FILE).write_text(json.dumps({"c": {"t": json.dumps(shared)}}))
    with pytest.raises(ValueError, match="shared target"):
        compute(tmp_path, {})
