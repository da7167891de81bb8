"""A burst of seed files against a Clean Rooms ML that enforces its quota of jobs in flight.

The synthesized workflow and tracker run in moto's Step Functions interpreter (``sfn_support``);
Clean Rooms ML is a real botocore client (the handler's bundled model, so every request is
validated against it) whose calls are answered by a small stateful service instead of a script:
a generation job stays in flight for ``job_seconds`` after it starts, and no job ends before the
service has refused a first start (so the burst fills the quota and meets a refusal however fast
or slowly the interpreter starts runs on a given machine), and a start is refused
with ``ServiceQuotaExceededException`` (HTTP 402, as the model defines it) whenever ``quota``
jobs are in flight: AWS Clean Rooms ML quotas, "pending or in-progress audience generation jobs
per account": 10 (https://docs.aws.amazon.com/clean-rooms/latest/userguide/
clean-rooms-ml-quotas.html).

Used by the test that shows a burst queues instead of failing, and by ``bench/quota_burst.py``,
which writes the figures.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from botocore.awsrequest import AWSResponse
from botocore.validate import ParamValidator

from constructs_lib import (
    AudienceGenerationWorkflow,
    CleanRoomsMlServiceRole,
    SeedAudienceBucket,
)
from tests.handler_support import new_client
from tests.sfn_configurations import fast_tracker
from tests.sfn_support import ACCOUNT, REGION, definition_of, interpreter, machine_name_of

CAM_ARN = f"arn:aws:cleanrooms-ml:{REGION}:{ACCOUNT}:configured-audience-model/c-1"


def build_burst_stack(stack: cdk.Stack) -> None:
    """A workflow started by seed files, tracking with a 1-second poll."""
    fast_tracker(stack)
    seeds = SeedAudienceBucket(stack, "Seeds")
    role = CleanRoomsMlServiceRole(
        stack, "SeedRole", seed_bucket=seeds.bucket, seed_prefix="seeds/"
    )
    AudienceGenerationWorkflow(
        stack,
        "Workflow",
        configured_audience_model=CAM_ARN,
        seed_role=role,
        seed_bucket=seeds,
        seed_prefix="seeds/",
    )


class QuotaLimitedCleanRoomsMl:
    """Clean Rooms ML generation jobs with a quota of jobs in flight (thread-safe)."""

    def __init__(self, quota: int, job_seconds: float) -> None:
        self._full_at: float | None = None  # when a start was first refused
        self.client = new_client("cleanroomsml")
        self.quota = quota
        self.job_seconds = job_seconds
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}  # job ARN -> start time (monotonic)
        self.starts_by_name: dict[str, int] = {}
        self.refused = 0
        self.max_in_flight = 0
        self._model = self.client.meta.service_model
        self._request = threading.local()
        # The API parameters (validated by the client) as the caller gave them, then the answer.
        self.client.meta.events.register(
            "before-parameter-build.cleanroomsml.*", self._remember_params
        )
        self.client.meta.events.register("before-call.cleanroomsml.*", self._answer)

    def _remember_params(self, params: dict[str, Any], **_: Any) -> None:
        self._request.params = dict(params)

    def _ends(self, started: float) -> float:
        if self._full_at is None:
            return float("inf")
        return max(started, self._full_at) + self.job_seconds

    def _in_flight(self, now: float) -> int:
        return sum(1 for started in self._started.values() if now < self._ends(started))

    def _answer(self, model: Any, **_: Any) -> tuple[AWSResponse, Any]:
        body: dict[str, Any] = self._request.params
        with self._lock:
            now = time.monotonic()
            if model.name == "StartAudienceGenerationJob":
                return self._start(model, body, now)
            if model.name == "GetAudienceGenerationJob":
                return self._get(model, body, now)
        raise AssertionError(f"unexpected call {model.name}")

    def _start(self, model: Any, body: dict[str, Any], now: float) -> tuple[AWSResponse, Any]:
        if self._in_flight(now) >= self.quota:
            self.refused += 1
            if self._full_at is None:
                self._full_at = now
            return _error(
                "ServiceQuotaExceededException",
                "Pending or in-progress audience generation jobs per account exceeded",
                402,
            )
        name = body["name"]
        arn = f"arn:aws:cleanrooms-ml:{REGION}:{ACCOUNT}:audience-generation-job/{_id(name)}"
        self.starts_by_name[name] = self.starts_by_name.get(name, 0) + 1
        self._started[arn] = now
        self.max_in_flight = max(self.max_in_flight, self._in_flight(now))
        return self._ok(model, {"audienceGenerationJobArn": arn})

    def _get(self, model: Any, body: dict[str, Any], now: float) -> tuple[AWSResponse, Any]:
        arn = body["audienceGenerationJobArn"]
        started = self._started[arn]
        answer = {
            "createTime": datetime.datetime.now(datetime.UTC),
            "updateTime": datetime.datetime.now(datetime.UTC),
            "audienceGenerationJobArn": arn,
            "name": arn.rsplit("/", 1)[1],
            "status": "CREATE_IN_PROGRESS" if now < self._ends(started) else "ACTIVE",
            "configuredAudienceModelArn": CAM_ARN,
        }
        return self._ok(model, answer)

    def _ok(self, model: Any, answer: dict[str, Any]) -> tuple[AWSResponse, Any]:
        report = ParamValidator().validate(answer, model.output_shape)
        assert not report.has_errors(), report.generate_report()
        return AWSResponse(None, 200, {}, None), {**answer, "ResponseMetadata": {}}


def _error(code: str, message: str, status: int) -> tuple[AWSResponse, Any]:
    return AWSResponse(None, status, {}, None), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def _id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


@dataclass
class BurstResult:
    """What a burst did: per run status, the service's counts, and Step Functions' cost."""

    statuses: dict[str, str]
    starts_by_name: dict[str, int]
    refused: int
    max_in_flight: int
    backoffs: list[float]
    transitions: int
    seconds: float
    retries_by_run: list[int] = field(default_factory=list)


def _seed_event(bucket: str, key: str, sequencer: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"e-{sequencer}",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT,
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 42, "etag": "abc", "sequencer": sequencer},
            "request-id": "r-1",
            "requester": ACCOUNT,
            "reason": "PutObject",
        },
    }


def simulate_burst(
    template: dict[str, Any],
    *,
    files: int = 100,
    quota: int = 10,
    job_seconds: float = 2.0,
    backoff_scale: float = 0.01,
) -> BurstResult:
    """``files`` seed files land at once; each notification starts the workflow (which hands
    the run over to an execution named after the object); every run is awaited."""
    workflow = definition_of(template, "Workflow")
    workflow_name = machine_name_of(template, "Workflow")
    tracker = definition_of(template, "-job-status")
    tracker_name = machine_name_of(template, "-job-status")
    states = json.loads(workflow)["States"]
    bucket = states["CheckInput"]["Parameters"]["Payload"]["Settings"]["seedBucket"]
    service = QuotaLimitedCleanRoomsMl(quota, job_seconds)
    began = time.monotonic()
    with interpreter({"cleanroomsml": service}, backoff_scale=backoff_scale) as run:  # type: ignore[dict-item]
        run.machine(tracker, tracker_name)
        notified = [
            run.start(
                workflow,
                _seed_event(bucket, f"seeds/file-{i:03d}.jsonl", f"{i:018X}"),
                f"notification-{i:03d}",
                workflow_name,
            )
            for i in range(files)
        ]
        notifications = [run.wait_for(arn, 120) for arn in notified]
        handed = [n.output["handedOver"]["executionArn"] for n in notifications]
        runs = {arn: run.wait_for(arn, 600) for arn in handed}
        seconds = time.monotonic() - began
        tracked = [run.wait_for(e["executionArn"], 60) for e in run.list_executions(tracker_name)]
    return BurstResult(
        statuses={arn: r.status for arn, r in runs.items()},
        starts_by_name=dict(service.starts_by_name),
        refused=service.refused,
        max_in_flight=service.max_in_flight,
        backoffs=list(runs[handed[-1]].backoffs) if runs else [],
        # Step Functions bills each state entered, and each retry of a state as one more
        # transition ("AWS Step Functions Pricing", https://aws.amazon.com/step-functions/pricing/).
        transitions=sum(r.transitions for r in [*notifications, *runs.values(), *tracked])
        + service.refused,
        seconds=seconds,
        retries_by_run=[
            sum(1 for e in r.history if e["type"] == "TaskFailed") for r in runs.values()
        ],
    )
