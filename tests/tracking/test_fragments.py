"""The tracker's pieces stand alone: each fragment builds into a state machine of its own with the
start and end states its docstring names, a fragment runs by itself in moto's interpreter, and the
schedule arithmetic (and the job kinds) import no CDK."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib._internal.fragment import Fragment
from constructs_lib.tracking.fragments.check import StatusCheck
from constructs_lib.tracking.fragments.continue_as_new import ContinueAsNew
from constructs_lib.tracking.fragments.event_path import BedrockEventPath
from constructs_lib.tracking.fragments.export_cursor import ExportCursor
from constructs_lib.tracking.fragments.finish import FinishTracking
from constructs_lib.tracking.fragments.next_poll import NextPoll
from constructs_lib.tracking.fragments.poll import PollByKind
from constructs_lib.tracking.fragments.start import StartTracking
from constructs_lib.tracking.kinds import EVENT_KIND, KINDS
from constructs_lib.tracking.schedule import CONTINUE_AT_EVENTS, EVENTS_CHARGED_PER_POLL
from tests.conftest import ROOT
from tests.sfn_support import definition_of, interpreter

TRACKING = ROOT / "constructs_lib" / "tracking"
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:tracker"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:handler"

#: fragment -> a builder taking (scope, stand-in for what it connects to).
Builder = Callable[[Construct, sfn.IChainable], Fragment]


def _finish(scope: Construct, _: sfn.IChainable) -> Fragment:
    return FinishTracking(
        scope,
        "Finish",
        event_bus=events.EventBus.from_event_bus_name(scope, "Bus", "default"),
        signal_handler=lambda_.Function.from_function_arn(scope, "Handler", FUNCTION_ARN),
    )


BUILDERS: dict[str, tuple[Builder, str, list[str]]] = {
    # name: (builder, start state, end states)
    "finish": (_finish, "PublishOutcome", []),
    "continue as new": (
        lambda s, other: ContinueAsNew(s, "F", state_machine_arn=MACHINE_ARN, finish=other),
        "ContinueAsNew",
        ["ContinuedJobSucceeded"],
    ),
    "next poll": (
        lambda s, other: NextPoll(s, "F", finish=other, continue_as_new=other),
        "HistoryRoomLeft",
        ["WaitBeforeNextPoll"],
    ),
    "poll by kind": (
        lambda s, other: PollByKind(s, "F", in_progress=other, finish=other),
        "RouteByKind",
        [],
    ),
    "export cursor": (
        lambda s, other: ExportCursor(s, "F", in_progress=other, finish=other),
        "ListAUDIENCE_EXPORT_JOB",
        [],
    ),
    "status check": (
        lambda s, other: StatusCheck(s, "F", kind=KINDS[0], in_progress=other, finish=other),
        "CheckAUDIENCE_MODEL",
        [],
    ),
    "bedrock event path": (
        lambda s, other: BedrockEventPath(s, "F", state_machine_name="tracker", finish=other),
        "DescribePoller",
        [],
    ),
    "start": (
        lambda s, other: StartTracking(
            s,
            "F",
            schedule=[1, 2],
            max_polls=3,
            bedrock_schedule=[5],
            bedrock_max_polls=2,
            poll=other,
            in_progress=other,
            on_event=other,
        ),
        "Continuing",
        [],
    ),
}


def _definition(build: Callable[[cdk.Stack], sfn.IChainable], tmp_path: Path) -> dict[str, Any]:
    """``build``'s chainable as the only state machine of a fresh stack (no cdk-nag gate: a bare
    machine is what is under test), synthesized and its definition resolved."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Fragment")
    sfn.StateMachine(
        stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(build(stack))
    )
    template = app.synth().get_stack_by_name("Fragment").template
    definition: dict[str, Any] = json.loads(definition_of(template))
    return definition


@pytest.mark.parametrize("name", list(BUILDERS))
def test_each_fragment_builds_alone_with_its_documented_start_and_ends(
    name: str, tmp_path: Path
) -> None:
    builder, start, ends = BUILDERS[name]
    built: list[Fragment] = []

    def build(stack: cdk.Stack) -> sfn.IChainable:
        # GIVEN the fragment alone, connected to one stand-in state
        fragment = builder(stack, sfn.Pass(stack, "StandIn"))
        built.append(fragment)
        # WHEN its end states are chained to a final state
        return fragment.next(sfn.Succeed(stack, "AfterFragment")) if ends else fragment

    definition = _definition(build, tmp_path)
    # THEN it starts where its docstring says, and its end states lead to the chained state
    [fragment] = built
    assert fragment.start_state.state_id == start
    assert [end.state_id for end in fragment.end_states] == ends  # type: ignore[attr-defined]
    assert definition["StartAt"] == start
    for end in ends:
        assert definition["States"][end]["Next"] == "AfterFragment"


def test_next_poll_runs_alone_in_the_interpreter(tmp_path: Path) -> None:
    # GIVEN the NextPoll fragment in a machine of its own: stand-ins for the end of tracking and
    # the continuation, a final state chained on after its wait
    def build(stack: cdk.Stack) -> sfn.IChainable:
        fragment = NextPoll(
            stack,
            "NextPoll",
            finish=sfn.Pass(stack, "Finished"),
            continue_as_new=sfn.Pass(stack, "Continued"),
        )
        return fragment.next(sfn.Pass(stack, "Polled"))

    definition = json.dumps(_definition(build, tmp_path))

    def state(**count: int) -> dict[str, Any]:
        return {
            "poll": {"schedule": [0, 0], "maxPolls": 3, "continueAt": CONTINUE_AT_EVENTS},
            "count": {"attempt": 0, "last": 1, "events": 20, "item": 0, **count},
        }

    with interpreter() as run:
        # WHEN a job with polls left and history room is between two polls
        waited = run(definition, state(), "waited")
        # AND one whose poll budget is spent, AND one near the history limit
        spent = run(definition, state(attempt=3), "spent")
        full = run(definition, state(events=CONTINUE_AT_EVENTS), "full")
    # THEN the first ramps its interval, counts the poll (charged in events) and waits
    assert waited.status == "SUCCEEDED", (waited.error, waited.cause)
    assert waited.entered == [
        "HistoryRoomLeft",
        "PollBudgetLeft",
        "PickInterval",
        "RampInterval",
        "CountPoll",
        "WaitBeforeNextPoll",
        "Polled",
    ]
    assert waited.output["count"]["attempt"] == 1
    assert waited.output["count"]["events"] == 20 + EVENTS_CHARGED_PER_POLL
    # AND the second ends as timed out, never seen, through the given end of tracking
    assert spent.entered[-3:] == ["StatusSeen", "TimedOutUnseen", "Finished"]
    assert spent.output["end"]["outcome"] == "TIMED_OUT"
    # AND the third goes to the given continuation
    assert full.entered == ["HistoryRoomLeft", "Continued"]


def test_fails_if_two_fragments_bring_the_same_state_name(tmp_path: Path) -> None:
    # GIVEN two event-path status checks (same kind, so the same state names) in one machine
    def build(stack: cdk.Stack) -> sfn.IChainable:
        finish = sfn.Pass(stack, "Finished")
        first = StatusCheck(stack, "First", kind=EVENT_KIND, in_progress=None, finish=finish)
        second = StatusCheck(stack, "Second", kind=EVENT_KIND, in_progress=None, finish=finish)
        return (
            sfn.Choice(stack, "Either")
            .when(sfn.Condition.is_present("$.a"), first)
            .otherwise(second)
        )

    # WHEN it is built THEN the duplicate name is refused: state names are construct ids,
    # independent of the fragment holding the state, and must be unique in a definition
    with pytest.raises(Exception, match="CheckEVENT_BEDROCK_BATCH_INFERENCE_JOB"):
        _definition(build, tmp_path)


# ---- pure modules -------------------------------------------------------------------------------


def library_imports(path: Path) -> list[str]:
    """The modules ``path`` imports that are neither the standard library nor relative imports
    of the library's pure ``_internal.contract``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if (node.module, node.level) == ("_internal", 2) and [
                    a.name for a in node.names
                ] == ["contract"]:
                    continue
                names = ["." * node.level + (node.module or "")]
            else:
                names = [node.module or ""]
        else:
            continue
        found += [
            n for n in names if n.split(".")[0] not in sys.stdlib_module_names and n != "__future__"
        ]
    return found


@pytest.mark.parametrize("module", ["schedule.py", "kinds.py"])
def test_schedule_and_kinds_import_only_the_standard_library(module: str) -> None:
    # GIVEN the arithmetic and data modules of the tracker
    # WHEN their imports are read THEN none is outside the standard library (kinds reads the
    # shared names of _internal.contract, itself pure)
    assert library_imports(TRACKING / module) == []


def test_schedule_loads_without_cdk() -> None:
    # GIVEN a fresh interpreter WHEN schedule.py is loaded on its own (not through the package,
    # whose __init__ imports the constructs)
    schedule = TRACKING / "schedule.py"
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('schedule', {str(schedule)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert module.poll_schedule(30, 2.0, 300) == [30, 60, 120, 240, 300]\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aws_cdk', 'constructs', 'jsii', 'constructs_lib')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # THEN it computes, and neither CDK nor jsii nor the library was imported
    assert result.stdout.strip() == "[]"


def test_fails_if_a_pure_module_imports_cdk(tmp_path: Path) -> None:
    # GIVEN modules importing aws_cdk, constructs, or another library module
    for number, line in enumerate(
        (
            "from aws_cdk import aws_stepfunctions as sfn",
            "import constructs",
            "from .._internal import state_machines",
            "from .kinds import KINDS",
        )
    ):
        module = tmp_path / f"m{number}.py"
        module.write_text(f"from __future__ import annotations\nimport math\n{line}\n")
        # WHEN their imports are read THEN the import is reported
        assert library_imports(module), line
