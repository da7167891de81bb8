"""Export the generated audience in each configured size, tracking each export to its end."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal import contract
from ..._internal.fragment import Fragment
from ..._internal.state_machines import retry_on_quota, retry_with_jitter, transient_errors
from .track_job import TrackJob


class ExportSizes(Fragment):
    """One ``StartAudienceExportJob`` per planned export, at most ``max_concurrency`` at once.

    Start state: the ``ExportAudience`` Map over ``$.plan.exports``; each iteration runs
    ``StartExport`` (retried with jitter on throttling, waiting for room when the account's
    quota of export jobs is full), then ``TrackExport`` (a ``TrackJob``), then ``ExportDone``. An
    export already started by a retried run (``ConflictException``) is tracked, not started
    again. Ends: the Map.

    An iteration fails with the tracker's outcome as its error name (CALL_FAILED when the start
    call failed) and its cause; the Map's catcher ``ExportFailed`` then ends the run (through
    ``publish``) with that outcome, step ``export``.

    Expects in the state: ``$.plan.exports`` (``Name``, ``AudienceSize``, ``Description`` of
    each export) and ``$.generation.arn``. Leaves: ``$.exports``, one ``{"name", "status"}`` per
    export.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tracker: sfn.IStateMachine,
        max_concurrency: int,
        quota_wait: int,
        publish: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        start = tasks.CallAwsService(
            self,
            "StartExport",
            service="cleanroomsml",
            action="startAudienceExportJob",
            iam_action="cleanrooms-ml:StartAudienceExportJob",
            iam_resources=["*"],
            parameters={
                "Name.$": "$.export.Name",
                "AudienceGenerationJobArn.$": "$.arn",
                "AudienceSize.$": "$.export.AudienceSize",
                "Description.$": "$.export.Description",
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        retry_with_jitter(start, transient_errors("cleanroomsml"), 6)
        retry_on_quota(start, "cleanroomsml", quota_wait)
        track = TrackJob(
            self,
            "TrackExport",
            tracker=tracker,
            tracker_input={
                "kind": contract.KIND_AUDIENCE_EXPORT_JOB,
                "arn.$": "$.arn",
                "exportName.$": "$.export.Name",
            },
            result_path="$.tracking",
            step="export",
            publish=None,
        )
        # A retried run finds its export already started: track it.
        start.add_catch(
            track, errors=["CleanRoomsMl.ConflictException"], result_path=sfn.JsonPath.DISCARD
        )
        start.add_catch(
            sfn.Fail(self, "StartExportFailed", error="CALL_FAILED", cause_path="$.error.Cause"),
            errors=["States.ALL"],
            result_path="$.error",
        )
        start.next(track).next(
            sfn.Pass(
                self,
                "ExportDone",
                parameters={"name.$": "$.export.Name", "status.$": "$.tracking.status"},
            )
        )
        self._map = sfn.Map(
            self,
            "ExportAudience",
            items_path="$.plan.exports",
            item_selector={"export.$": "$$.Map.Item.Value", "arn.$": "$.generation.arn"},
            max_concurrency=max_concurrency,
            result_path="$.exports",
        )
        self._map.item_processor(start)
        # An iteration fails with the tracker's outcome as its error name and cause.
        self._map.add_catch(
            sfn.Pass(
                self,
                "ExportFailed",
                parameters={
                    "outcome.$": "$.error.Error",
                    "cause.$": "$.error.Cause",
                    "step": "export",
                },
                result_path="$.end",
            ).next(publish),
            errors=["States.ALL"],
            result_path="$.error",
        )
        self._bounds(self._map, [self._map])
