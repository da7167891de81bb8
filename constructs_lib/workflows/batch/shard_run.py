"""One shard of a batch inference run: its Bedrock job, tracked to its end, retried when it
fails or expires."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..._internal import contract
from ..._internal.fragment import Fragment
from ..._internal.state_machines import (
    any_of,
    retry_with_jitter,
    transient_errors,
)
from ..fragments.track_job import start_tracking
from .job_spec import BatchJobSpec, create_job, job_parameters

#: Bedrock statuses a shard ends with, its results in S3 (``GetModelInvocationJob``'s
#: ``status``: "PartiallyCompleted - Not all of your records could be processed in time",
#: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetModelInvocationJob.html).
DONE = ("Completed", "PartiallyCompleted")
#: Statuses worth a new job: it failed, or "was scheduled but didn't begin before the set timeout
#: duration" (Expired). Stopped means someone stopped it: not retried.
RETRIED = ("Failed", "Expired")
#: Statuses of a job that still runs: a shard whose tracking ended without its job (the tracker
#: timed out) stops it, so the shard's slot is free for real and the jobs in flight stay under
#: the cap.
RUNNING = ("Submitted", "Validating", "Scheduled", "InProgress")


class ShardRun(Fragment):
    """Run one shard as a Bedrock batch job until it is done or out of attempts.

    Start state: ``FirstAttempt``. ``CreateShardJob`` creates the job
    (``CreateModelInvocationJob``; the client request token is derived from the run, the shard
    and the attempt, so a retried state never starts a second job: "If this token matches a
    previous request, Amazon Bedrock ignores the request"); throttling and server errors are
    retried with jitter and a full quota of jobs waits for room. ``TrackShardJob`` runs the
    job-status tracker (named like the handler's Bedrock pollers, so Bedrock's end event ends it
    early, and polling is the fallback when that event is lost). A tracking that does not end in
    success goes to ``ReadShardStatus``, which reads the job's status once: Failed or Expired
    with attempts left starts ``NextAttempt``; a job still running (its tracking timed out) is
    stopped (``StopShardJob``); anything else is the shard's result. Ends:
    ``ShardResult`` (and ``ShardNotStarted`` when the create was refused).

    Expects in the state: ``$.shard`` (``index``, ``uri``, ``records``, ``bytes``) and
    ``$.plan`` (``runId``, ``jobNamePrefix``, ``outputUri``). Leaves (the iteration's output):
    ``{index, uri, records, bytes, jobArn, status, attempts, outputUri, message}``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        step: BatchJobSpec,
        tracker: sfn.IStateMachine,
        quota_wait: int,
        max_attempts: int,
    ) -> None:
        super().__init__(scope, construct_id)
        first = sfn.Pass(
            self, "FirstAttempt", result=sfn.Result.from_number(1), result_path="$.attempts"
        )
        create = create_job(self, "CreateShardJob", job_parameters(step), "$.job", quota_wait)
        result = sfn.Pass(self, "ShardResult", parameters=_result("$.job.arn"))
        not_started = sfn.Pass(
            self,
            "ShardNotStarted",
            parameters={"status": "CALL_FAILED", "message.$": "$.error.Cause"},
            result_path="$.final",
        ).next(sfn.Pass(self, "ShardNotStartedResult", parameters=_result(None)))
        create.add_catch(not_started, errors=["States.ALL"], result_path="$.error")
        track = start_tracking(
            self,
            "TrackShardJob",
            tracker,
            {"kind": contract.KIND_BEDROCK_BATCH_INFERENCE_JOB, "arn.$": "$.job.arn"},
            "$.tracking",
            name=sfn.JsonPath.format(
                "bedrock-{}", sfn.JsonPath.hash(sfn.JsonPath.string_at("$.job.arn"), "SHA-256")
            ),
        )
        tracked = sfn.Pass(
            self,
            "ShardTracked",
            parameters={"status.$": "$.tracking.status", "message": ""},
            result_path="$.final",
        )
        read = tasks.CallAwsService(
            self,
            "ReadShardStatus",
            service="bedrock",
            action="getModelInvocationJob",
            iam_action="bedrock:GetModelInvocationJob",
            iam_resources=["*"],
            parameters={"JobIdentifier.$": "$.job.arn"},
            result_selector={"status.$": "$.Status"},
            result_path="$.read",
        )
        retry_with_jitter(read, transient_errors("bedrock"), 6)
        unknown = sfn.Pass(
            self,
            "ShardStatusUnknown",
            parameters={"status": "UNKNOWN_STATUS", "message.$": "$.read.Cause"},
            result_path="$.final",
        )
        read.add_catch(unknown, errors=["States.ALL"], result_path="$.read")
        track.add_catch(read, errors=["States.ALL"], result_path="$.error")
        ended = sfn.Pass(
            self,
            "ShardEnded",
            # the tracker's outcome name: its cause (the whole tracking description) would make
            # the shard list outgrow the state's 256 KiB
            parameters={"status.$": "$.read.status", "message.$": "$.error.Error"},
            result_path="$.final",
        )
        again = sfn.Pass(
            self,
            "NextAttempt",
            parameters={"value.$": "States.MathAdd($.attempts, 1)"},
            result_path="$.next",
        ).next(sfn.Pass(self, "CountAttempt", input_path="$.next.value", result_path="$.attempts"))
        stop = tasks.CallAwsService(
            self,
            "StopShardJob",
            service="bedrock",
            action="stopModelInvocationJob",
            iam_action="bedrock:StopModelInvocationJob",
            iam_resources=["*"],
            parameters={"JobIdentifier.$": "$.job.arn"},
            result_path=sfn.JsonPath.DISCARD,
        )
        retry_with_jitter(stop, transient_errors("bedrock"), 6)
        # already ended or stopping: nothing left to stop
        stop.add_catch(ended, errors=["States.ALL"], result_path=sfn.JsonPath.DISCARD)
        stop.next(ended)
        decide = (
            sfn.Choice(self, "RetryShard")
            .when(
                sfn.Condition.and_(
                    any_of("$.read.status", RETRIED),
                    sfn.Condition.number_less_than("$.attempts", max_attempts),
                ),
                again,
            )
            .when(any_of("$.read.status", RUNNING), stop)
            .otherwise(ended)
        )
        again.next(create)
        read.next(decide)
        ended.next(result)
        unknown.next(result)
        tracked.next(result)
        first.next(create).next(track).next(tracked)
        self._bounds(first, [result])


def _result(job_path: str | None) -> dict[str, Any]:
    shard = {key + ".$": f"$.shard.{key}" for key in ("index", "uri", "records", "bytes")}
    return {
        **shard,
        **({"jobArn.$": job_path} if job_path else {"jobArn": ""}),
        "status.$": "$.final.status",
        "message.$": "$.final.message",
        "attempts.$": "$.attempts",
        "outputUri.$": "States.Format('{}shard-{}/', $.plan.outputUri, $.shard.index)",
    }
