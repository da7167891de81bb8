"""Reading a job's status: the outcome states, the error handling of a status call, and the
``Check<kind>`` fragment that routes ``$.result.Status`` to polling again or to an outcome."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal.fragment import Fragment
from ..._internal.state_machines import any_of, retry_with_jitter, transient_errors
from ..kinds import (
    CALL_FAILED,
    FAILED,
    SUCCEEDED,
    SUCCEEDED_WITH_WARNINGS,
    UNKNOWN_STATUS,
    Kind,
)


def outcome(
    scope: Construct, state_id: str, name: str, finish: sfn.IChainable, cause_path: str
) -> sfn.IChainable:
    """A Pass ``state_id`` that sets ``$.end`` to the outcome ``name`` and the cause read from
    ``cause_path`` (a JSONPath or an intrinsic), then goes to ``finish``."""
    return sfn.Pass(
        scope,
        state_id,
        parameters={"outcome": name, "cause.$": cause_path},
        result_path="$.end",
    ).next(finish)


def get_status(
    scope: Construct, state_id: str, kind: Kind, errors: Kind, finish: sfn.IChainable
) -> tasks.CallAwsService:
    """The ``Get*`` call of ``kind`` for the job ``$.arn``, its answer in ``$.result``; its
    failures handled as ``errors``'s (``handle_errors``)."""
    task = tasks.CallAwsService(
        scope,
        state_id,
        service=kind.service,
        action=kind.action,
        iam_action=kind.iam_action,
        # the role ignores task grants; see tracking.permissions.grant_tracker_permissions
        iam_resources=["*"],
        parameters={f"{kind.arn_parameter}.$": "$.arn"},
        result_path="$.result",
    )
    handle_errors(scope, task, errors, finish)
    return task


def handle_errors(
    scope: Construct, task: tasks.CallAwsService, kind: Kind, finish: sfn.IChainable
) -> None:
    """Retry throttling and 5xx with jittered back-off; fail on anything else."""
    retry_with_jitter(task, transient_errors(kind.service), 6)
    task.add_catch(
        outcome(scope, f"{kind.name}CallFailed", CALL_FAILED, finish, "$.error.Cause"),
        errors=["States.ALL"],
        result_path="$.error",
    )


class StatusCheck(Fragment):
    """Route ``$.result.Status`` of ``kind`` to polling again or to an outcome.

    Start state: the Choice ``Check<kind>``. End states: none; each branch goes to
    ``in_progress`` (a running status) or through an outcome Pass (``<kind>Succeeded``,
    ``<kind>Warning``, ``<kind>HasMessage`` -> ``<kind>Failed[WithMessage]``,
    ``<kind>UnknownStatus``) that sets ``$.end`` to ``finish``.

    Expects the status call's answer in ``$.result``. Without ``in_progress`` (the event path,
    where ``EndedPerEvent`` lets only ended statuses through) there is no polling branch and no
    unknown-status branch: the failed statuses are the default, so the check holds no branch
    that cannot be taken.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        kind: Kind,
        in_progress: sfn.IChainable | None,
        finish: sfn.IChainable,
    ) -> None:
        super().__init__(scope, construct_id)
        status = "$.result.Status"
        failure_cause = self._cause(kind, finish)
        check = sfn.Choice(self, f"Check{kind.name}")
        self._bounds(check)
        if in_progress is not None:
            check.when(any_of(status, kind.in_progress), in_progress)
        check.when(
            any_of(status, kind.succeeded),
            outcome(
                self,
                f"{kind.name}Succeeded",
                SUCCEEDED,
                finish,
                "States.Format('status {}', $.result.Status)",
            ),
        )
        if kind.warning:
            check.when(
                any_of(status, kind.warning),
                outcome(
                    self,
                    f"{kind.name}Warning",
                    SUCCEEDED_WITH_WARNINGS,
                    finish,
                    "States.Format('status {}', $.result.Status)",
                ),
            )
        if in_progress is None:
            check.otherwise(failure_cause)
            return
        check.when(any_of(status, kind.failed), failure_cause)
        check.otherwise(
            outcome(
                self,
                f"{kind.name}UnknownStatus",
                UNKNOWN_STATUS,
                finish,
                "States.Format('status {} is not a known status of this job kind', "
                "$.result.Status)",
            )
        )

    def _cause(self, kind: Kind, finish: sfn.IChainable) -> sfn.IChainable:
        """FAILED, with the service's own message as the cause when it gave one."""
        return (
            sfn.Choice(self, f"{kind.name}HasMessage")
            .when(
                sfn.Condition.is_present(kind.message_path),
                outcome(self, f"{kind.name}FailedWithMessage", FAILED, finish, kind.message_path),
            )
            .otherwise(
                outcome(
                    self,
                    f"{kind.name}Failed",
                    FAILED,
                    finish,
                    "States.Format('status {}', $.result.Status)",
                )
            )
        )
