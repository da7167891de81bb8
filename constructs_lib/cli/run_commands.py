"""The commands that read runs: ``runs``, ``show``, ``follow``, ``why``, ``where``, ``training``.

Each handler is ``cmd_x(args, clients, out) -> int`` (the exit code); all are read-only. A run
is named by its execution name or its execution ARN.
"""

from __future__ import annotations

import argparse
import datetime
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import runs
from .render import Output, duration, stamp, table

if TYPE_CHECKING:
    from .aws import Clients

#: Seconds between two reads of a followed run.
FOLLOW_INTERVAL = 10.0

Handler = Callable[[argparse.Namespace, "Clients", Output], int]


def register(subparsers: Any) -> None:
    """Add the run commands to the CLI's subparsers (each sets ``handler``)."""

    def command(name: str, handler: Handler, text: str, *, run: bool = True) -> Any:
        short = text.split(":")[0].rstrip(".")
        parser = subparsers.add_parser(name, help=short[0].lower() + short[1:], description=text)
        if run:
            parser.add_argument("run", metavar="RUN", help="the run's execution name or ARN")
        parser.set_defaults(handler=handler)
        return parser

    listing = command(
        "runs",
        cmd_runs,
        "List the recent runs of the pipeline: name, trigger, start, duration, outcome.",
        run=False,
    )
    listing.add_argument(
        "--limit", type=_positive, default=20, help="how many runs, newest first (default: 20)"
    )
    command("show", cmd_show, "Show a run's detail: its steps, jobs and outcome.")
    follow = command(
        "follow",
        cmd_follow,
        "Follow a run until it ends: each step, its job and status, elapsed time and the "
        "next poll; exit 0 if it succeeded, 1 otherwise.",
    )
    follow.add_argument(
        "--interval",
        type=_seconds,
        default=FOLLOW_INTERVAL,
        help=f"seconds between two reads (default: {FOLLOW_INTERVAL:g})",
    )
    command(
        "why",
        cmd_why,
        "Say why a run failed (or succeeded with warnings): the step, the outcome, the "
        "service's message, the console link.",
    )
    command(
        "where",
        cmd_where,
        "Say where a run's results are: the s3:// locations and the end event it published.",
    )
    command(
        "training",
        cmd_training,
        "Watch the audience model train: its status and how long it has been training.",
        run=False,
    )


def _positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 1000")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 3600 seconds")
    return value


def _pipeline(args: argparse.Namespace, clients: Clients) -> Any:
    from .stack import pipeline_of

    return pipeline_of(args, clients)


def _run(args: argparse.Namespace, clients: Clients, *, deep: bool = True) -> runs.Run:
    if str(args.run).startswith("arn:"):
        arn = str(args.run)
    else:
        arn = runs.execution_arn_of(str(args.run), _pipeline(args, clients).workflow_arn)
    return _read(clients, arn, deep=deep)


def _read(clients: Clients, arn: str, *, deep: bool = True) -> runs.Run:
    from botocore.exceptions import ClientError

    from .aws import CliError

    try:
        return runs.read_run(clients.sfn, arn, deep=deep)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            raise CliError(f"no run {arn}") from None
        raise


# ---- runs ------------------------------------------------------------------------------------


def cmd_runs(args: argparse.Namespace, clients: Clients, out: Output) -> int:
    """``audiences runs``: the recent runs."""
    pipeline = _pipeline(args, clients)
    found = runs.list_runs(clients.sfn, pipeline.workflow_arn, limit=int(args.limit))
    now = runs.utc_now()
    if out.json:
        out.emit([r.as_json(now) for r in found])
        return 0
    if not found:
        out.print(f"no runs of {pipeline.workflow_arn}")
        return 0
    rows = [["NAME", "TRIGGER", "STARTED (UTC)", "DURATION", "OUTCOME"]]
    for r in found:
        spent = ((r.stopped or now) - r.started).total_seconds()
        rows.append([r.name, r.trigger, stamp(r.started), duration(spent), r.outcome or "RUNNING"])
    out.print(table(rows))
    return 0


# ---- show / follow ---------------------------------------------------------------------------


def step_line(step: runs.Step, now: datetime.datetime) -> str:
    """One step as a line: label, status, job, its status, elapsed, next poll."""
    parts = [f"{step.label}: {step.status}"]
    if step.job_arn:
        parts.append(f"job {step.job_arn}")
    if step.job_status:
        parts.append(f"job status {step.job_status}")
    if step.started is not None:
        parts.append(f"elapsed {duration(step.elapsed(now))}")
    if step.next_poll is not None and step.status == runs.RUNNING:
        parts.append(f"next poll {stamp(step.next_poll)} UTC")
    return " | ".join(parts)


def run_lines(run: runs.Run, now: datetime.datetime) -> list[str]:
    """The run as lines: a header, one line per step, and its outcome once it ended."""
    lines = [f"run {run.name} ({run.trigger}) started {stamp(run.started)} UTC"]
    lines += [f"  {step_line(step, now)}" for step in run.steps]
    if run.done:
        lines.append(outcome_line(run, now))
    return lines


def outcome_line(run: runs.Run, now: datetime.datetime) -> str:
    took = duration(run.duration(now))
    if run.handed_over_to:
        return f"outcome: HANDED_OVER after {took}, to {run.handed_over_to}"
    if run.succeeded and run.outcome != runs.SUCCEEDED_WITH_WARNINGS:
        return f"outcome: SUCCEEDED after {took}"
    where = f" in step {run.failed_step}" if run.failed_step else ""
    return f"outcome: {run.outcome or run.status}{where} after {took}: {run.cause or ''}".rstrip(
        ": "
    )


def cmd_show(args: argparse.Namespace, clients: Clients, out: Output) -> int:
    """``audiences show RUN``: the run's detail."""
    run = _run(args, clients)
    now = runs.utc_now()
    if out.json:
        out.emit(run.as_json(now))
        return 0
    for line in run_lines(run, now):
        out.print(line)
    out.print(f"console: {run.console_url}")
    return 0


def cmd_follow(
    args: argparse.Namespace,
    clients: Clients,
    out: Output,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """``audiences follow RUN``: the run's steps until it ends; 0 if it succeeded, else 1.
    With ``--json``, one document (the run as ``show --json`` gives it) once it ended."""
    interval = float(getattr(args, "interval", FOLLOW_INTERVAL))
    run = _run(args, clients)
    with out.live() as display:
        while True:
            if not out.json:
                display.update(run_lines(run, runs.utc_now()))
            if run.done and run.handed_over_to:  # a seed file's notification: its run
                run = _read(clients, run.handed_over_to)
                continue
            if run.done:
                break
            waited = 0.0
            while waited < interval:  # a display redrawn in place ticks every second
                pause = min(1.0, interval - waited) if display.ticks else interval
                sleep(pause)
                waited += pause
                if display.ticks and waited < interval:
                    display.update(run_lines(run, runs.utc_now()))
            run = _read(clients, run.arn)
    if out.json:
        out.emit(run.as_json(runs.utc_now()))
    return 0 if run.succeeded else 1


# ---- why / where / training ------------------------------------------------------------------


def cmd_why(args: argparse.Namespace, clients: Clients, out: Output) -> int:
    """``audiences why RUN``: why the run failed, or what its warnings were (exit 0 when it
    did not fail)."""
    run = _run(args, clients)
    answer = {
        "name": run.name,
        "status": run.status,
        "outcome": run.outcome,
        "step": run.failed_step,
        "cause": run.cause,
        "consoleUrl": run.console_url,
    }
    if out.json:
        out.emit(answer)
        return 0
    if not run.done:
        out.print(f"run {run.name} is still running (audiences follow {run.name})")
    elif run.succeeded and run.outcome != runs.SUCCEEDED_WITH_WARNINGS:
        out.print(f"run {run.name} succeeded: nothing went wrong")
    else:
        out.print(f"run {run.name}: {run.outcome or run.status}")
        out.print(f"step: {run.failed_step or '-'}")
        out.print(f"message: {run.cause or '-'}")
    out.print(f"console: {run.console_url}")
    return 0


def cmd_where(args: argparse.Namespace, clients: Clients, out: Output) -> int:
    """``audiences where RUN``: the run's results and its end event."""
    run = _run(args, clients)
    found = runs.locations(run, clients.cleanroomsml)
    if out.json:
        out.emit(
            {
                "name": run.name,
                "executionArn": run.arn,
                "locations": [f.as_json() for f in found],
                "endEvent": run.end_event,
            }
        )
        return 0
    if found:
        rows = [["WHAT", "WHERE", "STATUS"]]
        rows += [[f.what, f.uri, f.status or "-"] for f in found]
        out.print(table(rows))
    else:
        out.print(f"run {run.name} produced nothing yet")
    if run.end_event is None:
        out.print("end event: none published (yet)")
    else:
        event = run.end_event
        detail = event.get("detail") or {}
        out.print(
            f"end event: {event.get('source')} / {event.get('detail-type')} on "
            f"{event.get('eventBusName')}"
            + (f" (id {event['id']})" if event.get("id") else "")
            + f": outcome {detail.get('outcome')}, step {detail.get('step')}"
        )
    return 0


def cmd_training(args: argparse.Namespace, clients: Clients, out: Output) -> int:
    """``audiences training``: the audience model's status and time in training."""
    from .aws import CliError

    pipeline = _pipeline(args, clients)
    arn = getattr(pipeline, "audience_model_arn", None)
    if not arn:
        raise CliError(
            f"the stack {pipeline.stack_name!r} publishes no AudienceModelArn for "
            f"{pipeline.path!r} (a workflow without its pipeline has no model of its own)"
        )
    model = clients.cleanroomsml.get_audience_model(audienceModelArn=arn)
    status = str(model.get("status"))
    created: datetime.datetime = model["createTime"]
    training = status in ("CREATE_PENDING", "CREATE_IN_PROGRESS")
    end = runs.utc_now() if training else model.get("updateTime", runs.utc_now())
    spent = (end - created).total_seconds()
    answer = {
        "audienceModelArn": arn,
        "name": model.get("name"),
        "status": status,
        "statusMessage": (model.get("statusDetails") or {}).get("message"),
        "created": created,
        "updated": model.get("updateTime"),
        "training": training,
        "trainingSeconds": spent,
    }
    if out.json:
        out.emit(answer)
        return 0
    verb = "training for" if training else "trained in" if status == "ACTIVE" else "after"
    out.print(f"audience model {model.get('name')}: {status}, {verb} {duration(spent)}")
    out.print(f"created {stamp(created)} UTC; model {arn}")
    if answer["statusMessage"]:
        out.print(f"message: {answer['statusMessage']}")
    return 0
