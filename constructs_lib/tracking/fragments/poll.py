"""One poll: route the job by its kind to the call that reads its status, then check it."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..._internal.fragment import Fragment
from ..kinds import EXPORT_KIND, KINDS, UNKNOWN_STATUS, Kind
from .check import StatusCheck, get_status, outcome
from .export_cursor import ExportCursor


class PollByKind(Fragment):
    """Read the job's status once and route it.

    Start state: the Choice ``RouteByKind`` on ``$.kind``: each kind of ``KINDS`` goes to its
    ``Get<kind>`` call (the answer in ``$.result``) and its ``Check<kind>``; the export kind to
    the ``ExportCursor``; any other kind ends as UNKNOWN_STATUS (``UnknownKind``). End states:
    none; a running status goes to ``in_progress``, every other answer, and a call that fails
    after its retries (``<kind>CallFailed``, the error in ``$.error``), sets ``$.end`` and goes
    to ``finish``.

    Expects ``$.kind`` and ``$.arn`` (and ``$.exportName``, ``$.count`` for exports).
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
        route = sfn.Choice(self, "RouteByKind")
        self._bounds(route)
        for kind in KINDS:
            route.when(
                sfn.Condition.string_equals("$.kind", kind.name),
                self._get(kind, in_progress, finish),
            )
        route.when(
            sfn.Condition.string_equals("$.kind", EXPORT_KIND.name),
            ExportCursor(self, "Exports", in_progress=in_progress, finish=finish),
        )
        route.otherwise(
            outcome(
                self,
                "UnknownKind",
                UNKNOWN_STATUS,
                finish,
                "States.Format('unknown kind {}', $.kind)",
            )
        )

    def _get(
        self, kind: Kind, in_progress: sfn.IChainable, finish: sfn.IChainable
    ) -> sfn.IChainable:
        task = get_status(self, f"Get{kind.name}", kind, kind, finish)
        return task.next(
            StatusCheck(
                self, f"Check{kind.name}", kind=kind, in_progress=in_progress, finish=finish
            )
        )
