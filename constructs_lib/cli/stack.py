"""Find what the library deployed from the stack outputs it publishes.

Every output the library creates is described ``cleanrooms-ml-cdk:<kind>:<path>``: ``<path>``
is the owning construct's path inside the stack, ``<kind>`` what the value is (``WorkflowArn``,
``SeedLocation``...). A *pipeline* here is the outputs sharing one path that include a
``WorkflowArn`` (a ``LookalikeAudiencePipeline``, or an ``AudienceGenerationWorkflow`` on its
own). ``audiences pipelines`` lists those of every stack of the account and region.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .aws import Clients, CliError
from .render import table

if TYPE_CHECKING:
    from .render import Output

#: How the library describes its outputs (the contract of the constructs' CfnOutputs).
DESCRIPTION = re.compile(r"^cleanrooms-ml-cdk:(?P<kind>[A-Za-z]+):(?P<path>.+)$")
#: Output kind -> Pipeline field.
KINDS = {
    "WorkflowArn": "workflow_arn",
    "JobStatusStateMachineArn": "tracker_arn",
    "SeedLocation": "seed_location",
    "OutputLocation": "output_location",
    "DashboardUrl": "dashboard_url",
    "AudienceModelArn": "audience_model_arn",
    "ConfiguredAudienceModelArn": "configured_audience_model_arn",
    "BatchOutputLocation": "batch_output_location",
    "ConfiguredAudienceModelAssociationArn": "association_arn",
    "CollaborationId": "collaboration_id",
}


@dataclass(frozen=True)
class Pipeline:
    """One deployed workflow and what was deployed with it, as its stack's outputs say
    (``None``: the stack has no such output for it)."""

    stack_name: str
    path: str
    workflow_arn: str
    tracker_arn: str | None = None
    seed_location: str | None = None
    output_location: str | None = None
    dashboard_url: str | None = None
    audience_model_arn: str | None = None
    configured_audience_model_arn: str | None = None
    batch_output_location: str | None = None
    #: The configured model's association with a collaboration, and that collaboration's id.
    association_arn: str | None = None
    collaboration_id: str | None = None

    @property
    def workflow_name(self) -> str:
        """The workflow state machine's name (the last part of its ARN)."""
        return self.workflow_arn.rsplit(":", 1)[-1]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def library_outputs(outputs: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The library's outputs among a stack's: ``{path: {kind: value}}``."""
    found: dict[str, dict[str, str]] = {}
    for output in outputs:
        match = DESCRIPTION.match(str(output.get("Description", "")))
        if match is None or "OutputValue" not in output:
            continue
        found.setdefault(match["path"], {})[match["kind"]] = str(output["OutputValue"])
    return found


def pipelines_of(stack: Mapping[str, Any]) -> list[Pipeline]:
    """The pipelines of one stack (``DescribeStacks``' description of it), by path."""
    name = str(stack["StackName"])
    pipelines = []
    for path, kinds in sorted(library_outputs(stack.get("Outputs") or []).items()):
        if "WorkflowArn" not in kinds:
            continue
        fields = {KINDS[kind]: value for kind, value in kinds.items() if kind in KINDS}
        pipelines.append(Pipeline(stack_name=name, path=path, **fields))
    return pipelines


def list_pipelines(clients: Clients) -> list[Pipeline]:
    """The pipelines of every stack of the account and region."""
    found: list[Pipeline] = []
    for page in clients.cfn.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            found += pipelines_of(stack)
    return found


def find_pipeline(clients: Clients, stack_name: str | None, path: str | None = None) -> Pipeline:
    """The pipeline of ``stack_name`` (``path`` chooses among several); a ``CliError`` naming
    what is missing otherwise."""
    if not stack_name:
        raise CliError(
            "which stack? pass --stack NAME (audiences pipelines lists the stacks with a pipeline)",
            2,
        )
    try:
        stacks = clients.cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        info = error.response.get("Error", {})
        if info.get("Code") == "ValidationError" and "does not exist" in str(info.get("Message")):
            raise CliError(
                f"no stack named {stack_name!r} in {clients.region} (check --region and --profile)"
            ) from None
        raise
    if not stacks:
        raise CliError(f"no stack named {stack_name!r} in {clients.region}")
    stack = stacks[0]
    pipelines = pipelines_of(stack)
    if not pipelines:
        kinds = library_outputs(stack.get("Outputs") or [])
        if not kinds:
            raise CliError(
                f"the stack {stack_name!r} has none of the outputs of cleanrooms-ml-cdk "
                "(outputs described 'cleanrooms-ml-cdk:<kind>:<path>'): is it a stack with a "
                "LookalikeAudiencePipeline or an AudienceGenerationWorkflow, deployed with a "
                "library version that publishes them?"
            )
        held = "; ".join(f"{p}: {', '.join(sorted(k))}" for p, k in sorted(kinds.items()))
        raise CliError(
            f"the stack {stack_name!r} has cleanrooms-ml-cdk outputs but no WorkflowArn, so no "
            f"pipeline ({held})"
        )
    if path is not None:
        chosen = [p for p in pipelines if p.path == path]
        if not chosen:
            raise CliError(
                f"the stack {stack_name!r} has no pipeline at the path {path!r} "
                f"(its pipelines: {_paths(pipelines)})"
            )
        return chosen[0]
    if len(pipelines) > 1:
        raise CliError(
            f"the stack {stack_name!r} holds {len(pipelines)} pipelines ({_paths(pipelines)}): "
            "pass --pipeline PATH",
            2,
        )
    return pipelines[0]


def _paths(pipelines: Sequence[Pipeline]) -> str:
    return ", ".join(p.path for p in pipelines)


def pipeline_of(args: argparse.Namespace, clients: Clients) -> Pipeline:
    """The pipeline ``--stack`` and ``--pipeline`` name."""
    return find_pipeline(clients, getattr(args, "stack", None), getattr(args, "pipeline", None))


def cmd_pipelines(args: argparse.Namespace, clients: Clients, out: Output) -> int:
    """``audiences pipelines``: the pipelines of the account and region."""
    pipelines = list_pipelines(clients)
    if args.stack:
        pipelines = [p for p in pipelines if p.stack_name == args.stack]
    if out.json:
        out.emit([p.as_json() for p in pipelines])
        return 0
    if not pipelines:
        where = f"the stack {args.stack!r}" if args.stack else clients.region
        out.print(f"no pipeline in {where} (no stack outputs of cleanrooms-ml-cdk)")
        return 0
    rows = [["STACK", "PIPELINE", "WORKFLOW", "SEEDS", "OUTPUT"]]
    rows += [
        [
            p.stack_name,
            p.path,
            p.workflow_name,
            p.seed_location or "-",
            p.output_location or "-",
        ]
        for p in pipelines
    ]
    out.print(table(rows))
    return 0
