"""Between two polls: continue as new near the history limit, time out when the poll budget is
spent, else pick the next interval, count the poll and wait."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..._internal.fragment import Fragment
from ..kinds import TIMED_OUT
from ..schedule import CONTINUE_AT_EVENTS, EVENTS_CHARGED_PER_POLL
from .check import outcome


class NextPoll(Fragment):
    """What a running job's tracking does before its next poll.

    Start state: the Choice ``HistoryRoomLeft``: once ``$.count.events`` reaches
    ``$.poll.continueAt`` (default ``CONTINUE_AT_EVENTS``) it goes to ``continue_as_new``.
    Else ``PollBudgetLeft``: once ``$.count.attempt`` reaches ``$.poll.maxPolls`` the job ends
    as TIMED_OUT (``StatusSeen`` -> ``TimedOut`` / ``TimedOutUnseen``, then ``finish``). Else
    ``PickInterval`` takes the next wait from ``$.poll.schedule`` (``RampInterval`` while the
    schedule grows, then ``MaxInterval``) into ``$.interval``, ``CountPoll`` counts the poll and
    charges its history events in ``$.count``, and ``WaitBeforeNextPoll`` waits.

    End state: ``WaitBeforeNextPoll``; chain the next poll on (the tracker chains
    ``PollByKind``). Expects ``$.poll`` and ``$.count`` (set by ``StartTracking``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        finish: sfn.IChainable,
        continue_as_new: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        wait = sfn.Wait(
            self, "WaitBeforeNextPoll", time=sfn.WaitTime.seconds_path("$.interval.seconds")
        )
        count = sfn.Pass(
            self,
            "CountPoll",
            parameters={
                "attempt.$": "States.MathAdd($.count.attempt, 1)",
                "last.$": "$.count.last",
                "events.$": f"States.MathAdd($.count.events, {EVENTS_CHARGED_PER_POLL})",
                "item": 0,
            },
            result_path="$.count",
        )
        count.next(wait)
        ramp = sfn.Pass(
            self,
            "RampInterval",
            parameters={"seconds.$": "States.ArrayGetItem($.poll.schedule, $.count.attempt)"},
            result_path="$.interval",
        ).next(count)
        cap = sfn.Pass(
            self,
            "MaxInterval",
            parameters={"seconds.$": "States.ArrayGetItem($.poll.schedule, $.count.last)"},
            result_path="$.interval",
        ).next(count)
        pick = (
            sfn.Choice(self, "PickInterval")
            .when(sfn.Condition.number_less_than_json_path("$.count.attempt", "$.count.last"), ramp)
            .otherwise(cap)
        )
        timed_out = (
            sfn.Choice(self, "StatusSeen")
            .when(
                sfn.Condition.is_present("$.result.Status"),
                outcome(
                    self,
                    "TimedOut",
                    TIMED_OUT,
                    finish,
                    "States.Format('still {} after {} polls; the job is no longer tracked', "
                    "$.result.Status, $.count.attempt)",
                ),
            )
            .otherwise(
                outcome(
                    self,
                    "TimedOutUnseen",
                    TIMED_OUT,
                    finish,
                    "States.Format('not listed after {} polls; the job is no longer tracked', "
                    "$.count.attempt)",
                )
            )
        )
        budget = (
            sfn.Choice(self, "PollBudgetLeft")
            .when(
                sfn.Condition.number_greater_than_equals_json_path(
                    "$.count.attempt", "$.poll.maxPolls"
                ),
                timed_out,
            )
            .otherwise(pick)
        )
        # An execution given its own `poll` without `continueAt` continues at the default.
        given = "$.poll.continueAt"
        history = (
            sfn.Choice(self, "HistoryRoomLeft")
            .when(
                sfn.Condition.or_(
                    sfn.Condition.and_(
                        sfn.Condition.is_present(given),
                        sfn.Condition.number_greater_than_equals_json_path("$.count.events", given),
                    ),
                    sfn.Condition.and_(
                        sfn.Condition.is_not_present(given),
                        sfn.Condition.number_greater_than_equals(
                            "$.count.events", CONTINUE_AT_EVENTS
                        ),
                    ),
                ),
                continue_as_new,
            )
            .otherwise(budget)
        )
        self._bounds(history, [wait])
