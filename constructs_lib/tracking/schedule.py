"""The job-status tracker's arithmetic: the poll schedule and the budgets it must fit in.

Pure Python (standard library only, no CDK): the schedule the tracker embeds in its definition,
the history events and state transitions an execution spends, and the limits of Step Functions
they are measured against. ``bench/polling.py`` computes its figures from these functions, and
the tests check the counts against real executions of the synthesized definition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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
