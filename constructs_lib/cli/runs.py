"""Read a run of the audience-generation workflow from Step Functions into a ``Run``.

A run is one execution of the workflow. Its history names the states it went through (see
``constructs_lib/workflows/fragments``): ``CheckInput`` (the input check), ``StartGenerationJob``
and ``TrackGenerationJob`` (generation), ``StartExport`` / ``TrackExport`` per export (inside
the ``ExportAudience`` map), ``RunBatchInference`` then ``BatchInferenceOutcome`` and
``BatchInferenceDone`` or ``BatchInferenceWithWarnings`` (Bedrock; the ``RunBatchInference*``
failure states when the batch run failed), then ``PublishOutcome``, whose ``putEvents`` request
is the end event the run published. Each ``Track*`` state runs a nested execution of the
job-status tracker: its history holds the job's last status (the ``result`` its ``Check*`` state
reads) and, while it waits in ``WaitBeforeNextPoll``, when it polls next.

The Bedrock step's "job" is a run of the batch inference workflow (a nested execution, named in
the plan's ``batch.ExecutionArn``): its ARN stands as the step's job and tracking execution, its
outcome (``SUCCEEDED``, ``SUCCEEDED_WITH_WARNINGS``, ``FAILED``, ...) as the job's status. A run
whose batch run had partial results succeeds with the outcome ``SUCCEEDED_WITH_WARNINGS``.

Standard library and botocore clients only (no aws_cdk).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The end event's source and detail-type (``workflows/props.py``).
EVENT_SOURCE = "cleanrooms-ml-cdk.audience-generation"
EVENT_DETAIL_TYPE = "Audience Generation Workflow Finished"

PENDING, RUNNING, SUCCEEDED, FAILED = "PENDING", "RUNNING", "SUCCEEDED", "FAILED"
#: A step of the plan the run ended before.
NOT_RUN = "NOT_RUN"
#: Step labels, in the order a run meets them.
LABELS = {"input": "input check", "generation": "generation", "batch": "Bedrock"}
#: The outcome of a run (and of its batch run) that succeeded with partial Bedrock results.
SUCCEEDED_WITH_WARNINGS = "SUCCEEDED_WITH_WARNINGS"
#: The Bedrock step's task: a run of the batch inference workflow (``startExecution.sync:2``).
BATCH_TASK = "RunBatchInference"
#: The Bedrock step's states after its batch run succeeded (``BatchInferenceOutcome`` chose).
BATCH_DONE = ("BatchInferenceDone", "BatchInferenceWithWarnings")


def step_of(state: str) -> str | None:
    """The run's step a workflow state belongs to (``input``, ``generation``, ``export``,
    ``batch``, ``end``)."""
    if state in ("SeedFileNotification", "Begin", "KeepPlan", "HandOverSeedFile") or state in (
        "ReadRejection",
        "RejectionMessage",
        "InputRejected",
    ):
        return "input"
    if state.startswith("CheckInput"):
        return "input"
    if state == "InCollaboration" or state.startswith(("StartGenerationJob", "TrackGenerationJob")):
        return "generation"
    if state.startswith(("ExportAudience", "StartExport", "TrackExport", "Export")):
        return "export"
    if state.startswith(BATCH_TASK) or state in ("BatchInferenceOutcome", *BATCH_DONE):
        return "batch"
    return "end"


@dataclass
class Step:
    """One step of a run: the input check, the generation, one export, or Bedrock."""

    key: str
    label: str
    status: str = PENDING
    job_arn: str | None = None
    job_status: str | None = None
    tracking_arn: str | None = None
    started: datetime.datetime | None = None
    ended: datetime.datetime | None = None
    next_poll: datetime.datetime | None = None

    def elapsed(self, now: datetime.datetime) -> float | None:
        if self.started is None:
            return None
        return ((self.ended or now) - self.started).total_seconds()

    def as_json(self, now: datetime.datetime) -> dict[str, Any]:
        return {
            "step": self.key,
            "label": self.label,
            "status": self.status,
            "jobArn": self.job_arn,
            "jobStatus": self.job_status,
            "trackingExecutionArn": self.tracking_arn,
            "started": self.started,
            "ended": self.ended,
            "elapsedSeconds": self.elapsed(now),
            "nextPoll": self.next_poll,
        }


@dataclass
class Run:
    """One execution of the workflow, as far as it went."""

    arn: str
    name: str
    status: str
    started: datetime.datetime
    stopped: datetime.datetime | None
    trigger: str
    input: dict[str, Any]
    outcome: str | None = None
    cause: str | None = None
    failed_step: str | None = None
    steps: list[Step] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    end_event: dict[str, Any] | None = None
    handed_over_to: str | None = None

    @property
    def done(self) -> bool:
        return self.status != "RUNNING"

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def console_url(self) -> str:
        return console_url(self.arn)

    def duration(self, now: datetime.datetime) -> float:
        return ((self.stopped or now) - self.started).total_seconds()

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    def as_json(self, now: datetime.datetime | None = None) -> dict[str, Any]:
        now = now or utc_now()
        return {
            "name": self.name,
            "executionArn": self.arn,
            "status": self.status,
            "outcome": self.outcome,
            "step": self.failed_step,
            "cause": self.cause,
            "trigger": self.trigger,
            "started": self.started,
            "stopped": self.stopped,
            "durationSeconds": self.duration(now),
            "steps": [s.as_json(now) for s in self.steps],
            "consoleUrl": self.console_url,
            "handedOverTo": self.handed_over_to,
        }


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def console_url(execution_arn: str) -> str:
    """The execution's page in the Step Functions console."""
    region = execution_arn.split(":")[3]
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution_arn}"
    )


def execution_arn_of(run: str, workflow_arn: str) -> str:
    """``run`` (an execution name or ARN) as the ARN of an execution of ``workflow_arn``."""
    if run.startswith("arn:"):
        return run
    prefix, _, machine = workflow_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{run}"


def trigger_of(name: str, given: Mapping[str, Any]) -> str:
    """``S3`` for a run a seed file started (or the notification handing it over), else
    ``manual``."""
    if "seedObject" in given or given.get("source") == "aws.s3" or name.startswith("s3-"):
        return "S3"
    return "manual"


def _loads(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def history(sfn: Any, execution_arn: str, *, reverse: bool = False) -> list[dict[str, Any]]:
    """The execution's whole history (paged)."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    if reverse:
        kwargs["reverseOrder"] = True
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page.get("events", []))
        token = page.get("nextToken")
        if not token:
            return events
        kwargs["nextToken"] = token


def _details(event: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _anchors(events: Iterable[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    """For each event id, the ``*StateEntered`` event of the state it belongs to (following
    ``previousEventId``; events of parallel map iterations chain to their own state)."""
    by_id = {int(e["id"]): e for e in events}
    found: dict[int, Mapping[str, Any]] = {}
    for event_id in sorted(by_id):
        event = by_id[event_id]
        if str(event["type"]).endswith("StateEntered"):
            found[event_id] = event
            continue
        previous = int(event.get("previousEventId") or 0)
        if previous in found:
            found[event_id] = found[previous]
    return found


def read_run(sfn: Any, execution_arn: str, *, deep: bool = True) -> Run:
    """The run ``execution_arn``: its description and, read from its history (and with
    ``deep``, from its tracking executions), its steps, outcome and end event."""
    described = sfn.describe_execution(executionArn=execution_arn)
    given = _loads(described.get("input")) or {}
    run = Run(
        arn=execution_arn,
        name=str(described["name"]),
        status=str(described["status"]),
        started=described["startDate"],
        stopped=described.get("stopDate"),
        trigger=trigger_of(str(described["name"]), given),
        input=given if isinstance(given, dict) else {},
    )
    if run.status == "FAILED":
        run.outcome, run.cause = described.get("error"), described.get("cause")
    elif run.status == "SUCCEEDED":
        run.outcome = "SUCCEEDED"
    else:
        run.outcome = None if run.status == "RUNNING" else run.status
        run.cause = described.get("cause")
    events = history(sfn, execution_arn)
    _read_steps(run, events)
    if deep:
        for step in run.steps:
            if not step.tracking_arn:
                continue
            if step.key == "batch":
                if step.status not in (PENDING, NOT_RUN) and (
                    step.status == RUNNING or step.job_status is None
                ):
                    _read_batch_run(sfn, step)
            elif step.status == RUNNING or step.job_status is None:
                _read_tracking(sfn, step)
    return run


def _step(run: Run, key: str, label: str) -> Step:
    found = run.step(key)
    if found is None:
        found = Step(key, label)
        run.steps.append(found)
    return found


def _read_steps(run: Run, events: list[dict[str, Any]]) -> None:
    anchors = _anchors(events)
    exports_of_state: dict[int, str] = {}  # StartExport/TrackExport entered id -> export name
    last_step: Step | None = None
    for event in events:
        kind = str(event["type"])
        details = _details(event)
        when = event["timestamp"]
        anchor = anchors.get(int(event["id"]))
        state = str(_details(anchor).get("name", "")) if anchor else ""
        area = step_of(state) if state else None
        if kind == "ExecutionStarted":
            continue
        if kind.endswith("StateEntered"):
            entered = _loads(details.get("input")) or {}
            if state == "HandOverSeedFile":
                run.trigger = "S3"
            if area == "input":
                step = _step(run, "input", LABELS["input"])
                step.started = step.started or when
                step.status = RUNNING
                if state == "KeepPlan":
                    step.status, step.ended = SUCCEEDED, when
                last_step = step
            elif area == "generation":
                step = _step(run, "generation", LABELS["generation"])
                step.started = step.started or when
                if step.status == PENDING:
                    step.status = RUNNING
                last_step = step
            elif area == "batch":
                step = _step(run, "batch", LABELS["batch"])
                step.started = step.started or when
                if step.status == PENDING:
                    step.status = RUNNING
                if state in BATCH_DONE:
                    step.status, step.ended = SUCCEEDED, step.ended or when
                last_step = step
            elif area == "export" and state in ("StartExport", "TrackExport"):
                name = _export_name(entered)
                if name:
                    exports_of_state[int(event["id"])] = name
                    step = _step(run, f"export:{name}", f"export {name}")
                    step.started = step.started or when
                    step.job_arn = step.job_arn or (entered.get("arn") if entered else None)
                    if step.status == PENDING:
                        step.status = RUNNING
                    last_step = step
            elif state == "PublishOutcome" and isinstance(entered, dict):
                run.state = entered
                end = entered.get("end") or {}
                run.failed_step = end.get("step")
                if end.get("outcome"):
                    run.outcome = end["outcome"]
                    run.cause = end.get("cause")
            continue
        if kind == "PassStateExited" and state == "KeepPlan":
            _plan_steps(run, _loads(details.get("output")))
            continue
        if kind == "TaskScheduled" and state == "PublishOutcome":
            parameters = _loads(details.get("parameters")) or {}
            entries = parameters.get("Entries") or [{}]
            entry = entries[0]
            run.end_event = {
                "source": entry.get("Source"),
                "detail-type": entry.get("DetailType"),
                "eventBusName": entry.get("EventBusName"),
                "detail": _loads(entry.get("Detail")),
            }
            continue
        if kind == "TaskSucceeded" and state == "PublishOutcome" and run.end_event is not None:
            output = _loads(details.get("output")) or {}
            ids = [e.get("EventId") for e in output.get("Entries", []) if e.get("EventId")]
            if ids:
                run.end_event["id"] = ids[0]
            continue
        if kind == "TaskSucceeded" and state.startswith("StartGenerationJob"):
            output = _loads(details.get("output")) or {}
            _step(run, "generation", LABELS["generation"]).job_arn = output.get(
                "AudienceGenerationJobArn"
            )
        elif kind == "TaskSucceeded" and state == "HandOverSeedFile":
            output = _loads(details.get("output")) or {}
            run.handed_over_to = output.get("ExecutionArn")
        elif state == BATCH_TASK and kind in ("TaskSubmitted", "TaskSucceeded"):
            _read_batch_task(_step(run, "batch", LABELS["batch"]), details.get("output"))
            if kind == "TaskSucceeded":
                step = _step(run, "batch", LABELS["batch"])
                step.status, step.ended = SUCCEEDED, when
        elif state == BATCH_TASK and kind in ("TaskFailed", "TaskTimedOut", "TaskAborted"):
            # a batch run that ended otherwise: its description is the error's JSON cause
            _read_batch_task(_step(run, "batch", LABELS["batch"]), details.get("cause"))
        elif kind == "TaskSubmitted" and area in ("generation", "export"):
            output = _loads(details.get("output")) or {}
            target = _target(run, area, anchor, exports_of_state)
            if target is not None:
                target.tracking_arn = output.get("ExecutionArn")
        elif kind == "TaskSucceeded" and state.startswith(("TrackGenerationJob", "TrackExport")):
            output = _loads(details.get("output"))
            target = _target(run, area, anchor, exports_of_state)
            # a tracking execution that succeeded is described (moto also records an empty
            # success when the run is stopped while it waits)
            if target is not None and isinstance(output, dict) and output.get("ExecutionArn"):
                target.status, target.ended = SUCCEEDED, when
                result = _loads(output.get("Output")) or {}
                status = (result.get("result") or {}).get("Status")
                target.job_status = status or target.job_status
    _conclude(run, last_step)


def _plan_steps(run: Run, state: Any) -> None:
    """The steps the checked plan holds, PENDING until the run reaches them."""
    plan = state.get("plan") if isinstance(state, dict) else None
    if not isinstance(plan, dict):
        return
    _step(run, "generation", LABELS["generation"])
    for export in plan.get("exports") or []:
        if isinstance(export, dict) and export.get("Name"):
            _step(run, f"export:{export['Name']}", f"export {export['Name']}")
    batch = plan.get("batch")
    if batch:
        step = _step(run, "batch", LABELS["batch"])
        arn = batch.get("ExecutionArn") if isinstance(batch, dict) else None
        if arn:  # the batch run this run starts (named before it starts)
            step.job_arn = step.tracking_arn = str(arn)


def _read_batch_task(step: Step, answer: Any) -> None:
    """The batch run ``RunBatchInference`` started, from the task's answer: ``StartExecution``'s
    (submitted), ``DescribeExecution``'s (the run ended: its ``Output`` is the batch run's final
    state, whose ``end.outcome`` is the run's outcome; a failed run's ``Error`` is its outcome),
    or the same after the task's ``ResultSelector`` (``executionArn``, ``outcome``)."""
    described = _loads(answer)
    if not isinstance(described, dict):
        return  # e.g. the start itself was refused: the cause is the service's message
    arn = described.get("ExecutionArn") or described.get("executionArn")
    if arn:
        step.job_arn = step.tracking_arn = str(arn)
    outcome = _batch_outcome(described)
    if outcome:
        step.job_status = outcome


def _batch_outcome(described: Mapping[str, Any]) -> str | None:
    """A batch run's outcome from its description (or the task's selected result)."""
    if described.get("outcome"):
        return str(described["outcome"])
    final = _loads(described.get("Output") or described.get("output"))
    end = final.get("end") if isinstance(final, dict) else None
    if isinstance(end, dict) and end.get("outcome"):
        return str(end["outcome"])
    status = described.get("Status") or described.get("status")
    error = described.get("Error") or described.get("error")
    if error and status == "FAILED":
        return str(error)
    return str(status) if status and status != "SUCCEEDED" else None


def _export_name(entered: Any) -> str | None:
    if not isinstance(entered, dict):
        return None
    export = entered.get("export")
    if isinstance(export, dict) and export.get("Name"):
        return str(export["Name"])
    return None


def _target(
    run: Run, area: str | None, anchor: Mapping[str, Any] | None, exports: Mapping[int, str]
) -> Step | None:
    if area in ("generation", "batch"):
        return run.step(area)
    if area == "export" and anchor is not None:
        name = exports.get(int(anchor["id"]))
        return run.step(f"export:{name}") if name else None
    return None


def _conclude(run: Run, last: Step | None) -> None:
    """Once the run ended: a step still running ended with it (succeeded with the run; else
    failed, or ABORTED / TIMED_OUT with a run stopped or timed out before its end event)."""
    if not run.done:
        return
    if run.status == "SUCCEEDED":
        for step in run.steps:
            if step.status == RUNNING:
                step.status, step.ended = SUCCEEDED, step.ended or run.stopped
        if run.handed_over_to:
            run.outcome = "HANDED_OVER"
        return
    failed = run.failed_step
    ended_as = run.status if run.status in ("ABORTED", "TIMED_OUT") else FAILED
    for step in run.steps:
        area = step.key.split(":", 1)[0]
        if step.status == PENDING:
            step.status = NOT_RUN
        elif step.status == RUNNING and ((failed is None and step is last) or area == failed):
            step.status, step.ended = ended_as, run.stopped
    if failed is None and last is not None:
        run.failed_step = last.key.split(":", 1)[0]


def _read_tracking(sfn: Any, step: Step, arn: str | None = None, depth: int = 0) -> None:
    """The job's last status and the tracker's next poll, read from the newest events of its
    tracking execution (or of the execution it continued as, near its history's limit)."""
    from botocore.exceptions import ClientError

    arn = arn or step.tracking_arn
    try:
        running = sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=200)
    except ClientError:  # Step Functions keeps an ended execution's history for 90 days
        return
    step.next_poll = None
    current = True  # the newest state entered is the one the execution is in
    for event in events.get("events", []):  # newest first
        kind, details = str(event["type"]), _details(event)
        name = str(details.get("name", ""))
        if running and current and kind == "TaskSubmitted" and depth < 10:
            child = _loads(details.get("output")) or {}
            if isinstance(child, dict) and child.get("ExecutionArn"):  # ContinueAsNew
                _read_tracking(sfn, step, str(child["ExecutionArn"]), depth + 1)
                return
        if kind.endswith("StateEntered") and current:
            current = False
            if running and kind == "WaitStateEntered" and name == "WaitBeforeNextPoll":
                given = _loads(details.get("input")) or {}
                seconds = (given.get("interval") or {}).get("seconds")
                if isinstance(seconds, (int, float)):
                    step.next_poll = event["timestamp"] + datetime.timedelta(seconds=seconds)
        if kind == "ChoiceStateEntered" and name.startswith("Check"):
            result = (_loads(details.get("input")) or {}).get("result")
            if isinstance(result, dict) and result.get("Status"):
                step.job_status = str(result["Status"])
            return


def _read_batch_run(sfn: Any, step: Step) -> None:
    """The batch run's outcome so far: RUNNING while it runs, else its outcome (read from its
    description when the run's history does not hold it)."""
    from botocore.exceptions import ClientError

    try:
        described = sfn.describe_execution(executionArn=step.tracking_arn)
    except ClientError:  # not started (yet), or its history is gone after 90 days
        return
    status = str(described.get("status"))
    if status == "RUNNING":
        step.job_status = RUNNING
        return
    step.job_status = _batch_outcome(described) or status


@dataclass
class RunSummary:
    """A row of the runs table."""

    name: str
    arn: str
    status: str
    trigger: str
    started: datetime.datetime
    stopped: datetime.datetime | None
    outcome: str | None
    handed_over: bool

    def as_json(self, now: datetime.datetime | None = None) -> dict[str, Any]:
        now = now or utc_now()
        return {
            "name": self.name,
            "executionArn": self.arn,
            "status": self.status,
            "trigger": self.trigger,
            "started": self.started,
            "stopped": self.stopped,
            "durationSeconds": ((self.stopped or now) - self.started).total_seconds(),
            "outcome": self.outcome,
            "handedOver": self.handed_over,
        }


def list_runs(sfn: Any, workflow_arn: str, *, limit: int = 20) -> list[RunSummary]:
    """The ``limit`` most recent runs of the workflow, newest first."""
    executions: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"stateMachineArn": workflow_arn, "maxResults": min(limit, 1000)}
    while len(executions) < limit:
        page = sfn.list_executions(**kwargs)
        executions.extend(page.get("executions", []))
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    executions.sort(key=lambda e: e["startDate"], reverse=True)
    found = []
    for execution in executions[:limit]:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        given = _loads(described.get("input")) or {}
        given = given if isinstance(given, dict) else {}
        status = str(described["status"])
        handed_over = given.get("source") == "aws.s3"
        if handed_over and status == "SUCCEEDED":
            outcome: str | None = "HANDED_OVER"
        elif status == "SUCCEEDED":
            final = _loads(described.get("output"))
            end = final.get("end") if isinstance(final, dict) else None
            warned = isinstance(end, dict) and end.get("outcome") == SUCCEEDED_WITH_WARNINGS
            outcome = SUCCEEDED_WITH_WARNINGS if warned else "SUCCEEDED"
        elif status == "FAILED":
            outcome = described.get("error") or "FAILED"
        elif status == "RUNNING":
            outcome = None
        else:
            outcome = status
        found.append(
            RunSummary(
                name=str(described["name"]),
                arn=str(described["executionArn"]),
                status=status,
                trigger=trigger_of(str(described["name"]), given),
                started=described["startDate"],
                stopped=described.get("stopDate"),
                outcome=outcome,
                handed_over=handed_over,
            )
        )
    return found


@dataclass
class Location:
    """An ``s3://`` place a run produced, or a job that holds its result."""

    what: str
    uri: str
    status: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"what": self.what, "uri": self.uri, "status": self.status}


def locations(run: Run, cleanroomsml: Any) -> list[Location]:
    """Where the run's results are: the generation job (and the configured model's output
    destination, where Clean Rooms ML writes exported audiences), each export's
    ``outputLocation``, the batch run's output folder and its manifest."""
    found: list[Location] = []
    plan = run.state.get("plan") or {}
    generation = run.step("generation")
    job_arn = generation.job_arn if generation else None
    if job_arn:
        status = generation.job_status if generation else None
        found.append(Location("generated audience (job)", job_arn, status))
        configured = (plan.get("request") or {}).get("ConfiguredAudienceModelArn")
        if configured:
            model = cleanroomsml.get_configured_audience_model(
                configuredAudienceModelArn=configured
            )
            destination = (
                model.get("outputConfig", {}).get("destination", {}).get("s3Destination", {})
            )
            if destination.get("s3Uri"):
                found.append(Location("audience destination", str(destination["s3Uri"])))
        planned = {str(e.get("Name")) for e in plan.get("exports") or [] if isinstance(e, dict)}
        if planned:
            pages: list[dict[str, Any]] = []
            kwargs: dict[str, Any] = {"audienceGenerationJobArn": job_arn}
            while True:
                page = cleanroomsml.list_audience_export_jobs(**kwargs)
                pages.extend(page.get("audienceExportJobs", []))
                if not page.get("nextToken"):
                    break
                kwargs["nextToken"] = page["nextToken"]
            for export in sorted(pages, key=lambda e: str(e.get("name"))):
                if export.get("name") in planned and export.get("outputLocation"):
                    found.append(
                        Location(
                            f"export {export['name']}",
                            str(export["outputLocation"]),
                            export.get("status"),
                        )
                    )
    batch = plan.get("batch") or {}
    step = run.step("batch")
    status = step.job_status if step else None
    if batch.get("OutputS3Uri"):
        found.append(Location("Bedrock output", str(batch["OutputS3Uri"]), status))
    if batch.get("ManifestS3Uri"):
        found.append(Location("Bedrock manifest", str(batch["ManifestS3Uri"]), status))
    return found
