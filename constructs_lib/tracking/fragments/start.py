"""The start of every execution: unwrap a continuation, take an event to the event path, or
set up the polling of a new job."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..._internal.fragment import Fragment
from ..kinds import BEDROCK_KIND
from ..schedule import CONTINUE_AT_EVENTS, START_EVENTS
from .continue_as_new import CARRIED


class StartTracking(Fragment):
    """Route an execution's input to where its tracking starts.

    Start state: the Choice ``Continuing``. A continuation (``{"carried": <state>}``) is
    unwrapped (``TakeCarriedState``), keeps its place in the schedule and the polls it spent
    (``ContinueCounting``) and goes to ``in_progress``. An event execution (``"via": "event"``)
    goes to ``on_event`` (``TriggeredByEvent``). A new job takes its ``$.poll`` from the input
    (``PollingGiven``) or the defaults of its kind (``DefaultPollingFor``: ``BedrockPolling``
    with ``bedrock_schedule`` and ``bedrock_max_polls``, else ``DefaultPolling``), starts
    counting in ``$.count`` (``StartCounting``), sets an empty ``$.result`` (``NoAnswerYet``)
    and goes to ``poll``. End states: none.

    Expects ``{"kind", "arn", "signalUrl"?, "exportName"?, "poll"?}``, an event's
    ``{"kind", "arn", "via": "event", "eventStatus"}`` or a continuation's ``{"carried": ...}``;
    leaves ``$.poll`` (``{"schedule", "maxPolls", "continueAt"}``) and ``$.count``
    (``{"attempt", "last", "events", "item"}``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedule: Sequence[int],
        max_polls: int,
        bedrock_schedule: Sequence[int],
        bedrock_max_polls: int,
        poll: sfn.IChainable,
        in_progress: sfn.IChainable,
        on_event: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        defaults = self._polling("DefaultPolling", schedule, max_polls)
        bedrock_defaults = self._polling("BedrockPolling", bedrock_schedule, bedrock_max_polls)
        counting = sfn.Pass(
            self,
            "StartCounting",
            parameters={
                "attempt": 0,
                "last.$": "States.MathAdd(States.ArrayLength($.poll.schedule), -1)",
                "events": START_EVENTS,
                "item": 0,
            },
            result_path="$.count",
        )
        # A continued execution keeps its place in the schedule, the polls it spent and the
        # last answer; its own history starts afresh.
        continuing = sfn.Pass(
            self,
            "ContinueCounting",
            parameters={
                "attempt.$": "$.count.attempt",
                "last.$": "$.count.last",
                "events": START_EVENTS,
                "item": 0,
            },
            result_path="$.count",
        )
        # The outcome event always carries `result`: empty until a first answer arrives.
        no_answer = sfn.Pass(
            self, "NoAnswerYet", result=sfn.Result.from_object({}), result_path="$.result"
        )
        counting.next(no_answer)
        no_answer.next(poll)
        # A continuation carries the last answer and goes on where its predecessor stopped:
        # waiting for the next poll.
        continuing.next(in_progress)
        bedrock_defaults.next(counting)
        polling_for = (
            sfn.Choice(self, "DefaultPollingFor")
            .when(sfn.Condition.string_equals("$.kind", BEDROCK_KIND.name), bedrock_defaults)
            .otherwise(defaults.next(counting))
        )
        given = (
            sfn.Choice(self, "PollingGiven")
            .when(sfn.Condition.is_present("$.poll"), counting)
            .otherwise(polling_for)
        )
        triggered = (
            sfn.Choice(self, "TriggeredByEvent")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.via"), sfn.Condition.string_equals("$.via", "event")
                ),
                on_event,
            )
            .otherwise(given)
        )
        # A continuation gets its predecessor's whole state under `carried` (beside the
        # parent-execution link Step Functions reads at the top level): unwrap it.
        start = (
            sfn.Choice(self, "Continuing")
            .when(
                sfn.Condition.is_present(f"$.{CARRIED}"),
                sfn.Pass(self, "TakeCarriedState", output_path=f"$.{CARRIED}").next(continuing),
            )
            .otherwise(triggered)
        )
        self._bounds(start)

    def _polling(self, state_id: str, schedule: Sequence[int], max_polls: int) -> sfn.Pass:
        """A Pass that sets ``$.poll`` to a kind's default schedule and poll budget."""
        return sfn.Pass(
            self,
            state_id,
            result=sfn.Result.from_object(
                {
                    "schedule": list(schedule),
                    "maxPolls": max_polls,
                    "continueAt": CONTINUE_AT_EVENTS,
                }
            ),
            result_path="$.poll",
        )
