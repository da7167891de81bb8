"""Every way a run of the audience-generation workflow can end, one test each.

The workflow is the synthesized one (S3 trigger, an export, a Bedrock step). Its job-status
tracker and its batch inference workflow are replaced by stand-in state machines under their
names, scripted per test to succeed, fail with an outcome, fail with no error, or wait until the
test stops them, so that each nested step's failure reader (``read_nested_failure``) is driven
down every branch; the start calls are refused by scripted service errors or injected faults.
These are the paths the path-coverage gate (``tests/sfn_coverage.py``) found no other test
taking.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from boto3 import client
from botocore.stub import Stubber

from tests.conftest import synth_stack
from tests.handler_support import new_client
from tests.sfn_configurations import BUILDS
from tests.sfn_support import REGION, Run, definition_of, interpreter, machine_name_of

GENERATION_ARN = "arn:aws:cleanrooms-ml:us-east-1:123456789012:audience-generation-job/j-1"
MANUAL_INPUT = {"seedAudience": {"dataSource": {"s3Uri": "s3://team-seeds/seeds/weekly.jsonl"}}}

#: Which nested step a stand-in misbehaves in: the tracker's kind of job, or the batch run.
STEPS = {
    "generation": "AUDIENCE_GENERATION_JOB",
    "export": "AUDIENCE_EXPORT_JOB",
    "batch": None,
}


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # GIVEN the workflow with an S3 trigger, an export and a Bedrock step
    template = synth_stack(
        tmp_path_factory.mktemp("paths"), BUILDS["workflow, S3 trigger + exports + Bedrock"]
    ).raw
    return {
        "workflow": definition_of(template, "Workflow"),
        "workflow_name": machine_name_of(template, "Workflow"),
        "tracker_name": machine_name_of(template, "-job-status"),
        "batch_name": machine_name_of(template, "Batch"),
    }


#: How a stand-in misbehaves.
MISBEHAVIOURS: dict[str, dict[str, Any]] = {
    "outcome": {"Type": "Fail", "Error": "FAILED", "Cause": "the job failed"},
    "no error": {"Type": "Fail"},
    "stop": {"Type": "Wait", "Seconds": 60, "End": True},
}


def _stand_in(step: str | None, behaviour: str) -> str:
    """A tracker stand-in: succeeds for every job but ``step``'s, where it ``behaves``."""
    kind = STEPS[step] if step else None
    return json.dumps(
        {
            "StartAt": "Route",
            "States": {
                "Route": {
                    "Type": "Choice",
                    "Choices": [
                        {"Variable": "$.kind", "StringEquals": kind or "NONE", "Next": "Misbehave"}
                    ],
                    "Default": "Done",
                },
                "Misbehave": MISBEHAVIOURS[behaviour],
                "Done": {"Type": "Pass", "Result": {"result": {"Status": "ACTIVE"}}, "End": True},
            },
        }
    )


def _batch_stand_in(behaviour: str) -> str:
    """A batch workflow stand-in: ends as a batch run does (its final state holds ``end`` and
    ``result``), SUCCEEDED or SUCCEEDED_WITH_WARNINGS, or misbehaves."""
    outcome = {"succeeded": "SUCCEEDED", "warnings": "SUCCEEDED_WITH_WARNINGS"}.get(behaviour)
    ending = (
        {
            "Type": "Pass",
            "Result": {
                "end": {"outcome": outcome, "cause": "2 shards; the manifest is s3://b/m.json"},
                "result": {"outcome": outcome, "manifestUri": "s3://b/m.json", "shards": 2},
            },
            "End": True,
        }
        if outcome
        else MISBEHAVIOURS[behaviour]
    )
    return json.dumps({"StartAt": "End", "States": {"End": ending}})


def _stubbers(refuse: str | None = None) -> dict[str, Stubber]:
    """Clean Rooms ML accepting every start, or refusing the ``refuse`` one (access denied)."""
    cleanrooms = Stubber(new_client("cleanroomsml"))
    for name, method, answer in (
        ("generation", "start_audience_generation_job",
         {"audienceGenerationJobArn": GENERATION_ARN}),
        ("export", "start_audience_export_job", {}),
    ):  # fmt: skip
        if name == refuse:
            cleanrooms.add_client_error(method, "AccessDeniedException", "not allowed", 403)
            break
        cleanrooms.add_response(method, answer)
    cleanrooms.activate()
    return {"cleanroomsml": cleanrooms}


def _run(
    machines: dict[str, str],
    stand_in: str,
    stubbers: dict[str, Stubber],
    *,
    batch: str = "succeeded",
    create_tracker: bool = True,
    faults: dict[str, str] | None = None,
    casing: str = "sfn",
) -> Run:
    with interpreter(stubbers, faults=faults, description_casing=casing) as run:
        if create_tracker:
            run.machine(stand_in, machines["tracker_name"])
        run.machine(_batch_stand_in(batch), machines["batch_name"])
        execution = run.start(
            machines["workflow"], MANUAL_INPUT, "a-run", machines["workflow_name"]
        )
        sfn = client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + 60
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            # stop every stand-in that waits (as an operator would)
            for name in ("tracker_name", "batch_name"):
                if name == "tracker_name" and not create_tracker:
                    continue
                for e in run.list_executions(machines[name]):
                    if e["status"] == "RUNNING" and run.is_waiting(e["executionArn"]):
                        sfn.stop_execution(executionArn=e["executionArn"], cause="stopped")
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.05)
        return run.wait_for(execution)


STATE_OF = {
    "generation": "TrackGenerationJob",
    "export": "TrackExport",
    "batch": "RunBatchInference",
}


#: How a nested execution may end, the failure reader's branch for it, and the run's error.
ENDINGS = [
    ("outcome", "sfn", "Outcome", "FAILED"),
    ("outcome", "api", "OutcomeLower", "FAILED"),
    ("no error", "sfn", "OutcomeUnknown", "FAILED"),
    ("stop", "sfn", "Aborted", "ABORTED"),
]


@pytest.mark.parametrize(
    ("step", "behaviour", "casing", "suffix", "error"),
    [(step, *ending) for step in STEPS for ending in ENDINGS],
)
def test_a_nested_step_that_fails_ends_the_run_with_its_outcome(
    machines: dict[str, str], step: str, behaviour: str, casing: str, suffix: str, error: str
) -> None:
    # GIVEN a tracker (or batch run) that ends ``step`` that way (the description in ``casing``)
    if step == "batch":
        result = _run(
            machines, _stand_in(None, "outcome"), _stubbers(), batch=behaviour, casing=casing
        )
    else:
        result = _run(machines, _stand_in(step, behaviour), _stubbers(), casing=casing)
    # THEN the run fails with the nested execution's outcome, read by that step's failure reader
    assert result.status == "FAILED"
    assert result.error == error
    assert f"{STATE_OF[step]}{suffix}" in result.entered
    [event] = [e for e in result.events if e["source"] == "cleanrooms-ml-cdk.audience-generation"]
    assert event["detail"]["outcome"] == error
    assert event["detail"]["step"] == step


@pytest.mark.parametrize(
    ("behaviour", "outcome", "state"),
    [
        ("succeeded", "SUCCEEDED", "BatchInferenceDone"),
        ("warnings", "SUCCEEDED_WITH_WARNINGS", "BatchInferenceWithWarnings"),
    ],
)
def test_a_batch_run_that_succeeds_ends_the_run_with_its_outcome(
    machines: dict[str, str], behaviour: str, outcome: str, state: str
) -> None:
    # GIVEN a batch run that succeeds, with or without warnings
    result = _run(machines, _stand_in(None, "outcome"), _stubbers(), batch=behaviour)
    # THEN the audience run succeeds with that outcome, carrying the batch run's result
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert state in result.entered
    [event] = [e for e in result.events if e["source"] == "cleanrooms-ml-cdk.audience-generation"]
    assert event["detail"]["outcome"] == outcome
    assert event["detail"]["batch"]["outcome"] == outcome
    assert event["detail"]["batch"]["result"]["manifestUri"] == "s3://b/m.json"


def test_a_refused_start_of_the_batch_run_waits_and_tries_again(machines: dict[str, str]) -> None:
    # GIVEN Step Functions refuses the batch run's start once (the 3rd nested start) because
    # the account's open executions are at their quota (StepFunctions.ExecutionLimitExceeded-
    # Exception)
    result = _run(
        machines,
        _stand_in(None, "outcome"),
        _stubbers(),
        faults={"StartExecution#3": "ExecutionLimitExceeded"},
    )
    # THEN the start is retried and the run succeeds, with one batch run
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "BatchInferenceDone" in result.entered
    assert result.backoffs, "the throttled start was not retried"


@pytest.mark.parametrize("step", list(STEPS))
def test_fails_if_a_nested_execution_cannot_start(machines: dict[str, str], step: str) -> None:
    # GIVEN Step Functions refuses the step's StartExecution (generation's tracking is the 1st
    # nested start, the export's the 2nd, the batch run the 3rd)
    nth = list(STEPS).index(step) + 1
    result = _run(
        machines,
        _stand_in(None, "outcome"),
        _stubbers(),
        faults={f"StartExecution#{nth}": "AccessDeniedException"},
    )
    # THEN the run ends as CALL_FAILED at that step
    assert result.status == "FAILED"
    assert result.error == "CALL_FAILED"
    assert f"{STATE_OF[step]}CallFailed" in result.entered


@pytest.mark.parametrize(
    ("refused", "state"),
    [
        ("generation", "StartGenerationJobCallFailed"),
        ("export", "StartExportFailed"),
    ],
)
def test_fails_if_a_start_call_is_refused(
    machines: dict[str, str], refused: str, state: str
) -> None:
    # GIVEN the service refuses a start (access denied: not retried)
    result = _run(machines, _stand_in(None, "outcome"), _stubbers(refuse=refused))
    # THEN the run ends as CALL_FAILED at that start
    assert result.status == "FAILED"
    assert result.error == "CALL_FAILED"
    assert state in result.entered


def test_fails_if_the_input_check_itself_fails(
    machines: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the handler crashing on the input check (not a rejection of the input)
    import handler

    def crash(event: dict[str, Any], context: Any = None) -> Any:
        raise RuntimeError("handler crashed")

    monkeypatch.setattr(handler, "on_event", crash)
    result = _run(machines, _stand_in(None, "outcome"), _stubbers(refuse="none"))
    # THEN the run ends as CALL_FAILED at the input step, with the Lambda's error
    assert result.error == "CALL_FAILED"
    assert "handler crashed" in str(result.cause)
