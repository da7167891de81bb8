"""Polling an export job: list the generation job's exports and find the requested one."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal.fragment import Fragment
from ..kinds import EXPORT_KIND
from ..schedule import EVENTS_PER_SKIPPED_EXPORT
from .check import StatusCheck, handle_errors


class ExportCursor(Fragment):
    """Export jobs have no Get call: list the generation job's exports and find the name.

    The list is walked one item at a time with ``States.ArrayGetItem`` (a cursor in
    ``$.count.item``), so the result has one shape whatever the number of exports: no
    wildcard path, whose rendering of zero or one match differs between interpreters.

    Start state: the task ``ListAUDIENCE_EXPORT_JOB`` (``ListAudienceExportJobs`` of ``$.arn``,
    one page of 100, kept in ``$.listed``). Then ``ExportsLeft`` / ``PickListedExport`` /
    ``IsRequestedExport`` / ``NextListedExport`` walk the list (each skipped export charged
    ``EVENTS_PER_SKIPPED_EXPORT`` in ``$.count.events``); the export named ``$.exportName`` is
    taken into ``$.result`` (``TakeExport``) and checked (``CheckAUDIENCE_EXPORT_JOB``). End
    states: none; an export not listed (yet) or running goes to ``in_progress``, every other
    answer and a failed call (``AUDIENCE_EXPORT_JOBCallFailed``) to ``finish``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        in_progress: sfn.IChainable,
        finish: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        kind = EXPORT_KIND
        listed = tasks.CallAwsService(
            self,
            f"List{kind.name}",
            service=kind.service,
            action=kind.action,
            iam_action=kind.iam_action,
            iam_resources=["*"],
            parameters={"AudienceGenerationJobArn.$": "$.arn", "MaxResults": 100},
            result_selector={
                "jobs.$": "$.AudienceExportJobs",
                "length.$": "States.ArrayLength($.AudienceExportJobs)",
            },
            result_path="$.listed",
        )
        self._bounds(listed)
        handle_errors(self, listed, kind, finish)
        take = sfn.Pass(
            self, "TakeExport", input_path="$.listed.pick.current", result_path="$.result"
        ).next(
            StatusCheck(
                self, f"Check{kind.name}", kind=kind, in_progress=in_progress, finish=finish
            )
        )
        more = sfn.Choice(self, "ExportsLeft")
        skip = sfn.Pass(
            self,
            "NextListedExport",
            parameters={
                "attempt.$": "$.count.attempt",
                "last.$": "$.count.last",
                "events.$": f"States.MathAdd($.count.events, {EVENTS_PER_SKIPPED_EXPORT})",
                "item.$": "States.MathAdd($.count.item, 1)",
            },
            result_path="$.count",
        ).next(more)
        pick = sfn.Pass(
            self,
            "PickListedExport",
            parameters={"current.$": "States.ArrayGetItem($.listed.jobs, $.count.item)"},
            result_path="$.listed.pick",
        ).next(
            sfn.Choice(self, "IsRequestedExport")
            .when(
                sfn.Condition.string_equals_json_path("$.listed.pick.current.Name", "$.exportName"),
                take,
            )
            .otherwise(skip)
        )
        more.when(
            sfn.Condition.number_less_than_json_path("$.count.item", "$.listed.length"), pick
        ).otherwise(in_progress)
        listed.next(more)
