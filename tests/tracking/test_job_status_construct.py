"""JobStatusTracker and AudienceModel.ready as templates: logging, tracing, least privilege,
alarm, the WaitCondition gate and its re-arming."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib import (
    AudienceModel,
    AudienceOutputConfig,
    ConfiguredAudienceModel,
    ConstructValidationError,
)
from constructs_lib.tracking.job_status import EVENT_SOURCE, JobStatusTracker
from tests.conftest import Synthesized, synth_stack

DATASET_ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:training-dataset/d-1"
ROLE_ARN = "arn:aws:iam::111122223333:role/cleanrooms-ml-out"


def _build(stack: cdk.Stack, description: str = "v1") -> None:
    model = AudienceModel(
        stack,
        "Model",
        training_dataset=DATASET_ARN,
        description=description,
        ready_timeout=cdk.Duration.hours(6),
    )
    ConfiguredAudienceModel(
        stack,
        "Configured",
        audience_model=model,
        output_config=AudienceOutputConfig("s3://out/a/", ROLE_ARN),
    )


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth_stack(tmp_path_factory.mktemp("tracking"), _build)


def _only(synthesized: Synthesized, resource_type: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = synthesized.resources(resource_type).items()
    return logical_id, resource


def test_one_standard_state_machine_with_logs_and_tracing(synthesized: Synthesized) -> None:
    _, machine = _only(synthesized, "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["StateMachineName"].endswith("-job-status")
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
    log_group_id = props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"][
        "LogGroupArn"
    ]["Fn::GetAtt"][0]
    log_group = synthesized.raw["Resources"][log_group_id]["Properties"]
    assert log_group["RetentionInDays"] == 365
    assert "KmsKeyId" in log_group
    assert json.loads(json.dumps(props["DefinitionString"])).get("Fn::Join")


def test_state_machine_role_has_exactly_the_calls_it_makes(synthesized: Synthesized) -> None:
    _, machine = _only(synthesized, "AWS::StepFunctions::StateMachine")
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    role = synthesized.raw["Resources"][role_id]
    assert "Policies" not in role["Properties"]
    [policy] = [
        p
        for p in synthesized.resources("AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {
        "cleanrooms-ml:GetAudienceModel",
        "cleanrooms-ml:GetAudienceGenerationJob",
        "bedrock:GetModelInvocationJob",
        "events:PutEvents",
        "lambda:InvokeFunction",
    } <= actions
    assert not [a for a in actions if a.endswith("*")]
    # the one start it may make is of itself (continuing as new)
    assert not [
        a
        for a in actions - {"states:StartExecution"}
        if a.split(":")[1].startswith(("Create", "Delete", "Start")) and not a.startswith("logs:")
    ]
    by_action = {s["Action"]: s["Resource"] for s in statements if isinstance(s["Action"], str)}
    name = machine["Properties"]["StateMachineName"]
    assert f":stateMachine:{name}" in json.dumps(by_action["states:StartExecution"])
    assert "*" not in json.dumps(by_action["states:StartExecution"])
    assert ":event-bus/default" in json.dumps(by_action["events:PutEvents"])
    assert "audience-model/*" in json.dumps(by_action["cleanrooms-ml:GetAudienceModel"])


def test_handler_knows_and_may_start_the_state_machine(synthesized: Synthesized) -> None:
    handler = next(
        f
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "handler.on_event"
    )
    env = handler["Properties"]["Environment"]["Variables"]["JOB_STATUS_STATE_MACHINE_ARN"]
    _, machine = _only(synthesized, "AWS::StepFunctions::StateMachine")
    name = machine["Properties"]["StateMachineName"]
    assert env["Fn::Join"][1][-1] == f":stateMachine:{name}"
    policies = synthesized.resources("AWS::IAM::ManagedPolicy")
    statements = [
        s
        for k, p in policies.items()
        if k.startswith("CleanRoomsMlCustomResourceProviderPolicy")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "states:StartExecution"
    ]
    assert [s["Resource"] for s in statements] == [env]
    # the Bedrock event rule's role may start it too, and nothing else
    machine_id, _ = _only(synthesized, "AWS::StepFunctions::StateMachine")
    rule_statements = [
        s
        for k, p in policies.items()
        if k.startswith("JobStatusTrackerBedrock")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert rule_statements == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine_id}}
    ]


def test_failure_alarm_counts_failed_and_timed_out_executions(synthesized: Synthesized) -> None:
    _, alarm = _only(synthesized, "AWS::CloudWatch::Alarm")
    metrics = alarm["Properties"]["Metrics"]
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in metrics if "MetricStat" in m}
    assert names == {"ExecutionsFailed", "ExecutionsTimedOut"}
    assert alarm["Properties"]["Threshold"] == 1
    assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_configured_model_waits_for_training(synthesized: Synthesized) -> None:
    handle_id, _ = _only(synthesized, "AWS::CloudFormation::WaitConditionHandle")
    wait_id, wait = _only(synthesized, "AWS::CloudFormation::WaitCondition")
    model_id, model = _only(synthesized, "Custom::CleanRoomsMLAudienceModel")
    _, configured = _only(synthesized, "Custom::CleanRoomsMLConfiguredAudienceModel")
    assert wait["Properties"] == {"Count": 1, "Handle": {"Ref": handle_id}, "Timeout": "21600"}
    assert model_id in wait["DependsOn"]
    assert model["Properties"]["SignalUrl"] == {"Ref": handle_id}
    assert wait_id in configured["DependsOn"]


def test_a_replaced_model_re_arms_the_wait(tmp_path_factory: pytest.TempPathFactory) -> None:
    def ids(description: str) -> set[str]:
        stack = cdk.Stack(cdk.App(), "TestStack")
        _build(stack, description)
        template = cdk.assertions.Template.from_stack(stack).to_json()
        return {
            k
            for k, r in template["Resources"].items()
            if r["Type"].startswith("AWS::CloudFormation::Wait")
        }

    first, same, changed = ids("v1"), ids("v1"), ids("v2")
    assert first == same
    assert not first & changed


def test_outcome_events_use_the_documented_source() -> None:
    assert EVENT_SOURCE == "cleanrooms-ml-cdk.job-status"


@pytest.mark.parametrize("hours", [13, 0])
def test_fails_if_ready_timeout_is_out_of_range(stack: cdk.Stack, hours: int) -> None:
    with pytest.raises(ConstructValidationError, match=r"ready_timeout \(seconds\)="):
        AudienceModel(
            stack, "M", training_dataset=DATASET_ARN, ready_timeout=cdk.Duration.hours(hours)
        )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"backoff_rate": 0.5}, "backoff_rate=0.5: must be between 1 and 10"),
        (
            {"initial_interval": cdk.Duration.minutes(10), "max_interval": cdk.Duration.minutes(5)},
            r"max_interval='300 seconds': must be at least initial_interval \(600 seconds\)",
        ),
        (
            {"max_interval": cdk.Duration.hours(2)},
            r"max_interval \(seconds\)=7200: must be <= 3600",
        ),
        (
            {"timeout": cdk.Duration.minutes(1)},
            r"timeout='60 seconds': must be at least max_interval \(300 seconds\)",
        ),
    ],
)
def test_fails_if_polling_settings_are_invalid(
    stack: cdk.Stack, props: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConstructValidationError, match=message):
        JobStatusTracker(stack, "JobStatusTracker", **props)


def test_fails_if_a_second_tracker_is_created(stack: cdk.Stack) -> None:
    AudienceModel(stack, "M", training_dataset=DATASET_ARN)  # creates the default tracker
    with pytest.raises(ConstructValidationError, match="a stack has one job-status tracker"):
        JobStatusTracker(stack, "Another")


def test_tracker_created_first_is_the_one_used(stack: cdk.Stack) -> None:
    tracker = JobStatusTracker(stack, "JobStatusTracker", initial_interval=cdk.Duration.minutes(1))
    AudienceModel(stack, "M", training_dataset=DATASET_ARN)
    assert JobStatusTracker.of(stack) is tracker
    assert tracker.schedule[0] == 60
