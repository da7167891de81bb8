"""``audiences follow``: plain lines when not a terminal, a display updated in place in one.

GIVEN the example app deployed into moto with its scripted Clean Rooms ML and Bedrock (as in
``test_runs``) and real runs of the synthesized workflow: one that succeeded (its export and
its Bedrock step's batch run), one whose generation job failed, and one whose generation job is
held in progress (its tracking execution waits for its next poll);
WHEN ``follow`` runs with its output captured (not a terminal), or in a real terminal (a
``tmux`` pane, read back with ``capture-pane``);
THEN it shows each step, its job and status, elapsed time and the next poll, ends with the
outcome and exits 0 on success, 1 otherwise.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.cli.main import build_parser
from constructs_lib.cli.main import run as cli
from constructs_lib.cli.render import Output, PlainDisplay, RichDisplay
from constructs_lib.cli.run_commands import cmd_follow
from tests.cli.test_runs import (
    FAILED_MESSAGE,
    STACK,
    World,
    bedrock_jobs_end,
    deployed,
    example_template,
)
from tests.conftest import ROOT
from tests.runbook_support import Fate

HELD = "week-49-held"


def _held_run(world: World) -> str:
    """Start a run whose generation job stays in progress; return once its tracking execution
    waits for its next poll."""
    world.scripted.fates[HELD] = Fate(hold=True)
    arn = world.start(HELD, {"name": HELD, "seedAudience": world.seed("seeds/held.jsonl")})
    deadline = time.monotonic() + 30
    sfn = world.clients.sfn
    while True:
        assert time.monotonic() < deadline, "the held run's tracker never waited"
        tracking = [
            e
            for e in sfn.list_executions(stateMachineArn=world.tracker, statusFilter="RUNNING")[
                "executions"
            ]
        ]
        for execution in tracking:
            last = sfn.get_execution_history(
                executionArn=execution["executionArn"], reverseOrder=True, maxResults=1
            )["events"]
            if last and last[0]["type"] == "WaitStateEntered":
                return arn
        time.sleep(0.05)


def _stop(world: World, arn: str) -> None:
    world.clients.sfn.stop_execution(executionArn=arn, cause="stopped by the test")
    world.wait(arn)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """GIVEN the deployed example app, a succeeded run and a failed one."""
    template = example_template(str(tmp_path_factory.mktemp("cli-app")))
    with deployed(template) as world:
        seed = world.seed("seeds/2026-49/weekly.jsonl")
        world.scripted.fates["week-49-small"] = Fate(status="CREATE_FAILED", message=FAILED_MESSAGE)
        world.wait(
            world.start("week-49", {"name": "week-49", "seedAudience": seed}),
            world.start("week-49-small", {"name": "week-49-small", "seedAudience": seed}),
        )
        yield world


def _follow(world: World, run: str, stream: io.StringIO, **kwargs: Any) -> int:
    args = build_parser().parse_args(["follow", run, "--stack", STACK, "--interval", "5"])
    return cmd_follow(args, world.clients, Output(stream=stream), **kwargs)  # type: ignore[arg-type]


def test_follow_of_a_succeeded_run_prints_its_steps_and_exits_0(world: World) -> None:
    # WHEN a succeeded run is followed, its output captured
    stream = io.StringIO()
    code = _follow(world, "week-49", stream)
    lines = stream.getvalue().splitlines()
    # THEN each step ended with its job's final status and elapsed time, then the outcome
    assert code == 0
    assert lines[0].startswith("run week-49 (manual) started ")
    steps = [line.strip().split(" | ") for line in lines[1:-1]]
    assert [s[0] for s in steps] == [
        "input check: SUCCEEDED",
        "generation: SUCCEEDED",
        "export week-49-absolute-10000: SUCCEEDED",
        "Bedrock: SUCCEEDED",
    ]
    assert [s[1:3] for s in steps[1:3]] == [
        [steps[1][1], "job status ACTIVE"],
        [steps[1][1], "job status ACTIVE"],
    ]
    # (the Bedrock step's job: the run of the batch inference workflow it started)
    assert steps[3][1].startswith(f"job {world.batch.replace(':stateMachine:', ':execution:')}:")
    assert steps[3][2] == "job status SUCCEEDED"
    assert all(s[-1].startswith("elapsed ") for s in steps)
    assert lines[-1].startswith("outcome: SUCCEEDED after ")


def test_follow_of_a_failed_run_ends_with_its_outcome_and_exits_1(world: World) -> None:
    # WHEN a run whose generation job failed is followed (through the command line)
    stream = io.StringIO()
    code = cli(
        ["follow", "week-49-small", "--stack", STACK],
        clients=world.clients,  # type: ignore[arg-type]
        out=Output(stream=stream),
    )
    lines = stream.getvalue().splitlines()
    # THEN the generation step failed and the outcome carries the service's message
    assert code == 1
    assert lines[2].startswith("  generation: FAILED | job arn:aws:cleanrooms-ml:")
    assert "job status CREATE_FAILED" in lines[2]
    assert lines[-1].startswith("outcome: FAILED in step generation after ")
    assert lines[-1].endswith(f": {FAILED_MESSAGE}")


def test_follow_with_json_prints_the_ended_run_once(world: World) -> None:
    # WHEN a run is followed with --json
    stream = io.StringIO()
    code = cli(
        ["follow", "week-49", "--stack", STACK, "--json"],
        clients=world.clients,  # type: ignore[arg-type]
        out=Output(json=True, stream=stream),
    )
    # THEN one JSON document: the ended run
    assert code == 0
    assert json.loads(stream.getvalue())["outcome"] == "SUCCEEDED"


def test_follow_prints_plain_lines_as_a_running_run_changes(world: World) -> None:
    # GIVEN a run whose generation job is in progress, its tracker waiting for its next poll
    arn = _held_run(world)
    stream = io.StringIO()
    seen: list[str] = []

    def sleep(seconds: float) -> None:
        # WHEN follow waits between two reads, the run is stopped
        seen.append(stream.getvalue())
        assert seconds == 5
        _stop(world, arn)

    # WHEN it is followed with its output captured
    code = _follow(world, HELD, stream, sleep=sleep)
    printed = stream.getvalue()
    lines = printed.splitlines()
    # THEN the first read showed the generation running (its job, status, elapsed time, next
    # poll) and the plan's export and Bedrock steps still to come
    [first] = seen
    steps = [line.strip().split(" | ") for line in first.splitlines()[1:]]
    export = f"{HELD}-absolute-10000"
    assert [s[0] for s in steps] == [
        "input check: SUCCEEDED",
        "generation: RUNNING",
        f"export {export}: PENDING",
        "Bedrock: PENDING",
    ]
    running = steps[1]
    assert running[1].startswith("job arn:aws:cleanrooms-ml:")
    assert running[2] == "job status CREATE_IN_PROGRESS"
    assert running[3].startswith("elapsed ")
    assert running[4].startswith("next poll ")
    assert running[4].endswith(" UTC")
    # AND later lines were only what changed: the steps' ends and the outcome, exit code 1
    assert printed.startswith(first)
    added = [line.strip().split(" | ")[0] for line in printed[len(first) :].splitlines()]
    assert added[:3] == ["generation: ABORTED", f"export {export}: NOT_RUN", "Bedrock: NOT_RUN"]
    assert added[3].startswith("outcome: ABORTED in step generation after ")
    assert len(added) == 4
    assert len(lines) == len(set(lines))
    assert code == 1


def test_show_of_a_run_in_its_bedrock_step_shows_its_batch_run_running(world: World) -> None:
    # GIVEN a run whose batch run's Bedrock job stays in progress (its tracker waits for its
    # next poll)
    name = "week-49-bedrock-held"
    with bedrock_jobs_end(world, "InProgress"):
        arn = world.start(name, {"name": name, "seedAudience": world.seed("seeds/bedrock.jsonl")})
        deadline = time.monotonic() + 120
        try:
            while True:
                assert time.monotonic() < deadline, "the run never reached its Bedrock step"
                # WHEN it is shown (as JSON, and as follow's lines)
                batch = _batch_step(world, name)
                if batch.get("jobStatus") == "RUNNING" and _a_tracker_waits(world):
                    break
                time.sleep(0.1)
            _, text = world.cli("show", name)
        finally:
            _stop_all(world, arn)
    # THEN the Bedrock step runs: its job is the batch workflow's run, which is RUNNING
    sfn = world.clients.sfn
    [started] = [
        r["executionArn"]
        for r in sfn.list_executions(stateMachineArn=world.batch)["executions"]
        if json.loads(sfn.describe_execution(executionArn=r["executionArn"])["input"])[
            "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
        ]
        == arn
    ]
    assert (batch["status"], batch["jobArn"], batch["trackingExecutionArn"]) == (
        "RUNNING",
        started,
        started,
    )
    # AND its line says so
    [line] = [x.strip() for x in text.splitlines() if x.strip().startswith("Bedrock")]
    assert line.split(" | ")[:3] == ["Bedrock: RUNNING", f"job {started}", "job status RUNNING"]


def _a_tracker_waits(world: World) -> bool:
    """Whether a tracking execution waits for its next poll (here: the held Bedrock job's, once
    the batch run started it; every execution then settled, so each can be stopped)."""
    sfn = world.clients.sfn
    for execution in sfn.list_executions(stateMachineArn=world.tracker, statusFilter="RUNNING")[
        "executions"
    ]:
        last = sfn.get_execution_history(
            executionArn=execution["executionArn"], reverseOrder=True, maxResults=1
        )["events"]
        if last and last[0]["type"] == "WaitStateEntered":
            return True
    return False


def _batch_step(world: World, name: str) -> dict[str, Any]:
    """The run's Bedrock step as ``show --json`` gives it (empty before the plan is known)."""
    code, printed = world.cli("show", name, "--json")
    assert code == 0
    steps = {s["step"]: s for s in json.loads(printed)["steps"]}
    return dict(steps.get("batch") or {})


def _stop_all(world: World, arn: str) -> None:
    """Stop the run's batch run (the run then ends ABORTED), then the trackers of its Bedrock
    jobs, waiting for their next poll (so no tracker of this test waits when another test
    looks for the held run's)."""
    sfn = world.clients.sfn
    for machine in (world.batch, world.tracker):
        for execution in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")[
            "executions"
        ]:
            _stop(world, execution["executionArn"])
        if machine == world.batch:
            world.wait(arn)


# ---- which display ------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "no_color", "rich", "expected"),
    [
        (io.StringIO(), None, True, PlainDisplay),  # not a terminal
        (_Terminal(), "1", True, PlainDisplay),  # NO_COLOR set
        (_Terminal(), None, False, PlainDisplay),  # rich not installed
        (_Terminal(), None, True, RichDisplay),
    ],
)
def test_the_live_display_needs_rich_a_terminal_and_no_no_color(
    monkeypatch: pytest.MonkeyPatch,
    stream: io.StringIO,
    no_color: str | None,
    rich: bool,
    expected: type,
) -> None:
    # GIVEN a stream, NO_COLOR and rich importable or not
    if rich:
        pytest.importorskip("rich", reason="the in-place display needs the optional rich")
    else:
        monkeypatch.setattr(
            importlib.util, "find_spec", lambda name, *a: None if name == "rich" else True
        )
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    # WHEN a live display is opened and shown a line
    with Output(stream=stream).live() as display:
        display.update(["run x: RUNNING"])
    # THEN it is the display expected, and the line was written
    assert isinstance(display, expected)
    assert "run x: RUNNING" in stream.getvalue()


def test_plain_display_prints_a_line_again_only_when_more_than_time_changed() -> None:
    # GIVEN a plain display (not a terminal)
    stream = io.StringIO()
    with Output(stream=stream).live() as display:
        # WHEN it is updated with lines whose only change is a duration, then a status
        display.update(["a: RUNNING | elapsed 1s", "b: PENDING"])
        display.update(["a: RUNNING | elapsed 1m05s", "b: PENDING"])
        display.update(["a: SUCCEEDED | elapsed 2m00s", "b: PENDING"])
    # THEN each state of each line was printed once
    assert stream.getvalue().splitlines() == [
        "a: RUNNING | elapsed 1s",
        "b: PENDING",
        "a: SUCCEEDED | elapsed 2m00s",
    ]


# ---- in a real terminal ------------------------------------------------------------------------


def terminal_main(template_file: str) -> None:
    """What the terminal test runs in its tmux pane: the deployment, a held run, and
    ``audiences follow`` writing to the terminal; the run is stopped after some redraws."""
    template = json.loads(Path(template_file).read_text())
    logging.disable(logging.CRITICAL)  # moto's interpreter logs to stderr, the same pane
    with deployed(template) as world:
        arn = _held_run(world)
        # stopped after 10 s: time for several redraws even on a loaded machine
        timer = threading.Timer(10.0, _stop, (world, arn))
        timer.start()
        code = cli(["follow", arn, "--interval", "1"], clients=world.clients)  # type: ignore[arg-type]
        timer.join()
        print(f"EXIT={code}", flush=True)
        time.sleep(60)  # the pane stays as it is until the test has read it


def _pane(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_follow_updates_in_place_in_a_terminal(world: World, tmp_path: Path) -> None:
    # GIVEN rich importable and a real terminal (a tmux pane, NO_COLOR unset)
    pytest.importorskip("rich", reason="the in-place display needs the optional rich")
    template_file = tmp_path / "template.json"
    template_file.write_text(json.dumps(world.deployment.template))
    session = f"audiences-{uuid.uuid4().hex[:8]}"
    program = (
        "import tests.conftest; from tests.cli.test_follow import terminal_main; "
        f"terminal_main({str(template_file)!r})"
    )
    command = shlex.join(
        ["env", "-u", "NO_COLOR", "-u", "COLUMNS", "-u", "LINES", sys.executable, "-c", program]
    )
    environment = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    environment.pop("NO_COLOR", None)
    for size in ("COLUMNS", "LINES"):  # pytest workers may set them; the pane's size must rule
        environment.pop(size, None)
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "200",
            "-y",
            "30",
            "-c",
            str(ROOT),
            command,
        ],
        check=True,
        env=environment,
    )
    try:
        # WHEN follow runs in it until the run is stopped
        snapshots: list[str] = []
        deadline = time.monotonic() + 60
        while "EXIT=" not in (snapshots[-1] if snapshots else ""):
            assert time.monotonic() < deadline, f"no end in the pane:\n{_pane(session)}"
            snapshots.append(_pane(session))
            time.sleep(0.2)
    finally:
        final = _pane(session)
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    # THEN while the run ran, the pane showed the generation running with its next poll
    running = [
        s for s in snapshots if "generation: RUNNING" in s and "next poll" in s and "EXIT" not in s
    ]
    assert running, final
    # AND the block was redrawn in place: one header and one generation line, then the outcome
    lines = [line for line in final.splitlines() if line.strip()]
    assert sum(line.startswith(f"run {HELD} ") for line in lines) == 1, final
    assert sum(line.startswith("  generation: ") for line in lines) == 1, final
    assert any(line.startswith("  generation: ABORTED") for line in lines), final
    assert any(line.startswith("outcome: ABORTED in step generation") for line in lines), final
    assert "EXIT=1" in lines
    # AND the elapsed time ticked between redraws of the same block
    # (a capture may catch a line half redrawn: only whole lines count)
    elapsed = {
        line.split(" | elapsed ")[1].split(" |")[0]
        for s in running
        for line in s.splitlines()
        if line.startswith("  generation: RUNNING") and " | elapsed " in line
    }
    assert len(elapsed) > 1, running
