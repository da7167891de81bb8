"""Every way a run of the audience-generation workflow can end, one test each.

The workflow is the synthesized one (S3 trigger, an export, a Bedrock step). Its job-status
tracker is replaced by a stand-in state machine under the tracker's name, scripted per test to
succeed, fail with an outcome, fail with no error, or wait until the test stops it, so that
each tracking step's failure reader (``read_nested_failure``) is driven down every branch; the
start calls are refused by scripted service errors or injected faults. These are the paths the
path-coverage gate (``tests/sfn_coverage.py``) found no other test taking.
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
BEDROCK_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl"
MANUAL_INPUT = {"seedAudience": {"dataSource": {"s3Uri": "s3://team-seeds/seeds/weekly.jsonl"}}}

#: Which tracking step a stand-in misbehaves in: the kind it is asked to track, and whether it
#: is the Bedrock poller (named bedrock-...) or the confirmation after it.
STEPS = {
    "generation": ("AUDIENCE_GENERATION_JOB", None),
    "export": ("AUDIENCE_EXPORT_JOB", None),
    "batch": ("BEDROCK_BATCH_INFERENCE_JOB", True),
    "confirm": ("BEDROCK_BATCH_INFERENCE_JOB", False),
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
    }


def _stand_in(step: str | None, behaviour: str) -> str:
    """A tracker stand-in: succeeds for every job but ``step``'s, where it ``behaves``."""
    misbehave: dict[str, Any] = {
        "outcome": {"Type": "Fail", "Error": "FAILED", "Cause": "the job failed"},
        "no error": {"Type": "Fail"},
        "stop": {"Type": "Wait", "Seconds": 60, "End": True},
    }[behaviour]
    kind, poller = STEPS[step] if step else ("NONE", None)
    conditions: list[dict[str, Any]] = [{"Variable": "$.kind", "StringEquals": kind}]
    if poller is not None:
        matches = {"Variable": "$.name", "StringMatches": "bedrock-*"}
        conditions.append(matches if poller else {"Not": matches})
    # Bedrock's poller, when it is not the step that misbehaves, waits to be stopped (as
    # Bedrock's end event would), so that the workflow goes on to its confirmation.
    return json.dumps(
        {
            "StartAt": "Look",
            "States": {
                "Look": {
                    "Type": "Pass",
                    "Parameters": {"name.$": "$$.Execution.Name", "kind.$": "$.kind"},
                    "Next": "Route",
                },
                "Route": {
                    "Type": "Choice",
                    "Choices": [
                        {"And": conditions, "Next": "Misbehave"},
                        {"Variable": "$.name", "StringMatches": "bedrock-*", "Next": "Wait"},
                    ],
                    "Default": "Done",
                },
                "Misbehave": misbehave,
                "Wait": {"Type": "Wait", "Seconds": 60, "End": True},
                "Done": {"Type": "Pass", "Result": {"result": {"Status": "ACTIVE"}}, "End": True},
            },
        }
    )


def _stubbers(refuse: str | None = None) -> dict[str, Stubber]:
    """Services that accept every start, or refuse the ``refuse`` one (access denied)."""
    cleanrooms = Stubber(new_client("cleanroomsml"))
    bedrock = Stubber(new_client("bedrock"))
    for name, stubber, method, answer in (
        ("generation", cleanrooms, "start_audience_generation_job",
         {"audienceGenerationJobArn": GENERATION_ARN}),
        ("export", cleanrooms, "start_audience_export_job", {}),
        ("batch", bedrock, "create_model_invocation_job", {"jobArn": BEDROCK_ARN}),
    ):  # fmt: skip
        if name == refuse:
            stubber.add_client_error(method, "AccessDeniedException", "not allowed", 403)
            break
        stubber.add_response(method, answer)
    cleanrooms.activate()
    bedrock.activate()
    return {"cleanroomsml": cleanrooms, "bedrock": bedrock}


def _run(
    machines: dict[str, str],
    stand_in: str,
    stubbers: dict[str, Stubber],
    *,
    create_tracker: bool = True,
    faults: dict[str, str] | None = None,
    casing: str = "sfn",
) -> Run:
    with interpreter(stubbers, faults=faults, description_casing=casing) as run:
        if create_tracker:
            run.machine(stand_in, machines["tracker_name"])
        execution = run.start(
            machines["workflow"], MANUAL_INPUT, "a-run", machines["workflow_name"]
        )
        sfn = client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + 60
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            # stop every stand-in that waits (as Bedrock's end event or an operator would)
            if create_tracker:
                for e in run.list_executions(machines["tracker_name"]):
                    if e["status"] != "RUNNING":
                        continue
                    if run.is_waiting(e["executionArn"]):
                        sfn.stop_execution(executionArn=e["executionArn"], cause="stopped")
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.05)
        return run.wait_for(execution)


STATE_OF = {
    "generation": "TrackGenerationJob",
    "export": "TrackExport",
    "batch": "TrackBatchInference",
    "confirm": "ConfirmBatchInference",
}


#: How a tracking execution may end, the failure reader's branch for it, and the run's error.
ENDINGS = [
    ("outcome", "sfn", "Outcome", "FAILED"),
    ("outcome", "api", "OutcomeLower", "FAILED"),
    ("no error", "sfn", "OutcomeUnknown", "FAILED"),
    ("stop", "sfn", "Aborted", "ABORTED"),
]


@pytest.mark.parametrize(
    ("step", "behaviour", "casing", "suffix", "error"),
    [
        (step, *ending)
        for step in STEPS
        for ending in ENDINGS
        # a stopped Bedrock poller is the event path: the run confirms the status (tested in
        # test_audience_generation_workflow.py)
        if not (step == "batch" and ending[0] == "stop")
    ],
)
def test_a_tracking_step_that_fails_ends_the_run_with_its_outcome(
    machines: dict[str, str], step: str, behaviour: str, casing: str, suffix: str, error: str
) -> None:
    # GIVEN a tracker that ends the job of ``step`` that way (the description in ``casing``)
    result = _run(machines, _stand_in(step, behaviour), _stubbers(), casing=casing)
    # THEN the run fails with the tracker's outcome, read by that step's failure reader
    assert result.status == "FAILED"
    assert result.error == error
    assert f"{STATE_OF[step]}{suffix}" in result.entered
    [event] = [e for e in result.events if e["source"] == "cleanrooms-ml-cdk.audience-generation"]
    assert event["detail"]["outcome"] == error


@pytest.mark.parametrize("step", list(STEPS))
def test_fails_if_a_tracking_execution_cannot_start(machines: dict[str, str], step: str) -> None:
    # GIVEN Step Functions refuses the step's StartExecution (generation is the 1st tracking
    # start, the export the 2nd, the Bedrock poller the 3rd, its confirmation the 4th)
    nth = list(STEPS).index(step) + 1
    result = _run(
        machines,
        _stand_in(None, "outcome"),
        _stubbers(),
        faults={f"StartExecution#{nth}": "ExecutionLimitExceeded"},
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
        ("batch", "StartBatchInferenceCallFailed"),
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
