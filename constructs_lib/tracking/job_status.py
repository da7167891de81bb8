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

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, Names, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct, IConstruct

from .._internal import contract
from .._internal.provider import CustomResourceProvider, remember
from .._internal.state_machines import (
    any_of,
    failure_alarm,
    logged_state_machine,
    publish_event,
    read_nested_failure,
    retry_with_jitter,
    rule_with_role,
    transient_errors,
)
from .._internal.validation import check_int_range, fail

TRACKER_ID = "JobStatusTracker"
_CACHE_ATTRIBUTE = "_cleanrooms_ml_cdk_tracker"

#: EventBridge ``source`` and ``detail-type`` of the event published when a tracked job ends.
EVENT_SOURCE = "cleanrooms-ml-cdk.job-status"
EVENT_DETAIL_TYPE = "Tracked Job Finished"

#: Outcomes (the event's ``detail.outcome``; the failed execution's error name).
SUCCEEDED = "SUCCEEDED"
SUCCEEDED_WITH_WARNINGS = "SUCCEEDED_WITH_WARNINGS"
FAILED = "FAILED"
UNKNOWN_STATUS = "UNKNOWN_STATUS"
TIMED_OUT = "TIMED_OUT"
CALL_FAILED = "CALL_FAILED"


@dataclass(frozen=True)
class _Kind:
    name: str
    service: str
    action: str
    iam_action: str
    arn_parameter: str
    in_progress: Sequence[str]
    succeeded: Sequence[str]
    failed: Sequence[str]
    warning: Sequence[str] = ()
    message_path: str = "$.result.StatusDetails.Message"


_CLEAN_ROOMS_ML_IN_PROGRESS = ("CREATE_PENDING", "CREATE_IN_PROGRESS")
_CLEAN_ROOMS_ML_FAILED = ("CREATE_FAILED", "DELETE_PENDING", "DELETE_IN_PROGRESS", "DELETE_FAILED")

BEDROCK_KIND = _Kind(
    contract.KIND_BEDROCK_BATCH_INFERENCE_JOB,
    "bedrock",
    "getModelInvocationJob",
    "bedrock:GetModelInvocationJob",
    "JobIdentifier",
    ("Submitted", "Validating", "Scheduled", "InProgress", "Stopping"),
    ("Completed",),
    ("Failed", "Stopped", "Expired"),
    warning=("PartiallyCompleted",),
    message_path="$.result.Message",
)

KINDS = (
    _Kind(
        contract.KIND_AUDIENCE_MODEL,
        "cleanroomsml",
        "getAudienceModel",
        "cleanrooms-ml:GetAudienceModel",
        "AudienceModelArn",
        _CLEAN_ROOMS_ML_IN_PROGRESS,
        ("ACTIVE",),
        _CLEAN_ROOMS_ML_FAILED,
    ),
    _Kind(
        contract.KIND_AUDIENCE_GENERATION_JOB,
        "cleanroomsml",
        "getAudienceGenerationJob",
        "cleanrooms-ml:GetAudienceGenerationJob",
        "AudienceGenerationJobArn",
        _CLEAN_ROOMS_ML_IN_PROGRESS,
        ("ACTIVE",),
        _CLEAN_ROOMS_ML_FAILED,
    ),
    BEDROCK_KIND,
)

EXPORT_KIND = _Kind(
    contract.KIND_AUDIENCE_EXPORT_JOB,
    "cleanroomsml",
    "listAudienceExportJobs",
    "cleanrooms-ml:ListAudienceExportJobs",
    "AudienceGenerationJobArn",
    _CLEAN_ROOMS_ML_IN_PROGRESS,
    ("ACTIVE",),
    ("CREATE_FAILED",),
)

#: The event path checks a Bedrock job's status like the poller, under its own state names.
_EVENT_KIND = dataclasses.replace(BEDROCK_KIND, name="EVENT_" + BEDROCK_KIND.name)


#: State transitions of one execution: the start states, each poll, each further polling loop
#: and the end states (a test counts them in a real execution of the definition).
START_TRANSITIONS = 5  # Continuing, TriggeredByEvent, PollingGiven, StartCounting, NoAnswerYet
FIRST_POLL_TRANSITIONS = 3  # RouteByKind, Get<kind>, Check<kind>
#: HistoryRoomLeft, PollBudgetLeft, PickInterval, Ramp/MaxInterval, CountPoll, Wait, Route,
#: Get, Check
LOOP_TRANSITIONS = 9
END_TRANSITIONS = 5  # outcome Pass, PublishOutcome, SignalRequested, Outcome, Succeed/Fail

#: Step Functions keeps at most 25,000 events in an execution's history and fails an execution
#: that reaches it ("Step Functions service quotas", https://docs.aws.amazon.com/step-functions/
#: latest/dg/service-quotas.html). A tracking execution counts the events it writes and, before
#: it nears the limit, continues as new: it starts a fresh execution of the tracker carrying the
#: job and the poll budget left, and waits for it ("Continue long-running workflows using Step
#: Functions API", https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-continue-new.html).
HISTORY_EVENT_LIMIT = 25_000
#: History events one further poll of a ``Get*`` kind writes: 8 states entered and exited,
#: plus the SDK task's entered, scheduled, started, succeeded and exited events (a test counts
#: them in a real execution).
EVENTS_PER_POLL = 21
#: Further events of an export poll that finds its export first in the list (a test counts
#: them): the list cursor, the pick, the name check and the take.
EVENTS_PER_EXPORT_POLL = EVENTS_PER_POLL + 8
#: Events of each other export listed before the requested one (a test counts them).
EVENTS_PER_SKIPPED_EXPORT = 8
#: What each poll is charged: the larger poll, plus room for two retried calls (3 events each)
#: on average.
EVENTS_CHARGED_PER_POLL = EVENTS_PER_EXPORT_POLL + 6
#: Events charged for the start states.
START_EVENTS = 20
#: An execution continues as new once it has written this many events: room is left for one
#: more poll listing 100 exports (the page size), the end states and the continuation itself.
CONTINUE_AT_EVENTS = HISTORY_EVENT_LIMIT - 1_000
#: Room between the end of the poll budget and the state machine's own timeout (the backstop),
#: besides the longest poll interval: the calls and their retries (6 attempts, 60 s at most).
BACKSTOP_MARGIN = 3600
#: The longest ``timeout``: the backstop (plus up to 2 hours of interval and the margin) must
#: stay within Step Functions' 1-year limit on a Standard execution ("Step Functions service
#: quotas", https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
MAX_TIMEOUT = 364 * 86400
#: Polls one tracking execution makes before it continues as new (the charged figure).
POLLS_PER_EXECUTION = (CONTINUE_AT_EVENTS - START_EVENTS) // EVENTS_CHARGED_PER_POLL

#: An event execution that concludes a tracked Bedrock job: Continuing, TriggeredByEvent,
#: DescribePoller, PollerRunning, NoAnswerBeforeEvent, GetAfterEvent, EndedPerEvent, StopPoller,
#: Check, the outcome Pass and the 4 end states.
EVENT_TRANSITIONS = 14

#: Where a continuation's input holds its predecessor's state.
CARRIED = "carried"


def transitions_for(polls: int, *, default_polling: bool = True, signal: bool = False) -> int:
    """State transitions of an execution that polls ``polls`` times."""
    start = START_TRANSITIONS + (2 if default_polling else 0)  # DefaultPollingFor, *Polling
    return (
        start
        + FIRST_POLL_TRANSITIONS
        + LOOP_TRANSITIONS * (polls - 1)
        + END_TRANSITIONS
        + (1 if signal else 0)
    )


def poll_times(schedule: Sequence[int], until: float) -> list[float]:
    """Seconds after the start at which each poll happens, up to the first at or after ``until``."""
    times, now, index = [0.0], 0.0, 0
    while now < until:
        now += schedule[min(index, len(schedule) - 1)]
        index += 1
        times.append(now)
    return times


def poll_schedule(initial: int, rate: float, maximum: int) -> list[int]:
    """Wait seconds before each poll: ``initial`` growing by ``rate``, capped, ending at the cap."""
    schedule = [initial]
    while schedule[-1] < maximum:
        schedule.append(min(maximum, max(schedule[-1] + 1, math.ceil(schedule[-1] * rate))))
    return schedule


def max_polls(schedule: Sequence[int], timeout_seconds: int) -> int:
    """Polls that fit in ``timeout_seconds`` with ``schedule`` (then the last interval repeats)."""
    elapsed, polls = 0, 0
    while elapsed < timeout_seconds:
        elapsed += schedule[min(polls, len(schedule) - 1)]
        polls += 1
    return polls


class JobStatusTracker(Construct):
    """The stack's job-status state machine (Standard), created on first use.

    Create it yourself, before the first audience model or job of the stack, to tune polling::

        JobStatusTracker(stack, "JobStatusTracker", initial_interval=Duration.seconds(60))

    Outcome event (default bus): ``source`` = ``cleanrooms-ml-cdk.job-status``, ``detail-type`` =
    ``Tracked Job Finished``, ``detail`` = ``{"kind", "arn", "outcome", "status", "cause",
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
    ) -> None:
        """
        :param initial_interval: wait before the first poll, 1 s-1 h. Default: 30 seconds.
        :param backoff_rate: growth of the interval per poll, 1-10. Default: 2.
        :param max_interval: cap of the interval, at least ``initial_interval``, at most 1 h; it
            bounds how late the end of a job is noticed. Default: 5 minutes.
        :param timeout: how long a job is tracked before the execution fails as timed out, up
            to 364 days (the state machine's own timeout, a backstop, is one longest interval
            and an hour later, within Step Functions' 1-year limit). Default: 8 days (Bedrock
            batch jobs may run 168 hours).
        :param event_bus: where outcome events go. Default: the account's default bus.
        :param bedrock_events: end Bedrock batch jobs on Bedrock's "Batch Inference Job State
            Change" events (an EventBridge rule starts a short execution that reads the final
            status and stops the polling one), and poll them only sparsely as a fallback.
            Default: True.
        :param bedrock_fallback_interval: the sparse poll interval of Bedrock jobs when events
            are on, 1 min to 2 h; it bounds the delay of a lost event. Default: 35 minutes
            (a 24 h job then costs at most 42 polls + 1 call per event).
        """
        super().__init__(scope, construct_id)
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
        initial = (initial_interval or Duration.seconds(30)).to_seconds()
        maximum = (max_interval or Duration.minutes(5)).to_seconds()
        overall = (timeout or Duration.days(8)).to_seconds()
        check_int_range(self, "initial_interval (seconds)", int(initial), minimum=1, maximum=3600)
        check_int_range(
            self, "max_interval (seconds)", int(maximum), minimum=int(initial), maximum=3600
        )
        check_int_range(
            self, "timeout (seconds)", int(overall), minimum=int(maximum), maximum=MAX_TIMEOUT
        )
        if not 1.0 <= backoff_rate <= 10.0:
            raise fail(self, "backoff_rate", backoff_rate, "must be between 1 and 10")
        self.schedule = poll_schedule(int(initial), backoff_rate, int(maximum))
        self.max_polls = max_polls(self.schedule, int(overall))
        self.bedrock_events = bedrock_events
        fallback = int((bedrock_fallback_interval or Duration.minutes(35)).to_seconds())
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
        self._grant_permissions(provider)
        self.failure_alarm = failure_alarm(
            self,
            self.state_machine,
            "A tracked Clean Rooms ML or Bedrock job failed, timed out, or could not be tracked "
            "(job-status state machine executions failed or timed out).",
            aborted=False,  # the Bedrock event path stops pollers on purpose
        )
        self.bedrock_rule = self._bedrock_rule() if bedrock_events else None
        # The handler starts one execution per asynchronous object it creates.
        provider.handler.add_environment(contract.STATE_MACHINE_ENV, state_machine_arn_of(self))
        provider.allow(["states:StartExecution"], [state_machine_arn_of(self)])

    @property
    def state_machine_arn(self) -> str:
        return self.state_machine.state_machine_arn

    # ---- definition -------------------------------------------------------------------------

    def _definition(self, provider: CustomResourceProvider) -> sfn.IChainable:
        route = sfn.Choice(self, "RouteByKind")
        finish = self._finish(provider)
        in_progress = self._schedule_next_poll(route, finish, self._continue_as_new(finish))
        for kind in KINDS:
            route.when(
                sfn.Condition.string_equals("$.kind", kind.name),
                self._poll(kind, in_progress, finish),
            )
        route.when(
            sfn.Condition.string_equals("$.kind", EXPORT_KIND.name),
            self._poll_export(in_progress, finish),
        )
        route.otherwise(
            self._outcome(
                "UnknownKind", UNKNOWN_STATUS, finish, "States.Format('unknown kind {}', $.kind)"
            )
        )
        defaults = sfn.Pass(
            self,
            "DefaultPolling",
            result=sfn.Result.from_object(
                {
                    "schedule": self.schedule,
                    "maxPolls": self.max_polls,
                    "continueAt": CONTINUE_AT_EVENTS,
                }
            ),
            result_path="$.poll",
        )
        bedrock_defaults = sfn.Pass(
            self,
            "BedrockPolling",
            result=sfn.Result.from_object(
                {
                    "schedule": self.bedrock_schedule,
                    "maxPolls": self.bedrock_max_polls,
                    "continueAt": CONTINUE_AT_EVENTS,
                }
            ),
            result_path="$.poll",
        )
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
        no_answer.next(route)
        # A continuation carries the last answer and goes on where its predecessor stopped:
        # waiting for the next poll.
        continuing.next(in_progress)
        bedrock_defaults.next(counting)
        polling_for = (
            sfn.Choice(self, "DefaultPollingFor")
            .when(
                sfn.Condition.string_equals("$.kind", contract.KIND_BEDROCK_BATCH_INFERENCE_JOB),
                bedrock_defaults,
            )
            .otherwise(defaults.next(counting))
        )
        poll = (
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
                self._event_path(finish),
            )
            .otherwise(poll)
        )
        # A continuation gets its predecessor's whole state under `carried` (beside the
        # parent-execution link Step Functions reads at the top level): unwrap it.
        return (
            sfn.Choice(self, "Continuing")
            .when(
                sfn.Condition.is_present(f"$.{CARRIED}"),
                sfn.Pass(self, "TakeCarriedState", output_path=f"$.{CARRIED}").next(continuing),
            )
            .otherwise(triggered)
        )

    def _poller_execution_arn(self) -> str:
        """``States.Format`` expression of the Bedrock job's polling execution ARN: the handler
        names it ``bedrock-<sha256 of the job ARN>``."""
        prefix = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine_name_of(self)}:bedrock-",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        return f"States.Format('{prefix}{{}}', States.Hash($.arn, 'SHA-256'))"

    def _event_path(self, finish: sfn.IChainable) -> sfn.IChainable:
        """A Bedrock "Batch Inference Job State Change" event reported the end: read the final
        status, stop the job's polling execution, and finish as the poller would have. Jobs the
        library does not track (no polling execution) and polls already done end quietly."""
        kind = BEDROCK_KIND
        quiet = sfn.Succeed(self, "NotTrackedHere")
        describe = tasks.CallAwsService(
            self,
            "DescribePoller",
            service="sfn",
            action="describeExecution",
            iam_action="states:DescribeExecution",
            iam_resources=["*"],
            parameters={"ExecutionArn.$": self._poller_execution_arn()},
            result_selector={"Status.$": "$.Status"},
            result_path="$.poller",
        )
        describe.add_catch(
            quiet, errors=["Sfn.ExecutionDoesNotExistException"], result_path=sfn.JsonPath.DISCARD
        )
        retry_with_jitter(describe, ["Sfn.ThrottlingException", "Sfn.SfnException"], 4)
        get = tasks.CallAwsService(
            self,
            "GetAfterEvent",
            service=kind.service,
            action=kind.action,
            iam_action=kind.iam_action,
            iam_resources=["*"],
            parameters={f"{kind.arn_parameter}.$": "$.arn"},
            result_path="$.result",
        )
        self._handle_errors(get, _EVENT_KIND, finish)
        stop = tasks.CallAwsService(
            self,
            "StopPoller",
            service="sfn",
            action="stopExecution",
            iam_action="states:StopExecution",
            iam_resources=["*"],
            parameters={
                "ExecutionArn.$": self._poller_execution_arn(),
                "Cause": "ended by a Bedrock Batch Inference Job State Change event",
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        check = self._check(_EVENT_KIND, None, finish)
        stop.add_catch(check, errors=["States.ALL"], result_path=sfn.JsonPath.DISCARD)
        stop.next(check)
        ended = (
            sfn.Choice(self, "EndedPerEvent")
            .when(any_of("$.result.Status", [*kind.succeeded, *kind.warning, *kind.failed]), stop)
            .otherwise(quiet)
        )
        running = (
            sfn.Choice(self, "PollerRunning")
            .when(
                sfn.Condition.string_equals("$.poller.Status", "RUNNING"),
                sfn.Pass(
                    self,
                    "NoAnswerBeforeEvent",
                    result=sfn.Result.from_object({}),
                    result_path="$.result",
                )
                .next(get)
                .next(ended),
            )
            .otherwise(quiet)
        )
        return describe.next(running)

    def _poll(
        self, kind: _Kind, in_progress: sfn.IChainable, finish: sfn.IChainable
    ) -> sfn.IChainable:
        task = tasks.CallAwsService(
            self,
            f"Get{kind.name}",
            service=kind.service,
            action=kind.action,
            iam_action=kind.iam_action,
            iam_resources=["*"],  # the role ignores task grants; see _grant_permissions
            parameters={f"{kind.arn_parameter}.$": "$.arn"},
            result_path="$.result",
        )
        self._handle_errors(task, kind, finish)
        return task.next(self._check(kind, in_progress, finish))

    def _handle_errors(
        self, task: tasks.CallAwsService, kind: _Kind, finish: sfn.IChainable
    ) -> None:
        """Retry throttling and 5xx with jittered back-off; fail on anything else."""
        retry_with_jitter(task, transient_errors(kind.service), 6)
        task.add_catch(
            self._outcome(f"{kind.name}CallFailed", CALL_FAILED, finish, "$.error.Cause"),
            errors=["States.ALL"],
            result_path="$.error",
        )

    def _poll_export(self, in_progress: sfn.IChainable, finish: sfn.IChainable) -> sfn.IChainable:
        """Export jobs have no Get call: list the generation job's exports and find the name.

        The list is walked one item at a time with ``States.ArrayGetItem`` (a cursor in
        ``$.count.item``), so the result has one shape whatever the number of exports: no
        wildcard path, whose rendering of zero or one match differs between interpreters.
        """
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
        self._handle_errors(listed, kind, finish)
        take = sfn.Pass(
            self, "TakeExport", input_path="$.listed.pick.current", result_path="$.result"
        ).next(self._check(kind, in_progress, finish))
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
        return listed.next(more)

    def _check(
        self, kind: _Kind, in_progress: sfn.IChainable | None, finish: sfn.IChainable
    ) -> sfn.IChainable:
        """Route ``$.result.Status`` of ``kind`` to polling again or to an outcome.

        Without ``in_progress`` (the event path, where ``EndedPerEvent`` lets only ended
        statuses through) there is no polling branch and no unknown-status branch: the
        failed statuses are the default, so the check holds no branch that cannot be taken.
        """
        status = "$.result.Status"
        failure_cause = self._cause(kind, finish)
        check = sfn.Choice(self, f"Check{kind.name}")
        if in_progress is not None:
            check.when(any_of(status, kind.in_progress), in_progress)
        check.when(
            any_of(status, kind.succeeded),
            self._outcome(
                f"{kind.name}Succeeded",
                SUCCEEDED,
                finish,
                "States.Format('status {}', $.result.Status)",
            ),
        )
        if kind.warning:
            check.when(
                any_of(status, kind.warning),
                self._outcome(
                    f"{kind.name}Warning",
                    SUCCEEDED_WITH_WARNINGS,
                    finish,
                    "States.Format('status {}', $.result.Status)",
                ),
            )
        if in_progress is None:
            return check.otherwise(failure_cause)
        check.when(any_of(status, kind.failed), failure_cause)
        check.otherwise(
            self._outcome(
                f"{kind.name}UnknownStatus",
                UNKNOWN_STATUS,
                finish,
                "States.Format('status {} is not a known status of this job kind', "
                "$.result.Status)",
            )
        )
        return check

    def _cause(self, kind: _Kind, finish: sfn.IChainable) -> sfn.IChainable:
        """FAILED, with the service's own message as the cause when it gave one."""
        return (
            sfn.Choice(self, f"{kind.name}HasMessage")
            .when(
                sfn.Condition.is_present(kind.message_path),
                self._outcome(f"{kind.name}FailedWithMessage", FAILED, finish, kind.message_path),
            )
            .otherwise(
                self._outcome(
                    f"{kind.name}Failed",
                    FAILED,
                    finish,
                    "States.Format('status {}', $.result.Status)",
                )
            )
        )

    def _outcome(
        self, state_id: str, outcome: str, finish: sfn.IChainable, cause_path: str
    ) -> sfn.IChainable:
        return sfn.Pass(
            self,
            state_id,
            parameters={"outcome": outcome, "cause.$": cause_path},
            result_path="$.end",
        ).next(finish)

    def _schedule_next_poll(
        self, route: sfn.IChainable, finish: sfn.IChainable, continue_as_new: sfn.IChainable
    ) -> sfn.IChainable:
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
        wait.next(route)
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
                self._outcome(
                    "TimedOut",
                    TIMED_OUT,
                    finish,
                    "States.Format('still {} after {} polls; the job is no longer tracked', "
                    "$.result.Status, $.count.attempt)",
                ),
            )
            .otherwise(
                self._outcome(
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
        return (
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

    def _continue_as_new(self, finish: sfn.IChainable) -> sfn.IChainable:
        """Start a fresh execution of this state machine with the whole state (job, schedule,
        polls spent) and wait for it (``startExecution.sync:2``): its outcome is this one's.

        The continuation publishes the outcome event and signals; this execution then ends
        like it: succeeded with its output, or failed with its error and cause. Only when the
        continuation cannot be started does this execution end the tracking as CALL_FAILED.
        """
        own = sfn.StateMachine.from_state_machine_arn(
            self, "ContinuationTarget", state_machine_arn_of(self)
        )
        task = tasks.StepFunctionsStartExecution(
            self,
            "ContinueAsNew",
            state_machine=own,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            # The whole state, wrapped: Step Functions links the continuation to this execution
            # through the top-level AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID field, and a
            # state started by the workflow carries the workflow's link, which must not be
            # passed on as this one's.
            input=sfn.TaskInput.from_object({f"{CARRIED}.$": "$"}),
            associate_with_parent=True,
            name=sfn.JsonPath.format(
                "continued-{}", sfn.JsonPath.hash(sfn.JsonPath.execution_id, "SHA-256")
            ),
            result_selector={"Output.$": "$.Output"},
            result_path="$.continued",
        )
        # Refused starts only: a start that may have happened is not repeated under its name.
        retry_with_jitter(
            task,
            ["StepFunctions.ThrottlingException", "StepFunctions.ExecutionLimitExceededException"],
            6,
        )

        def end(suffix: str, error: str, cause: str) -> sfn.IChainable:
            if suffix == "CallFailed":
                return self._outcome("ContinueAsNewCallFailed", CALL_FAILED, finish, cause)
            from_path = error.startswith("$")
            return sfn.Fail(
                self,
                f"ContinuedJob{suffix}",
                error=None if from_path else error,
                error_path=error if from_path else None,
                cause_path=cause,
            )

        task.add_catch(
            read_nested_failure(self, "Continuation", end),
            errors=["States.ALL"],
            result_path="$.error",
        )
        return task.next(
            # A terminal Pass, not a Succeed: cfn-lint's state-machine schema (E3601) allows no
            # OutputPath on a Succeed state.
            sfn.Pass(self, "ContinuedJobSucceeded", output_path="$.continued.Output")
        )

    def _finish(self, provider: CustomResourceProvider) -> sfn.IChainable:
        publish = publish_event(
            self,
            self.event_bus,
            EVENT_SOURCE,
            EVENT_DETAIL_TYPE,
            {
                "kind.$": "$.kind",
                "arn.$": "$.arn",
                "outcome.$": "$.end.outcome",
                "cause.$": "$.end.cause",
                "result.$": "$.result",
                "executionArn.$": "$$.Execution.Id",
            },
        )
        signal = tasks.LambdaInvoke(
            self,
            "SignalWaitCondition",
            lambda_function=provider.handler,
            payload=sfn.TaskInput.from_object(
                {
                    "Action": contract.SIGNAL_ACTION,
                    "SignalUrl.$": "$.signalUrl",
                    "Outcome.$": "$.end.outcome",
                    "Reason.$": "$.end.cause",
                    "UniqueId.$": "$.arn",
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
            retry_on_service_exceptions=True,
        )
        done = (
            sfn.Choice(self, "Outcome")
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals("$.end.outcome", SUCCEEDED),
                    sfn.Condition.string_equals("$.end.outcome", SUCCEEDED_WITH_WARNINGS),
                ),
                sfn.Succeed(self, "JobSucceeded"),
            )
            .otherwise(
                sfn.Fail(self, "JobFailed", error_path="$.end.outcome", cause_path="$.end.cause")
            )
        )
        signal.next(done)
        has_signal = (
            sfn.Choice(self, "SignalRequested")
            .when(sfn.Condition.is_present("$.signalUrl"), signal)
            .otherwise(done)
        )
        return publish.next(has_signal)

    # ---- permissions, alarm --------------------------------------------------------------------

    def _grant_permissions(self, provider: CustomResourceProvider) -> None:
        stack = Stack.of(self)
        reason = (
            "Job ids are assigned by the service; the state machine may only read the "
            "status of this account's and region's jobs of the kinds it tracks."
        )
        for resource, action in (
            ("audience-model", "GetAudienceModel"),
            ("audience-generation-job", "GetAudienceGenerationJob"),
        ):
            self._permissions.allow(
                [f"cleanrooms-ml:{action}"],
                [stack.format_arn(service="cleanrooms-ml", resource=resource, resource_name="*")],
                wildcard_reason=reason,
            )
        self._permissions.allow(
            ["bedrock:GetModelInvocationJob"],
            [
                stack.format_arn(
                    service="bedrock", resource="model-invocation-job", resource_name="*"
                )
            ],
            wildcard_reason=reason,
        )
        # ListAudienceExportJobs takes the audience-generation-job resource type (Service
        # Authorization Reference, "Actions, resources, and condition keys for AWS Clean Rooms
        # ML", https://docs.aws.amazon.com/service-authorization/latest/reference/
        # list_awscleanroomsml.html).
        self._permissions.allow(
            ["cleanrooms-ml:ListAudienceExportJobs"],
            [
                stack.format_arn(
                    service="cleanrooms-ml", resource="audience-generation-job", resource_name="*"
                )
            ],
            wildcard_reason=reason,
        )
        self._permissions.allow(["events:PutEvents"], [self.event_bus.event_bus_arn])
        self._allow_own_executions(
            "bedrock-",
            "Bedrock jobs' polling executions of this state machine, named "
            "bedrock-<hash of the job ARN>: found and stopped when the job's end event arrives.",
        )
        # Continuing as new: start an execution of this state machine and wait for it
        # (startExecution.sync:2 needs DescribeExecution, StopExecution and its managed rule;
        # "IAM policies for Step Functions' optimized integrations", https://docs.aws.amazon.com/
        # step-functions/latest/dg/stepfunctions-iam.html).
        self._permissions.allow(["states:StartExecution"], [state_machine_arn_of(self)])
        self._allow_own_executions(
            "continued-",
            "Continuations of this state machine's executions, named "
            "continued-<hash of the continued execution's ARN>.",
        )
        self._permissions.allow(
            ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            [
                stack.format_arn(
                    service="events",
                    resource="rule",
                    resource_name="StepFunctionsGetEventsForStepFunctionsExecutionRule",
                )
            ],
        )
        self._permissions.allow(["lambda:InvokeFunction"], [provider.handler.function_arn])

    def _allow_own_executions(self, name_prefix: str, reason: str) -> None:
        """Describe and stop this state machine's executions named ``<name_prefix>...``."""
        self._permissions.allow(
            ["states:DescribeExecution", "states:StopExecution"],
            [
                Stack.of(self).format_arn(
                    service="states",
                    resource="execution",
                    resource_name=f"{self.state_machine_name_of(self)}:{name_prefix}*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            wildcard_reason=reason,
        )

    def _bedrock_rule(self) -> events.Rule:
        """Bedrock's batch-job end events start a short execution of this state machine."""
        scope = Construct(self, "BedrockEvents")
        rule_name, role, permissions = rule_with_role(
            scope, "Starts the job-status state machine on Bedrock job events"
        )
        permissions.allow(["states:StartExecution"], [self.state_machine.state_machine_arn])
        kind = BEDROCK_KIND
        return events.Rule(
            scope,
            "Rule",
            rule_name=rule_name,
            description="Bedrock batch inference job ended: conclude its tracking now",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=["Batch Inference Job State Change"],
                detail={"status": [*kind.succeeded, *kind.warning, *kind.failed]},
            ),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    role=role.without_policy_updates(),
                    retry_attempts=20,
                    max_event_age=Duration.hours(24),
                    input=events.RuleTargetInput.from_object(
                        {
                            "kind": kind.name,
                            "arn": events.EventField.from_path("$.resources[0]"),
                            "via": "event",
                            "eventStatus": events.EventField.from_path("$.detail.status"),
                        }
                    ),
                )
            ],
        )


def state_machine_arn_of(scope: IConstruct) -> str:
    """The ARN of the stack's job-status state machine, from its known name."""
    return Stack.of(scope).format_arn(
        service="states",
        resource="stateMachine",
        resource_name=JobStatusTracker.state_machine_name_of(scope),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
