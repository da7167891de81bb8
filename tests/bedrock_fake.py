"""A stateful Bedrock for simulated batch inference runs.

The client is a real botocore ``bedrock`` client (the handler's bundled model): botocore
validates every request against the service model, and every answer is parsed by botocore's
parser against it. Only the service is fake, answering ``before-call`` as Stubber does. Jobs are
kept per client request token (a repeated token gets the first job back, as Bedrock does: "If
this token matches a previous request, Amazon Bedrock ignores the request"); each job reports
``InProgress`` for ``polls_before_end`` polls, then the status its shard's script says; a finished
job writes Bedrock's ``manifest.json.out`` under ``<output URI><job id>/`` in (moto's) S3. It
records the jobs in flight at every moment, so a test can state the most there ever were.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.parsers
import clients
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "123456789012"
_SHARD = re.compile(r"shard-(\d+)")


@dataclass
class Job:
    arn: str
    name: str
    shard: int
    attempt: int
    final: str
    output_uri: str
    records: int = 0
    polls: int = 0
    reported: bool = False


@dataclass
class FakeBedrock:
    """``scripts``: shard index -> the final status of each attempt (default: Completed);
    ``create_faults``: error codes the next creates raise, in order; ``polls_before_end``: how many
    polls a job reports InProgress."""

    scripts: dict[int, list[str]] = field(default_factory=dict)
    create_faults: list[str] = field(default_factory=list)
    polls_before_end: int = 0
    #: shard index -> error code of the reads of its job once the job has ended
    read_faults: dict[int, str] = field(default_factory=dict)
    #: shard index -> error codes of the first reads of its job, in order
    first_read_faults: dict[int, list[str]] = field(default_factory=dict)
    #: the error code StopModelInvocationJob answers (a job that ended meanwhile), if any
    stop_fault: str | None = None
    records_per_shard: dict[int, int] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    by_token: dict[str, str] = field(default_factory=dict)
    creates: int = 0
    stopped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # one attempt per call: throttling reaches the state machine, whose retries are tested
        self.client = clients.new_session().client(
            "bedrock",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}),
        )
        self.client.meta.events.register("before-call.bedrock", self._call)

    # ---- the wire ---------------------------------------------------------------------------

    def _call(self, model: Any, params: Mapping[str, Any], **_: Any) -> tuple[Any, Any]:
        """Answer ``before-call`` (after botocore validated and serialized the request, before
        anything is sent; moto's own handlers never see it): the fake's HTTP answer, parsed by
        botocore's parser against the operation's output shape."""
        with self._lock:
            if model.name == "CreateModelInvocationJob":
                status, body, error = self._create(json.loads(params["body"] or b"{}"))
            elif model.name == "GetModelInvocationJob":
                status, body, error = self._get(params["url_path"].rsplit("/", 1)[1])
            elif model.name == "StopModelInvocationJob":
                status, body, error = self._stop(params["url_path"].rsplit("/", 2)[1])
            else:
                status, body, error = (
                    400,
                    {"message": f"unexpected {model.name}"},
                    "ValidationException",
                )
        headers = HeadersDict({"Content-Type": "application/json"})
        if error:
            headers["x-amzn-ErrorType"] = error
            body = {"__type": error, **body}
        raw = json.dumps(body).encode()
        parser = botocore.parsers.create_parser("rest-json")
        parsed = parser.parse(
            {"status_code": status, "headers": headers, "body": raw}, model.output_shape
        )
        return AWSResponse("https://bedrock.fake/", status, headers, _Raw(raw)), parsed

    def _create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
        self.creates += 1
        if self.create_faults:
            code = self.create_faults.pop(0)
            self.refused.append(code)
            status = 429 if code == "ThrottlingException" else 400
            return status, {"message": f"scripted {code}"}, code
        token = body["clientRequestToken"]
        if token in self.by_token:  # Bedrock: a repeated token is the same job
            return 200, {"jobArn": self.by_token[token]}, None
        input_uri = body["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
        shard = int(_SHARD.search(input_uri).group(1))  # type: ignore[union-attr]
        attempt = int(body["jobName"].rsplit("-", 1)[1])
        script = self.scripts.get(shard, [])
        final = script[attempt - 1] if attempt - 1 < len(script) else "Completed"
        job_id = hashlib.sha256(token.encode()).hexdigest()[:12]
        arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-job/{job_id}"
        self.jobs[job_id] = Job(
            arn=arn,
            name=body["jobName"],
            shard=shard,
            attempt=attempt,
            final=final,
            output_uri=body["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"],
            records=self.records_per_shard.get(shard, 0),
        )
        self.by_token[token] = arn
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return 200, {"jobArn": arn}, None

    def _get(self, identifier: str) -> tuple[int, dict[str, Any], str | None]:
        job_id = identifier.rsplit("%2F", 1)[-1].rsplit("/", 1)[-1]
        job = self.jobs[job_id]
        faults = self.first_read_faults.get(job.shard)
        if faults:
            code = faults.pop(0)
            return 403 if code == "AccessDeniedException" else 400, {"message": code}, code
        if job.reported and job.shard in self.read_faults:
            code = self.read_faults[job.shard]
            return 403 if code == "AccessDeniedException" else 400, {"message": code}, code
        job.polls += 1
        status = job.final if job.polls > self.polls_before_end else "InProgress"
        if status != "InProgress" and not job.reported:
            job.reported = True
            self.in_flight -= 1
            self._write_manifest(job)
        answer = {
            "jobArn": job.arn,
            "jobName": job.name,
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/BedrockRole",
            "status": status,
            "submitTime": "2026-11-24T00:00:00Z",
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in.jsonl"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": job.output_uri}},
        }
        if status in ("Failed", "Expired"):
            answer["message"] = f"scripted {status}"
        return 200, answer, None

    def _stop(self, identifier: str) -> tuple[int, dict[str, Any], str | None]:
        job = self.jobs[identifier.rsplit("%2F", 1)[-1].rsplit("/", 1)[-1]]
        if self.stop_fault:
            return 400, {"message": "the job ended meanwhile"}, self.stop_fault
        self.stopped.append(job.arn)
        if not job.reported:
            job.reported = True
            self.in_flight -= 1
        job.final = "Stopped"
        return 200, {}, None

    def _write_manifest(self, job: Job) -> None:
        if job.final not in ("Completed", "PartiallyCompleted"):
            return
        bucket, _, prefix = job.output_uri.removeprefix("s3://").partition("/")
        job_id = job.arn.rsplit("/", 1)[1]
        processed = job.records if job.final == "Completed" else job.records // 2
        manifest = {
            "totalRecordCount": job.records,
            "processedRecordCount": processed,
            "successRecordCount": processed,
            "errorRecordCount": 0,
            "inputTokenCount": processed * 20,
            "outputTokenCount": processed * 5,
        }
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=bucket,
            Key=f"{prefix}{job_id}/manifest.json.out",
            Body=json.dumps(manifest).encode(),
        )

    # ---- what a test asserts ----------------------------------------------------------------

    def attempts_of(self, shard: int) -> list[Job]:
        return sorted((j for j in self.jobs.values() if j.shard == shard), key=lambda j: j.attempt)


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data
