"""Stack outputs the library publishes, in one format that tools (the ``audiences`` command) read.

Each output's key is the owning construct's path inside its stack with everything but letters
and digits removed, followed by the kind (``LookalikesWorkflowArn``), so it stays the same
from deploy to deploy and from stack to stack; its description is
``cleanrooms-ml-cdk:<kind>:<path inside the stack>``, which says which construct it belongs to
even where two keys would read alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import CfnOutput, Stack
from constructs import Construct

#: First field of every output description the library writes.
OUTPUT_MARKER = "cleanrooms-ml-cdk"
#: The kinds of output, in the order a pipeline lists them.
OUTPUT_KINDS = (
    "WorkflowArn",
    "JobStatusStateMachineArn",
    "SeedLocation",
    "OutputLocation",
    "BatchOutputLocation",
    "DashboardUrl",
    "AudienceModelArn",
    "ConfiguredAudienceModelArn",
    "ConfiguredAudienceModelAssociationArn",
    "CollaborationId",
)


def path_in_stack(owner: Construct) -> str:
    """``owner``'s construct path below its stack (``Team/Lookalikes``)."""
    stack_path = Stack.of(owner).node.path
    return owner.node.path[len(stack_path) + 1 :] if stack_path else owner.node.path


def publish_outputs(owner: Construct, values: Mapping[str, str | None]) -> dict[str, CfnOutput]:
    """One ``CfnOutput`` per value that is not None, under ``owner/Outputs/<kind>``."""
    unknown = sorted(set(values) - set(OUTPUT_KINDS))
    assert not unknown, unknown  # a programming error, not user input
    path = path_in_stack(owner)
    key = re.sub(r"[^A-Za-z0-9]", "", path)
    scope = Construct(owner, "Outputs")
    published = {}
    for kind in OUTPUT_KINDS:
        value = values.get(kind)
        if value is None:
            continue
        output = CfnOutput(scope, kind, value=value, description=f"{OUTPUT_MARKER}:{kind}:{path}")
        output.override_logical_id(f"{key}{kind}")
        published[kind] = output
    return published
