"""``audiences pipelines`` and how a command finds its pipeline (``constructs_lib/cli/stack.py``).

GIVEN stacks whose outputs follow the library's contract (``Description`` =
``cleanrooms-ml-cdk:<kind>:<path>``), written by hand here, answered by a scripted
CloudFormation ``DescribeStacks`` (``tests/runbook_support.ScriptedService``: requests and
answers are validated against the botocore model).
WHEN the CLI lists them or looks one up.
THEN it finds the pipelines (the paths with a ``WorkflowArn``), and each missing piece is an
error that names it.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from constructs_lib.cli.aws import Clients, CliError
from constructs_lib.cli.main import run
from constructs_lib.cli.render import Output
from constructs_lib.cli.stack import find_pipeline, list_pipelines
from tests.runbook_support import ScriptedService, ServiceError

REGION = "eu-west-1"
ACCOUNT = "123456789012"


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def output(path: str, kind: str, value: str) -> dict[str, str]:
    """One output as the library's constructs write it."""
    key = "".join(c for c in path if c.isalnum()) + kind
    return {
        "OutputKey": key,
        "OutputValue": value,
        "Description": f"cleanrooms-ml-cdk:{kind}:{path}",
    }


def pipeline_outputs(path: str, bucket: str) -> list[dict[str, str]]:
    name = "".join(c for c in path if c.isalnum())
    return [
        output(path, "WorkflowArn", arn("states", f"stateMachine:{name}Workflow")),
        output(path, "JobStatusStateMachineArn", arn("states", f"stateMachine:{name}Tracker")),
        output(path, "SeedLocation", f"s3://{bucket}/seeds/"),
        output(path, "OutputLocation", f"s3://{bucket}/audiences/"),
        output(path, "DashboardUrl", f"https://{REGION}.console.aws.amazon.com/cloudwatch/x"),
        output(path, "AudienceModelArn", arn("cleanrooms-ml", "audience-model/m1")),
        output(
            path,
            "ConfiguredAudienceModelArn",
            arn("cleanrooms-ml", "configured-audience-model/c1"),
        ),
    ]


def stack(name: str, outputs: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "StackName": name,
        "StackId": arn("cloudformation", f"stack/{name}/1"),
        "CreationTime": "2026-11-01T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": outputs,
    }


#: Three pages of stacks: a pipeline; another app's stack (outputs not ours) and a stack with
#: two workflows (one of them nested); a tracker on its own and a stack without outputs.
PAGES = [
    [stack("Audiences", pipeline_outputs("Pipeline", "seeds-a"))],
    [
        stack(
            "Other",
            [{"OutputKey": "Url", "OutputValue": "https://x", "Description": "the site"}],
        ),
        stack(
            "Twin",
            [
                *pipeline_outputs("Brand/Pipeline", "seeds-b"),
                output("Retail", "WorkflowArn", arn("states", "stateMachine:RetailWorkflow")),
                output("Retail", "OutputLocation", "s3://out-r/audiences/"),
            ],
        ),
    ],
    [
        stack(
            "TrackerOnly",
            [output("Tracker", "JobStatusStateMachineArn", arn("states", "stateMachine:T"))],
        ),
        {k: v for k, v in stack("Empty", []).items() if k != "Outputs"},
    ],
]


def scripted(clients: Clients, pages: list[list[dict[str, Any]]] = PAGES) -> ScriptedService:
    """CloudFormation answering ``DescribeStacks`` from ``pages`` (by ``NextToken``) or, given
    a ``StackName``, with that stack (the API's error when there is none)."""

    def describe_stacks(params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("StackName")
        if name is not None:
            found = [s for page in pages for s in page if s["StackName"] == name]
            if not found:
                raise ServiceError("ValidationError", f"Stack with id {name} does not exist")
            return {"Stacks": found}
        index = int(params.get("NextToken", "0"))
        answer: dict[str, Any] = {"Stacks": pages[index]}
        if index + 1 < len(pages):
            answer["NextToken"] = str(index + 1)
        return answer

    return ScriptedService(clients.cfn, {"DescribeStacks": describe_stacks})


@pytest.fixture
def clients() -> Clients:
    return Clients(region=REGION)


def cli(clients: Clients, *argv: str) -> tuple[int, str]:
    stream = io.StringIO()
    code = run(list(argv), clients=clients, out=Output(json="--json" in argv, stream=stream))
    return code, stream.getvalue()


def test_lists_every_pipeline_of_every_page(clients: Clients) -> None:
    # GIVEN three pages of stacks
    cloudformation = scripted(clients)
    # WHEN the pipelines are listed
    found = list_pipelines(clients)
    # THEN every path with a WorkflowArn is one, with the kinds its outputs give
    assert [(p.stack_name, p.path) for p in found] == [
        ("Audiences", "Pipeline"),
        ("Twin", "Brand/Pipeline"),
        ("Twin", "Retail"),
    ]
    first = found[0]
    assert first.workflow_arn == arn("states", "stateMachine:PipelineWorkflow")
    assert first.tracker_arn == arn("states", "stateMachine:PipelineTracker")
    assert first.seed_location == "s3://seeds-a/seeds/"
    assert first.output_location == "s3://seeds-a/audiences/"
    assert first.audience_model_arn == arn("cleanrooms-ml", "audience-model/m1")
    assert first.batch_output_location is None
    retail = found[2]
    assert (retail.seed_location, retail.output_location) == (None, "s3://out-r/audiences/")
    assert cloudformation.calls == ["DescribeStacks"] * 3


def test_pipelines_prints_a_table(clients: Clients) -> None:
    # GIVEN the stacks
    scripted(clients)
    # WHEN `audiences pipelines` runs
    code, printed = cli(clients, "pipelines")
    # THEN one line per pipeline under a header, with the workflow's name and locations
    assert code == 0
    lines = printed.splitlines()
    assert lines[0].split() == ["STACK", "PIPELINE", "WORKFLOW", "SEEDS", "OUTPUT"]
    assert lines[1].split() == [
        "Audiences",
        "Pipeline",
        "PipelineWorkflow",
        "s3://seeds-a/seeds/",
        "s3://seeds-a/audiences/",
    ]
    assert lines[3].split() == ["Twin", "Retail", "RetailWorkflow", "-", "s3://out-r/audiences/"]
    assert len(lines) == 4


def test_pipelines_json_has_every_field(clients: Clients) -> None:
    # GIVEN the stacks
    scripted(clients)
    # WHEN `audiences --json pipelines --stack Twin` runs
    code, printed = cli(clients, "--json", "pipelines", "--stack", "Twin")
    # THEN a JSON list of that stack's pipelines, each field of the Pipeline model
    assert code == 0
    found = json.loads(printed)
    assert [p["path"] for p in found] == ["Brand/Pipeline", "Retail"]
    assert set(found[0]) == {
        "stack_name",
        "path",
        "workflow_arn",
        "tracker_arn",
        "seed_location",
        "output_location",
        "dashboard_url",
        "audience_model_arn",
        "configured_audience_model_arn",
        "batch_output_location",
        "association_arn",
        "collaboration_id",
    }


def test_a_pipeline_in_a_collaboration_shows_its_association(clients: Clients) -> None:
    # GIVEN a pipeline whose configured model is associated with a collaboration
    association = arn(
        "cleanrooms",
        "membership/0f8fad5b-d9cb-469f-a165-70867728950e/configuredaudiencemodelassociation/"
        "9a8b7c6d-aaaa-bbbb-cccc-ddddeeeeffff",
    )
    outputs = [
        *pipeline_outputs("Shared", "seeds-s"),
        output("Shared", "ConfiguredAudienceModelAssociationArn", association),
        output("Shared", "CollaborationId", "2b3c4d5e-1111-2222-3333-444455556666"),
    ]
    scripted(clients, [[stack("Shared", outputs)]])
    # WHEN it is found THEN the association and the collaboration are part of it
    found = find_pipeline(clients, "Shared")
    assert found.association_arn == association
    assert found.collaboration_id == "2b3c4d5e-1111-2222-3333-444455556666"
    # AND every kind the library publishes is one the CLI reads
    from constructs_lib._internal.outputs import OUTPUT_KINDS
    from constructs_lib.cli.stack import KINDS

    assert set(KINDS) == set(OUTPUT_KINDS)


def test_pipelines_says_when_there_is_none(clients: Clients) -> None:
    # GIVEN a region whose stacks have none of the library's outputs
    scripted(clients, [[stack("Other", [])]])
    # WHEN the pipelines are listed
    code, printed = cli(clients, "pipelines")
    # THEN it says so, successfully
    assert (code, printed) == (
        0,
        f"no pipeline in {REGION} (no stack outputs of cleanrooms-ml-cdk)\n",
    )


def test_finds_a_stacks_only_pipeline(clients: Clients) -> None:
    # GIVEN a stack with one pipeline
    cloudformation = scripted(clients)
    # WHEN it is looked up by name
    found = find_pipeline(clients, "Audiences")
    # THEN that pipeline, from one DescribeStacks of that stack
    assert (found.stack_name, found.path, found.workflow_name) == (
        "Audiences",
        "Pipeline",
        "PipelineWorkflow",
    )
    assert cloudformation.calls == ["DescribeStacks"]


def test_pipeline_path_chooses_among_several(clients: Clients) -> None:
    # GIVEN a stack with two pipelines
    scripted(clients)
    # WHEN one is named by its path
    found = find_pipeline(clients, "Twin", "Retail")
    # THEN that one
    assert found.workflow_arn == arn("states", "stateMachine:RetailWorkflow")


def failure(clients: Clients, stack_name: str | None, path: str | None = None) -> CliError:
    with pytest.raises(CliError) as caught:
        find_pipeline(clients, stack_name, path)
    return caught.value


def test_fails_if_no_stack_is_given(clients: Clients) -> None:
    # GIVEN no --stack; WHEN a pipeline is looked up; THEN a usage error says which option
    error = failure(clients, None)
    assert error.exit_code == 2
    assert "pass --stack NAME" in str(error)


def test_fails_if_the_stack_does_not_exist(clients: Clients) -> None:
    # GIVEN no stack of that name; WHEN it is looked up
    scripted(clients)
    error = failure(clients, "Nope")
    # THEN the error names the stack and the region
    assert str(error) == f"no stack named 'Nope' in {REGION} (check --region and --profile)"
    assert error.exit_code == 1


def test_fails_if_the_stack_has_none_of_our_outputs(clients: Clients) -> None:
    # GIVEN stacks with other outputs, and none
    scripted(clients)
    # WHEN each is looked up; THEN the error names the stack and the outputs it looked for
    for name in ("Other", "Empty"):
        error = failure(clients, name)
        assert str(error).startswith(
            f"the stack {name!r} has none of the outputs of cleanrooms-ml-cdk "
            "(outputs described 'cleanrooms-ml-cdk:<kind>:<path>')"
        )


def test_fails_if_the_stack_has_no_workflow(clients: Clients) -> None:
    # GIVEN a stack with a tracker's output only; WHEN it is looked up
    scripted(clients)
    error = failure(clients, "TrackerOnly")
    # THEN the error says no WorkflowArn and lists what the stack has
    assert str(error) == (
        "the stack 'TrackerOnly' has cleanrooms-ml-cdk outputs but no WorkflowArn, so no "
        "pipeline (Tracker: JobStatusStateMachineArn)"
    )


def test_fails_if_several_pipelines_and_no_path(clients: Clients) -> None:
    # GIVEN a stack with two pipelines; WHEN it is looked up without --pipeline
    scripted(clients)
    error = failure(clients, "Twin")
    # THEN a usage error lists the paths to choose from
    assert error.exit_code == 2
    assert str(error) == (
        "the stack 'Twin' holds 2 pipelines (Brand/Pipeline, Retail): pass --pipeline PATH"
    )


def test_fails_if_the_path_is_not_a_pipeline(clients: Clients) -> None:
    # GIVEN a stack with two pipelines; WHEN another path is asked for
    scripted(clients)
    error = failure(clients, "Twin", "Brand")
    # THEN the error names the path and the stack's pipelines
    assert str(error) == (
        "the stack 'Twin' has no pipeline at the path 'Brand' (its pipelines: "
        "Brand/Pipeline, Retail)"
    )


def test_fails_if_access_is_denied(clients: Clients, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an identity CloudFormation refuses
    def refuse(params: dict[str, Any]) -> dict[str, Any]:
        raise ServiceError("AccessDenied", "User: x is not authorized to DescribeStacks", 403)

    ScriptedService(clients.cfn, {"DescribeStacks": refuse})
    # WHEN `audiences pipelines` runs
    code, printed = cli(clients, "pipelines")
    # THEN one line on stderr names the operation and AWS's message; exit 1
    assert (code, printed) == (1, "")
    assert capsys.readouterr().err == (
        "audiences: error: access denied to DescribeStacks: User: x is not authorized to "
        "DescribeStacks\n"
    )
