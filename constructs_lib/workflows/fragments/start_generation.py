"""Start the run's audience generation job (``StartAudienceGenerationJob``)."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal.fragment import Fragment
from ..._internal.state_machines import retry_on_quota, retry_with_jitter, transient_errors
from .publish_outcome import catch_call

#: Members of the checked request the start call passes on (PascalCase, as Step Functions'
#: SDK integrations take them); ``CollaborationId`` only when the request has one.
GENERATION_FIELDS = (
    "Name",
    "ConfiguredAudienceModelArn",
    "SeedAudience",
    "IncludeSeedInOutput",
    "Description",
    "Tags",
)


class StartGeneration(Fragment):
    """Start the audience generation job the plan describes.

    Start state: the ``InCollaboration`` choice: ``StartGenerationJobInCollaboration`` when the
    request has a ``CollaborationId``, else ``StartGenerationJob`` (a path to an absent member
    would fail the task). Ends: those two tasks.

    Throttling and server errors are retried with jitter; a full quota of jobs in flight
    (``ServiceQuotaExceededException``) waits for room for ``quota_wait`` seconds on average;
    any other error ends the run (through ``publish``) as CALL_FAILED, step ``generation``.

    Expects in the state: ``$.plan.request`` (the checked ``StartAudienceGenerationJob``
    request, PascalCase). Leaves: ``$.generation.arn`` (the job's ARN).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, quota_wait: int, publish: sfn.IChainable
    ) -> None:
        super().__init__(scope, construct_id)

        def start(state_id: str, extra: tuple[str, ...]) -> tasks.CallAwsService:
            task = tasks.CallAwsService(
                self,
                state_id,
                service="cleanroomsml",
                action="startAudienceGenerationJob",
                iam_action="cleanrooms-ml:StartAudienceGenerationJob",
                iam_resources=["*"],  # the role ignores task grants; see permissions.py
                parameters={
                    f"{field}.$": f"$.plan.request.{field}"
                    for field in (*GENERATION_FIELDS, *extra)
                },
                result_selector={"arn.$": "$.AudienceGenerationJobArn"},
                result_path="$.generation",
            )
            retry_with_jitter(task, transient_errors("cleanroomsml"), 6)
            retry_on_quota(task, "cleanroomsml", quota_wait)
            catch_call(self, task, state_id, "generation", publish)
            return task

        self._choice = (
            sfn.Choice(self, "InCollaboration")
            .when(
                sfn.Condition.is_present("$.plan.request.CollaborationId"),
                start("StartGenerationJobInCollaboration", ("CollaborationId",)),
            )
            .otherwise(start("StartGenerationJob", ()))
        )
        self._bounds(self._choice, self._choice.afterwards().end_states)
