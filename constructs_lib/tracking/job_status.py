"""The job-status state machine: one Standard state machine per stack that polls every
long-running job the library starts until it ends, publishes the outcome to EventBridge and, when
asked, signals a CloudFormation WaitCondition.

Polling uses Step Functions' AWS SDK integrations (no Lambda runs per poll). The interval grows
from ``initial_interval`` by ``backoff_rate`` up to ``max_interval``; the schedule is computed at
synth time and embedded in the definition (``$.poll``), and an execution may bring its own
(``{"poll": {"schedule": [...], "maxPolls": N, "continueAt": E}}``). Every job's tracking ends
in one outcome event: after ``max_polls`` polls (derived from ``timeout``) it fails as timed
out, a status outside the known sets fails as unknown, and the state machine's own timeout is
the backstop. An execution that nears Step Functions' history limit continues as new (a nested
execution carrying the job and the polls left), so a job is tracked for the whole ``timeout``.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Names, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from .._internal import contract
from .._internal.outputs import publish_outputs
from .._internal.props import check_props
from .._internal.provider import CustomResourceProvider, remember
from .._internal.state_machines import failure_alarm, logged_state_machine
from .._internal.validation import check_int_range, fail, seconds_of
from .bedrock_rule import bedrock_rule
from .fragments.continue_as_new import ContinueAsNew
from .fragments.event_path import BedrockEventPath
from .fragments.finish import FinishTracking
from .fragments.next_poll import NextPoll
from .fragments.poll import PollByKind
from .fragments.start import StartTracking
from .kinds import EVENT_DETAIL_TYPE, EVENT_SOURCE
from .permissions import grant_tracker_permissions
from .schedule import BACKSTOP_MARGIN, MAX_TIMEOUT, max_polls, poll_schedule

__all__ = ["EVENT_DETAIL_TYPE", "EVENT_SOURCE", "JobStatusTracker", "state_machine_arn_of"]

TRACKER_ID = "JobStatusTracker"
_CACHE_ATTRIBUTE = "_cleanrooms_ml_cdk_tracker"


class JobStatusTracker(Construct):
    """The stack's job-status state machine (Standard), created on first use.

    Create it yourself, before the first audience model or job of the stack, to tune polling::

        JobStatusTracker(stack, "JobStatusTracker", initial_interval=Duration.seconds(60))

    Outcome event (default bus): ``source`` = ``cleanrooms-ml-cdk.job-status``, ``detail-type`` =
    ``Tracked Job Finished``, ``detail`` = ``{"kind", "arn", "outcome", "cause",
    "result", "executionArn"}`` where ``result`` is the last ``Get*`` answer (PascalCase, as
    Step Functions returns it) and ``outcome`` is SUCCEEDED, SUCCEEDED_WITH_WARNINGS, FAILED,
    UNKNOWN_STATUS, TIMED_OUT or CALL_FAILED.
    """

    @classmethod
    def of(cls, scope: IConstruct) -> JobStatusTracker:
        """The tracker of ``scope``'s stack, created with defaults on first use."""
        cached = getattr(scope, _CACHE_ATTRIBUTE, None)
        if isinstance(cached, JobStatusTracker):
            return cached
        stack = Stack.of(scope)
        tracker = getattr(stack, _CACHE_ATTRIBUTE, None)
        if not isinstance(tracker, JobStatusTracker):
            found = stack.node.try_find_child(TRACKER_ID)  # the usual id: one cheap lookup
            if isinstance(found, JobStatusTracker):
                tracker = found
            else:  # created by the user under another id, or not yet
                tracker = next(
                    (c for c in stack.node.children if isinstance(c, JobStatusTracker)), None
                ) or cls(stack, TRACKER_ID)
            remember(stack, _CACHE_ATTRIBUTE, tracker)
        remember(scope, _CACHE_ATTRIBUTE, tracker)
        return tracker

    @staticmethod
    def state_machine_name_of(scope: IConstruct) -> str:
        """The state machine's physical name: known before it exists, so the handler can
        reference it without a dependency cycle (the state machine invokes the handler)."""
        stack = Stack.of(scope)
        return f"{Names.unique_resource_name(stack, max_length=60)}-job-status"[:80]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        initial_interval: Duration | None = None,
        backoff_rate: float = 2.0,
        max_interval: Duration | None = None,
        timeout: Duration | None = None,
        event_bus: events.IEventBus | None = None,
        bedrock_events: bool = True,
        bedrock_fallback_interval: Duration | None = None,
        stack_outputs: bool = True,
    ) -> None:
        """
        :param initial_interval:
            wait before the first poll, 1 s-1 h. Default: 30 seconds.
        :param backoff_rate:
            growth of the interval per poll, 1-10. Default: 2.
        :param max_interval: cap of the interval, at least ``initial_interval``, at most 1 h; it
            bounds how late the end of a job is noticed. Default: 5 minutes.
        :param timeout: how long a job is tracked before the execution fails as timed out, up
            to 364 days (the state machine's own timeout, a backstop, is one longest interval
            and an hour later, within Step Functions' 1-year limit). Default: 8 days (Bedrock
            batch jobs may run 168 hours).
        :param event_bus:
            where outcome events go. Default: the account's default bus.
        :param bedrock_events: end Bedrock batch jobs on Bedrock's "Batch Inference Job State
            Change" events (an EventBridge rule starts a short execution that reads the final
            status and stops the polling one), and poll them only sparsely as a fallback.
            Default: True.
        :param bedrock_fallback_interval: the sparse poll interval of Bedrock jobs when events
            are on, 1 min to 2 h; it bounds the delay of a lost event. Default: 35 minutes
            (a 24 h job then costs at most 42 polls + 1 call per event).
        :param stack_outputs:
            publish the state machine's ARN as the stack output
            ``<path>JobStatusStateMachineArn`` (see ``outputs``). Default: True.
        """
        super().__init__(scope, construct_id)
        check_props(self, JobStatusTracker.__init__, locals())
        stack = Stack.of(self)
        if any(isinstance(c, JobStatusTracker) and c is not self for c in stack.node.children):
            raise fail(
                self,
                "construct",
                self.node.path,
                "a stack has one job-status tracker: create it before the first audience "
                "model or job, and only once",
            )
        remember(stack, _CACHE_ATTRIBUTE, self)
        initial = seconds_of(self, "initial_interval", initial_interval or Duration.seconds(30))
        maximum = seconds_of(self, "max_interval", max_interval or Duration.minutes(5))
        overall = seconds_of(self, "timeout", timeout or Duration.days(8))
        check_int_range(self, "initial_interval (seconds)", int(initial), minimum=1, maximum=3600)
        check_int_range(self, "max_interval (seconds)", int(maximum), minimum=1, maximum=3600)
        if maximum < initial:
            raise fail(
                self,
                "max_interval",
                f"{maximum:g} seconds",
                f"must be at least initial_interval ({initial:g} seconds): polling starts at "
                "initial_interval and grows up to max_interval",
            )
        check_int_range(self, "timeout (seconds)", int(overall), minimum=1, maximum=MAX_TIMEOUT)
        if overall < maximum:
            raise fail(
                self,
                "timeout",
                f"{overall:g} seconds",
                f"must be at least max_interval ({maximum:g} seconds), or no poll would fit",
            )
        if not 1.0 <= backoff_rate <= 10.0:
            raise fail(self, "backoff_rate", backoff_rate, "must be between 1 and 10")
        self.schedule = poll_schedule(int(initial), backoff_rate, int(maximum))
        self.max_polls = max_polls(self.schedule, int(overall))
        self.bedrock_events = bedrock_events
        fallback = seconds_of(
            self, "bedrock_fallback_interval", bedrock_fallback_interval or Duration.minutes(35)
        )
        check_int_range(
            self, "bedrock_fallback_interval (seconds)", fallback, minimum=60, maximum=7200
        )
        self.bedrock_schedule = [fallback] if bedrock_events else self.schedule
        self.bedrock_max_polls = max_polls(self.bedrock_schedule, int(overall))
        self.timeout = Duration.seconds(overall)
        # The poll budget runs out at or just after `timeout` (its last wait may end up to one
        # interval later, plus the calls and their retries), and the first execution of a
        # continued chain stays open until its last one ends: the state machine's own timeout
        # is a backstop one longest interval and an hour beyond, so a job that outlives
        # `timeout` ends as TIMED_OUT with its event, never by the backstop.
        longest = max(*self.schedule, *self.bedrock_schedule)
        self.backstop = Duration.seconds(overall + longest + BACKSTOP_MARGIN)

        provider = CustomResourceProvider.of(self)
        self.event_bus = event_bus or events.EventBus.from_event_bus_name(
            self, "DefaultBus", "default"
        )
        self.state_machine, self.log_group, self._permissions = logged_state_machine(
            self,
            name=self.state_machine_name_of(self),
            definition=self._definition(provider),
            timeout=self.backstop,
            logs_key=provider.logs_key,
            role_description="Job-status state machine: polls job status, publishes events",
        )
        grant_tracker_permissions(
            self,
            self._permissions,
            state_machine_name=self.state_machine_name_of(self),
            state_machine_arn=state_machine_arn_of(self),
            event_bus=self.event_bus,
            signal_handler=provider.handler,
        )
        self.failure_alarm = failure_alarm(
            self,
            self.state_machine,
            "A tracked Clean Rooms ML or Bedrock job failed, timed out, or could not be tracked "
            "(job-status state machine executions failed or timed out).",
            aborted=False,  # the Bedrock event path stops pollers on purpose
        )
        self.bedrock_rule = bedrock_rule(self, self.state_machine) if bedrock_events else None
        # The handler starts one execution per asynchronous object it creates.
        provider.handler.add_environment(contract.STATE_MACHINE_ENV, state_machine_arn_of(self))
        provider.allow(["states:StartExecution"], [state_machine_arn_of(self)])
        #: The stack outputs published, by kind (empty with ``stack_outputs=False``).
        self.outputs = (
            publish_outputs(self, {"JobStatusStateMachineArn": self.state_machine_arn})
            if stack_outputs
            else {}
        )

    @property
    def state_machine_arn(self) -> str:
        """The state machine's ARN."""
        return self.state_machine.state_machine_arn

    def _definition(self, provider: CustomResourceProvider) -> sfn.IChainable:
        """The definition, wired from its fragments (``fragments/``). The order matters to the
        rendered definition: each state lists the states that lead to it in the order they
        were connected, so the fragments are built in the order the states were first
        written (the end, the continuation, the wait, the poll, the event path, the start)."""
        finish = FinishTracking(
            self, "Finish", event_bus=self.event_bus, signal_handler=provider.handler
        )
        continuation = ContinueAsNew(
            self, "ContinueAsNew", state_machine_arn=state_machine_arn_of(self), finish=finish
        )
        in_progress = NextPoll(self, "NextPoll", finish=finish, continue_as_new=continuation)
        poll = PollByKind(self, "Poll", in_progress=in_progress, finish=finish)
        # Before StartTracking: RouteByKind lists WaitBeforeNextPoll before NoAnswerYet.
        in_progress.next(poll)
        event_path = BedrockEventPath(
            self, "EventPath", state_machine_name=self.state_machine_name_of(self), finish=finish
        )
        return StartTracking(
            self,
            "Start",
            schedule=self.schedule,
            max_polls=self.max_polls,
            bedrock_schedule=self.bedrock_schedule,
            bedrock_max_polls=self.bedrock_max_polls,
            poll=poll,
            in_progress=in_progress,
            on_event=event_path,
        )


def state_machine_arn_of(scope: IConstruct) -> str:
    """The ARN of the stack's job-status state machine, from its known name."""
    return Stack.of(scope).format_arn(
        service="states",
        resource="stateMachine",
        resource_name=JobStatusTracker.state_machine_name_of(scope),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
