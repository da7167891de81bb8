"""The Bedrock batch workflow's handler actions (prepare, split, collect) against moto's S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import batch_input
import boto3
import clients
import handler
import pytest
from batch_input import BatchInputError
from moto import mock_aws

BUCKET = "team-batch"
SETTINGS: dict[str, Any] = {
    "inputBucket": BUCKET,
    "inputPrefix": "batch-input/",
    "workUri": f"s3://{BUCKET}/batch-work/",
    "outputUri": f"s3://{BUCKET}/batch-output/",
    "jobNamePrefix": "batch",
    "limits": {
        "minRecordsPerJob": 2,
        "maxRecordsPerJob": 4,
        "maxBytesPerFile": 10_000,
        "maxBytesPerJob": 50_000,
    },
    "maxShards": 10,
}
JOB_ARN = "arn:aws:bedrock:us-east-1:111122223333:model-invocation-job/"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    clients.client.cache_clear()
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
    clients.client.cache_clear()


class Clock:
    """A Lambda context whose remaining time drops by ``step`` ms at every look."""

    def __init__(self, start: int, step: int) -> None:
        self.left, self.step = start, step

    def get_remaining_time_in_millis(self) -> int:
        self.left -= self.step
        return self.left


def _record(n: int, rid: str | None = None) -> bytes:
    body: dict[str, Any] = {}
    if rid is not None:
        body["recordId"] = rid
    body["modelInput"] = {"messages": [{"role": "user", "content": f"question {n}"}]}
    return json.dumps(body).encode()


def _put(s3: Any, key: str, data: bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return f"s3://{BUCKET}/{key}"


def _prepare(given: Any, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    return handler.on_event(
        {
            "Action": batch_input.PREPARE_ACTION,
            "Input": given,
            "ExecutionName": "run-1",
            "Settings": settings or SETTINGS,
        }
    )


def _split(
    plan: dict[str, Any],
    cursor: Any = None,
    shards: list[Any] | None = None,
    context: Any = None,
) -> dict[str, Any]:
    event = {
        "Action": batch_input.SPLIT_ACTION,
        "Plan": plan,
        "Cursor": cursor,
        "Shards": shards or [],
    }
    return handler.on_event(event, context)


def _split_all(plan: dict[str, Any], context: Any = None) -> tuple[dict[str, Any], int]:
    """Split to the end as the state machine loops; the answer and how many calls it took."""
    answer = _split(plan, context=context)
    calls = 1
    while not answer["done"]:
        answer = _split(plan, answer["cursor"], answer["shards"], context)
        calls += 1
    return answer, calls


def _read(s3: Any, uri: str) -> bytes:
    key = uri.removeprefix(f"s3://{BUCKET}/")
    data: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return data


def _lines(s3: Any, shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(line) for s in shards for line in _read(s3, s["uri"]).splitlines()]


# ------------------------------------------------------------------------------------ prepare


def test_an_s3_notification_becomes_a_plan(s3: Any) -> None:
    # GIVEN an object created under the input prefix
    # WHEN the workflow prepares the run
    plan = _prepare({"inputObject": {"bucket": BUCKET, "key": "batch-input/w48.jsonl"}})
    # THEN the plan names the file and the run's folders under a 16-hex run id
    run_id = plan["runId"]
    assert len(run_id) == 16
    assert int(run_id, 16) >= 0
    assert plan["source"] == "s3"
    assert plan["inputs"] == [f"s3://{BUCKET}/batch-input/w48.jsonl"]
    assert plan["workUri"] == f"s3://{BUCKET}/batch-work/{run_id}/"
    assert plan["outputUri"] == f"s3://{BUCKET}/batch-output/{run_id}/"
    assert plan["manifestUri"] == f"s3://{BUCKET}/batch-output/{run_id}/manifest.json"
    assert plan["limits"] == SETTINGS["limits"]
    assert plan["maxShards"] == 10
    assert plan["jobNamePrefix"] == "batch"


def test_a_list_of_uris_becomes_a_plan(s3: Any) -> None:
    # GIVEN two URIs under the workflow's input location
    uris = [f"s3://{BUCKET}/batch-input/a.jsonl", f"s3://{BUCKET}/batch-input/x/b.jsonl"]
    # WHEN the workflow prepares the run
    plan = _prepare({"inputUris": uris})
    # THEN they are the inputs, in order, and the same execution gets the same run id
    assert plan["source"] == "manual"
    assert plan["inputs"] == uris
    assert plan["runId"] == _prepare({"inputUris": uris})["runId"]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"inputObject": {"bucket": "elsewhere", "key": "batch-input/a.jsonl"}}, "not an input"),
        ({"inputObject": {"bucket": BUCKET, "key": "other/a.jsonl"}}, "batch-input/*.jsonl"),
        ({"inputObject": {"bucket": BUCKET, "key": "batch-input/a.json"}}, "*.jsonl"),
        ({"inputObject": {"bucket": BUCKET}}, "inputObject must be"),
        ({"inputObject": {"bucket": BUCKET, "key": "batch-input/a.jsonl"}, "x": 1}, "no other"),
        ({"inputUris": []}, "1 to 100"),
        ({"inputUris": [f"s3://{BUCKET}/{i}.jsonl" for i in range(101)]}, "1 to 100"),
        ({"inputUris": "s3://b/a.jsonl"}, "must be a list"),
        ({"inputUris": ["https://b/a.jsonl"]}, "must be an S3 URI"),
        ({"inputUris": ["s3://team-batch/a.csv"]}, "must end in .jsonl"),
        (
            {"inputUris": ["s3://other-bucket/batch-input/a.jsonl"]},
            f"is not under this workflow's input s3://{BUCKET}/batch-input/",
        ),
        ({"inputUris": [f"s3://{BUCKET}/elsewhere/a.jsonl"]}, "is not under this workflow's"),
        (
            {"inputUris": [f"s3://{BUCKET}/batch-input/a.jsonl"] * 2},
            f"inputUris[1] 's3://{BUCKET}/batch-input/a.jsonl' is a duplicate",
        ),
        ({"inputUris": ["s3://team-batch/a.jsonl"], "limit": 3}, "no other fields"),
        ({"files": ["s3://team-batch/a.jsonl"]}, "inputUris"),
        (["s3://team-batch/a.jsonl"], "must be a JSON object"),
    ],
)
def test_fails_if_the_input_is_not_one_of_the_two_forms(s3: Any, given: Any, words: str) -> None:
    # GIVEN an input that breaks a rule  WHEN prepared  THEN the message names the rule
    with pytest.raises(BatchInputError) as raised:
        _prepare(given)
    assert words in str(raised.value)


def test_fails_if_the_settings_limits_are_not_positive_integers(s3: Any) -> None:
    # GIVEN settings whose maxRecordsPerJob is not a number
    settings = {**SETTINGS, "limits": {**SETTINGS["limits"], "maxRecordsPerJob": "4"}}
    # WHEN prepared  THEN the field and the value are named
    with pytest.raises(BatchInputError, match=r"limits.maxRecordsPerJob .* got '4'"):
        _prepare({"inputUris": [f"s3://{BUCKET}/batch-input/a.jsonl"]}, settings)


# -------------------------------------------------------------------------------------- split


def test_split_writes_the_expected_shards_and_keeps_every_line_once_in_order(s3: Any) -> None:
    # GIVEN 10 records, every other one with its own recordId, and a blank line
    lines = [_record(n, f"own{n}" if n % 2 else None) for n in range(10)]
    data = b"\n".join(lines[:5]) + b"\n\n" + b"\n".join(lines[5:]) + b"\n"
    plan = _prepare({"inputUris": [_put(s3, "batch-input/a.jsonl", data)]})
    # WHEN split with at most 4 records per shard
    answer = _split(plan)
    # THEN ceil(10/4) = 3 shards of 4, 3, 3 records (sizes differ by at most one)
    assert answer["done"] is True
    assert answer["cursor"] is None
    assert answer["records"] == 10
    assert answer["tooFew"] is False
    assert [(s["index"], s["records"]) for s in answer["shards"]] == [(1, 4), (2, 3), (3, 3)]
    for shard in answer["shards"]:
        assert shard["uri"] == f"{plan['workUri']}shard-{shard['index']:05d}.jsonl"
        assert shard["bytes"] == len(_read(s3, shard["uri"]))
    # AND every line appears once, in order, with its own id or one naming its line
    written = _lines(s3, answer["shards"])
    assert [r["modelInput"] for r in written] == [json.loads(x)["modelInput"] for x in lines]
    ids = [r["recordId"] for r in written]
    assert ids[:6] == ["00000000001", "own1", "00000000003", "own3", "00000000005", "own5"]
    assert ids[6] == "00000000008"  # the blank line 6 is counted as a line, not as a record
    assert batch_input.record_origin(ids[6]) == (0, 8)


def test_a_line_without_a_record_id_keeps_its_bytes_after_the_new_id(s3: Any) -> None:
    # GIVEN a line with spacing and unicode as the user wrote it
    line = '{ "modelInput" : {"text": "caf\\u00e9 ☕", "n": 1.50} }'
    plan = _prepare({"inputUris": [_put(s3, "batch-input/a.jsonl", ((line + "\n") * 3).encode())]})
    # WHEN split
    shards = _split(plan)["shards"]
    # THEN the output line is the input line with the recordId put first
    first = _read(s3, shards[0]["uri"]).decode().splitlines()[0]
    assert (
        first == '{"recordId":"00000000001", "modelInput" : {"text": "caf\\u00e9 ☕", "n": 1.50} }'
    )


def test_shards_close_early_at_the_byte_limit(s3: Any) -> None:
    # GIVEN 8 records of about 90 bytes and a 200-byte file limit
    lines = [_record(n, f"r{n}") for n in range(8)]
    size = len(lines[0]) + 1
    limits = {**SETTINGS["limits"], "maxBytesPerFile": 2 * size + 5, "minRecordsPerJob": 1}
    plan = _prepare(
        {"inputUris": [_put(s3, "batch-input/a.jsonl", b"\n".join(lines))]},
        {**SETTINGS, "limits": limits},
    )
    # WHEN split
    answer = _split(plan)
    # THEN no shard exceeds the limit, so each holds 2 records (the last line had no newline)
    assert [s["records"] for s in answer["shards"]] == [2, 2, 2, 2]
    assert all(s["bytes"] <= limits["maxBytesPerFile"] for s in answer["shards"])
    assert [r["recordId"] for r in _lines(s3, answer["shards"])] == [f"r{n}" for n in range(8)]


def test_crlf_blank_lines_and_several_inputs(s3: Any) -> None:
    # GIVEN one CRLF file with blank and whitespace-only lines, and a second LF file
    first = b"\r\n" + _record(0) + b"\r\n  \r\n" + _record(1) + b"\r\n\r\n"
    second = _record(2) + b"\n" + _record(3, "mine") + b"\n" + _record(4)
    plan = _prepare(
        {
            "inputUris": [
                _put(s3, "batch-input/a.jsonl", first),
                _put(s3, "batch-input/b.jsonl", second),
            ]
        }
    )
    # WHEN split
    answer = _split(plan)
    # THEN 5 records (blank lines are not records), ids from each file's own line numbers
    assert answer["records"] == 5
    written = _lines(s3, answer["shards"])
    assert [r["recordId"] for r in written] == [
        "00000000002",
        "00000000004",
        "01000000001",
        "mine",
        "01000000003",
    ]
    assert b"\r" not in b"".join(_read(s3, s["uri"]) for s in answer["shards"])


def test_resuming_after_the_deadline_writes_the_same_shards_as_one_run(s3: Any) -> None:
    # GIVEN 3 inputs of 9 records
    uris = [
        _put(
            s3, f"batch-input/{i}.jsonl", b"\n".join(_record(i * 10 + n) for n in range(9)) + b"\n"
        )
        for i in range(3)
    ]
    plan = _prepare({"inputUris": uris})
    # WHEN split in one run, then again with a Lambda that is late after every shard
    single = _split(plan)
    once = {s["uri"]: _read(s3, s["uri"]) for s in single["shards"]}
    for uri in once:
        s3.delete_object(Bucket=BUCKET, Key=uri.removeprefix(f"s3://{BUCKET}/"))
    resumed, calls = _split_all(plan, Clock(start=batch_input.RESERVE_MS + 1, step=1))
    # THEN each call wrote one shard (at least one per call), and the shards are byte-identical
    # ceil(27/4) = 7 shards: six of 4 records, one of 3
    assert [s["records"] for s in single["shards"]] == [4, 4, 4, 4, 4, 4, 3]
    assert calls == 7
    assert resumed["shards"] == single["shards"]
    assert {s["uri"]: _read(s3, s["uri"]) for s in resumed["shards"]} == once


def test_count_stops_anywhere_and_resumes(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN 10 records and a clock looked at after every counted record
    monkeypatch.setattr(batch_input, "COUNT_CHECK_EVERY", 1)
    uri = _put(s3, "batch-input/a.jsonl", b"\n".join(_record(n) for n in range(10)))
    plan = _prepare({"inputUris": [uri]})
    # WHEN the Lambda is late from the start
    late = Clock(start=0, step=0)
    first = _split(plan, context=late)
    # THEN COUNT stopped after one record with a cursor into the file, and nothing is known yet
    assert first["done"] is False
    assert first["records"] is None
    assert first["cursor"]["phase"] == "count"
    assert first["cursor"]["offset"] == len(_record(0)) + 1
    # AND resuming without a deadline finishes with the same shards as a single run
    rest = _split(plan, first["cursor"], first["shards"])
    assert rest["shards"] == _split(plan)["shards"]


def test_count_resumed_after_every_record_and_at_the_end_of_each_file(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two files (one ending in a newline, one not) and a Lambda always out of time
    monkeypatch.setattr(batch_input, "COUNT_CHECK_EVERY", 1)
    uris = [
        _put(s3, "batch-input/a.jsonl", b"\n".join(_record(n) for n in range(3)) + b"\n"),
        _put(s3, "batch-input/b.jsonl", b"\n".join(_record(n) for n in range(3, 6))),
    ]
    plan = _prepare({"inputUris": uris})
    single = _split(plan)
    # WHEN split one record (COUNT) or one shard (WRITE) per call
    resumed, calls = _split_all(plan, Clock(start=0, step=0))
    # THEN 6 COUNT calls, one that finds nothing more (a cursor at a file's very end reads
    # nothing), and 2 WRITE calls; the shards are those of a single run
    assert calls == 9
    assert resumed["shards"] == single["shards"]
    assert resumed["records"] == 6


def test_too_few_records_write_nothing(s3: Any) -> None:
    # GIVEN 1 record (and a blank line) where a job needs at least 2
    plan = _prepare({"inputUris": [_put(s3, "batch-input/a.jsonl", _record(0) + b"\n\n")]})
    # WHEN split
    answer = _split(plan)
    # THEN the answer says so and no shard was written
    assert answer == {
        "done": True,
        "cursor": None,
        "shards": [],
        "records": 1,
        "tooFew": True,
        "minimum": 2,
    }
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="batch-work/")


def test_fails_if_a_shard_would_hold_fewer_than_the_minimum(s3: Any) -> None:
    # GIVEN 5 records, at most 4 and at least 3 per shard
    settings = {**SETTINGS, "limits": {**SETTINGS["limits"], "minRecordsPerJob": 3}}
    data = b"\n".join(_record(n) for n in range(5))
    plan = _prepare({"inputUris": [_put(s3, "batch-input/a.jsonl", data)]}, settings)
    # WHEN split  THEN 2 shards of 3 and 2 records are refused before anything is written
    with pytest.raises(BatchInputError, match=r"5 records .* 2 shards give as few as 2 records"):
        _split(plan)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="batch-work/")


def test_fails_if_the_shards_needed_exceed_max_shards(s3: Any) -> None:
    # GIVEN 45 records, at most 4 per shard and 10 shards
    plan = _prepare(
        {"inputUris": [_put(s3, "batch-input/a.jsonl", b"\n".join(_record(n) for n in range(45)))]}
    )
    # WHEN split  THEN it refuses before writing anything
    with pytest.raises(BatchInputError, match=r"45 records .* need 12 shards .* maxShards 10"):
        _split(plan)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="batch-work/")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (b'{"modelInput": {"x": 1}', "is not JSON"),
        (b"[1, 2]", "is a JSON list, not an object"),
        (b'{"recordId": "a"}', "has no modelInput field"),
        (b'{"recordId": 7, "modelInput": {}}', "recordId 7: it must be a non-empty string"),
        (b'{"modelInput": "\xff"}', "is not JSON (not UTF-8"),
    ],
)
def test_fails_if_a_line_is_not_a_record(s3: Any, line: bytes, words: str) -> None:
    # GIVEN a bad line as line 3 (after a good line and a blank one)
    uri = _put(s3, "batch-input/bad.jsonl", _record(0) + b"\n\n" + line + b"\n" + _record(1))
    plan = _prepare({"inputUris": [uri]})
    # WHEN split  THEN the message names the file, the line and the rule
    with pytest.raises(BatchInputError) as raised:
        _split(plan)
    assert f"{uri} line 3 " in str(raised.value)
    assert words in str(raised.value)


def test_fails_if_an_input_does_not_exist(s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a plan naming a file that is not there
    plan = _prepare({"inputUris": [f"s3://{BUCKET}/batch-input/missing.jsonl"]})
    # WHEN split  THEN the S3 error is a BatchInputError naming the URI, and the handler logs it
    with pytest.raises(
        BatchInputError, match=r"GetObject on s3://team-batch/batch-input/missing.jsonl .*NoSuchKey"
    ):
        _split(plan)
    failed = [r for r in caplog.records if r.getMessage() == "event failed"]
    assert [r.__dict__["errorType"] for r in failed] == ["BatchInputError"]
    assert failed[0].__dict__["Action"] == batch_input.SPLIT_ACTION


def test_fails_if_an_input_changes_between_two_calls(s3: Any) -> None:
    # GIVEN a split stopped after its first shard
    uri = _put(s3, "batch-input/a.jsonl", b"\n".join(_record(n) for n in range(8)))
    plan = _prepare({"inputUris": [uri]})
    first = _split(plan, context=Clock(start=batch_input.RESERVE_MS + 1, step=1))
    assert first["done"] is False
    # WHEN the file is replaced before the next call
    _put(s3, "batch-input/a.jsonl", b"\n".join(_record(n) for n in range(9)))
    # THEN the split refuses to mix two versions
    with pytest.raises(BatchInputError, match="changed while it was split"):
        _split(plan, first["cursor"], first["shards"])


def test_a_big_shard_is_a_multipart_upload_of_fixed_size_parts(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN parts of 5 MiB (S3's minimum; 8 MiB in the handler) and 11 MiB of records
    assert batch_input.PART_BYTES == 8 * 1024 * 1024
    monkeypatch.setattr(batch_input, "PART_BYTES", 5 * 1024 * 1024)
    line = json.dumps({"modelInput": {"text": "x" * 1000}}).encode()
    count = 11 * 1024 * 1024 // len(line)
    settings = {
        **SETTINGS,
        "limits": {
            **SETTINGS["limits"],
            "maxRecordsPerJob": count,
            "maxBytesPerFile": 2**30,
            "maxBytesPerJob": 2**30,
        },
    }
    plan = _prepare(
        {"inputUris": [_put(s3, "batch-input/a.jsonl", (line + b"\n") * count)]}, settings
    )
    # WHEN split
    shard = _split(plan)["shards"][0]
    # THEN one object of 3 parts holds every record
    key = shard["uri"].removeprefix(f"s3://{BUCKET}/")
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ETag"].strip('"').endswith("-3")
    assert head["ContentLength"] == shard["bytes"]
    assert shard["records"] == count


def test_fails_if_writing_a_shard_fails_and_the_upload_is_aborted(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a multipart upload whose completion fails
    monkeypatch.setattr(batch_input, "PART_BYTES", 5 * 1024 * 1024)
    line = json.dumps({"modelInput": {"text": "x" * 1000}}).encode()
    count = 6 * 1024 * 1024 // len(line)
    settings = {**SETTINGS, "limits": {**SETTINGS["limits"], "maxRecordsPerJob": count}}
    settings["limits"].update(maxBytesPerFile=2**30, maxBytesPerJob=2**30)
    plan = _prepare(
        {"inputUris": [_put(s3, "batch-input/a.jsonl", (line + b"\n") * count)]}, settings
    )
    client = clients.client("s3")

    def broken(**_: Any) -> None:
        raise RuntimeError("network gone")

    monkeypatch.setattr(client, "complete_multipart_upload", broken)
    # WHEN split  THEN the error surfaces and no upload is left open
    with pytest.raises(RuntimeError, match="network gone"):
        _split(plan)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=BUCKET)


# ------------------------------------------------------------------------------------ collect


def _shard(index: int, status: str, job: str | None, plan: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": index,
        "uri": f"{plan['workUri']}shard-{index:05d}.jsonl",
        "records": 100,
        "bytes": 1000,
        "jobArn": f"{JOB_ARN}{job}" if job else None,
        "status": status,
        "attempts": 1,
        "outputUri": f"{plan['outputUri']}shard-{index:05d}/",
        "message": None,
    }


def _job_manifest(s3: Any, plan: dict[str, Any], index: int, job: str, **counts: int) -> None:
    key = f"{plan['outputUri']}shard-{index:05d}/{job}/manifest.json.out"
    body = {"totalRecordCount": 100, "processedRecordCount": 100, **counts}
    s3.put_object(Bucket=BUCKET, Key=key.removeprefix(f"s3://{BUCKET}/"), Body=json.dumps(body))


def _collect(plan: dict[str, Any], shards: list[dict[str, Any]]) -> dict[str, Any]:
    return handler.on_event({"Action": batch_input.COLLECT_ACTION, "Plan": plan, "Shards": shards})


def test_collect_all_completed_is_success_and_writes_the_run_manifest(s3: Any) -> None:
    # GIVEN two completed jobs whose manifests count no errors
    plan = _prepare({"inputUris": [f"s3://{BUCKET}/batch-input/a.jsonl"]})
    _job_manifest(s3, plan, 1, "aaaaaaaaaaaa", successRecordCount=100, errorRecordCount=0)
    _job_manifest(s3, plan, 2, "bbbbbbbbbbbb", successRecordCount=100, errorRecordCount=0)
    shards = [
        _shard(1, "Completed", "aaaaaaaaaaaa", plan),
        _shard(2, "Completed", "bbbbbbbbbbbb", plan),
    ]
    # WHEN collected
    answer = _collect(plan, shards)
    # THEN the run succeeded with the summed counts
    assert answer == {
        "outcome": "SUCCEEDED",
        "manifestUri": plan["manifestUri"],
        "shards": 2,
        "byStatus": {"Completed": 2},
        "records": {"total": 200, "processed": 200, "succeeded": 200, "failed": 0},
    }
    # AND the run's manifest holds the rule, the shards with their counts and the totals
    manifest = json.loads(_read(s3, plan["manifestUri"]))
    assert manifest["runId"] == plan["runId"]
    assert manifest["recordIdRule"] == batch_input.RECORD_ID_RULE
    assert manifest["outcome"] == "SUCCEEDED"
    assert manifest["totals"]["submitted"] == 200
    assert manifest["shards"][0]["successRecordCount"] == 100
    assert manifest["shards"][0]["jobManifestUri"].endswith(
        "shard-00001/aaaaaaaaaaaa/manifest.json.out"
    )


def test_collect_with_errors_partial_jobs_and_missing_manifests_warns(s3: Any) -> None:
    # GIVEN a completed job with record errors, a partial one, and a failed one without manifest
    plan = _prepare({"inputUris": [f"s3://{BUCKET}/batch-input/a.jsonl"]})
    _job_manifest(s3, plan, 1, "aaaaaaaaaaaa", successRecordCount=98, errorRecordCount=2)
    _job_manifest(s3, plan, 2, "bbbbbbbbbbbb", successRecordCount=60, errorRecordCount=0)
    shards = [
        _shard(1, "Completed", "aaaaaaaaaaaa", plan),
        _shard(2, "PartiallyCompleted", "bbbbbbbbbbbb", plan),
        _shard(3, "Failed", "cccccccccccc", plan),
        _shard(4, "CALL_FAILED", None, plan),
    ]
    # WHEN collected
    answer = _collect(plan, shards)
    # THEN the run has warnings; unknown counts are left out of the sums, not taken as 0
    assert answer["outcome"] == "SUCCEEDED_WITH_WARNINGS"
    assert answer["byStatus"] == {
        "CALL_FAILED": 1,
        "Completed": 1,
        "Failed": 1,
        "PartiallyCompleted": 1,
    }
    assert answer["records"] == {"total": 200, "processed": 200, "succeeded": 158, "failed": 2}
    manifest = json.loads(_read(s3, plan["manifestUri"]))
    assert manifest["totals"]["shardsWithoutManifest"] == 2
    assert manifest["shards"][2]["totalRecordCount"] is None
    assert manifest["shards"][3]["jobManifestUri"] is None


def test_collect_with_no_completed_job_fails(s3: Any) -> None:
    # GIVEN only failed and expired jobs, none with a manifest
    plan = _prepare({"inputUris": [f"s3://{BUCKET}/batch-input/a.jsonl"]})
    shards = [_shard(1, "Failed", "aaaaaaaaaaaa", plan), _shard(2, "Expired", "bbbbbbbbbbbb", plan)]
    # WHEN collected  THEN the run failed and no count is known
    answer = _collect(plan, shards)
    assert answer["outcome"] == "FAILED"
    assert answer["records"] == {
        "total": None,
        "processed": None,
        "succeeded": None,
        "failed": None,
    }
    assert json.loads(_read(s3, plan["manifestUri"]))["outcome"] == "FAILED"


def test_a_long_refusal_is_cut_to_what_step_functions_keeps() -> None:
    # GIVEN a refusal longer than the state machine can parse back (it reads the cause as JSON)
    error = BatchInputError("x" * 100_000)
    # THEN it is cut, and says so
    assert len(str(error)) <= batch_input.MAX_MESSAGE
    assert str(error).endswith("[... cut]")


def test_after_an_early_close_the_rest_is_dealt_evenly_above_the_minimum(s3: Any) -> None:
    # GIVEN 20 records, 6 a job at most, 2 at least, and one large record that makes the first
    # shard close at the byte limit after 4 records (a reviewer's probe found the old dealing
    # left a last shard of 1)
    small = [_record(n, f"r{n:02d}") for n in range(20)]
    size = len(small[0]) + 1
    big = json.dumps({"recordId": "r04", "modelInput": {"text": "x" * (3 * size)}}).encode()
    lines = [*small[:4], big, *small[5:]]
    limits = {
        "minRecordsPerJob": 2,
        "maxRecordsPerJob": 6,
        "maxBytesPerFile": 6 * size,
        "maxBytesPerJob": 50_000,
    }
    plan = _prepare(
        {"inputUris": [_put(s3, "batch-input/a.jsonl", b"\n".join(lines) + b"\n")]},
        {**SETTINGS, "limits": limits},
    )
    # WHEN split
    answer = _split(plan)
    counts = [s["records"] for s in answer["shards"]]
    # THEN every record is written once, no shard is under the minimum or over the maximum
    assert sum(counts) == 20
    assert counts[0] == 4
    assert all(2 <= c <= 6 for c in counts), counts
    assert all(s["bytes"] <= limits["maxBytesPerFile"] for s in answer["shards"])


def test_fails_if_large_records_leave_a_shard_under_the_minimum(s3: Any) -> None:
    # GIVEN a large record first, then small ones: COUNT plans 2 shards of 2 (the bytes fit two
    # files), but the large record and the next small one exceed one file, so the first shard
    # closes after 1 record, under the minimum of 2
    small = [_record(n, f"r{n}") for n in range(1, 4)]
    size = len(small[0]) + 1
    head = json.dumps({"recordId": "r0", "modelInput": {"text": ""}}).encode()
    big = json.dumps(
        {"recordId": "r0", "modelInput": {"text": "x" * (int(2.5 * size) - len(head) - 1)}}
    ).encode()
    limits = {**SETTINGS["limits"], "maxBytesPerFile": 3 * size, "minRecordsPerJob": 2}
    plan = _prepare(
        {"inputUris": [_put(s3, "batch-input/a.jsonl", b"\n".join([big, *small]) + b"\n")]},
        {**SETTINGS, "limits": limits},
    )
    # WHEN split THEN the run is refused, saying why and what to change
    with pytest.raises(BatchInputError, match="shard 1 holds 1 records, fewer than") as refused:
        _split(plan)
    assert "raise maxBytesPerFile" in str(refused.value)


def test_a_slow_shard_keeps_time_for_the_next_one(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN 12 records (3 shards) and a handler with 1.5 s more than the reserve left, where
    # writing a shard takes 1 s (the clock advances 1 s at each reading)
    plan = _prepare(
        {"inputUris": [_put(s3, "batch-input/a.jsonl", b"\n".join(_record(n) for n in range(12)))]}
    )
    ticks = iter(range(1_000_000))
    monkeypatch.setattr(batch_input.time, "monotonic", lambda: float(next(ticks)))
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: batch_input.RESERVE_MS + 1500)
    # WHEN COUNT is done and WRITE begins
    answer = _split(plan, context=context)
    while answer["cursor"] and answer["cursor"]["phase"] == "count":
        answer = _split(plan, answer["cursor"], answer["shards"], context)
    # THEN after one shard it stops: twice the slowest shard (2 s) is more than is left
    assert not answer["done"]
    assert len(answer["shards"]) == 1


def test_a_folder_uri_stands_for_its_jsonl_files(s3: Any) -> None:
    # GIVEN a folder holding two .jsonl files and something else
    a = _put(s3, "batch-input/run-7/a.jsonl", _record(1) + b"\n")
    b = _put(s3, "batch-input/run-7/sub/b.jsonl", _record(2) + b"\n")
    _put(s3, "batch-input/run-7/notes.txt", b"not an input")
    # WHEN a manual run names the folder
    plan = _prepare({"inputUris": [f"s3://{BUCKET}/batch-input/run-7/"]})
    # THEN its inputs are the folder's .jsonl files, in key order
    assert plan["inputs"] == [a, b]


def test_fails_if_a_folder_holds_no_jsonl_file(s3: Any) -> None:
    _put(s3, "batch-input/empty/readme.txt", b"nothing to run")
    with pytest.raises(BatchInputError, match=r"batch-input/empty/ holds no \.jsonl file"):
        _prepare({"inputUris": [f"s3://{BUCKET}/batch-input/empty/"]})


def test_fails_if_a_file_is_named_twice_through_its_folder(s3: Any) -> None:
    a = _put(s3, "batch-input/run-8/a.jsonl", _record(1) + b"\n")
    with pytest.raises(BatchInputError, match="give each file once"):
        _prepare({"inputUris": [a, f"s3://{BUCKET}/batch-input/run-8/"]})


def test_a_run_another_workflow_starts_may_carry_its_parents_execution(s3: Any) -> None:
    # GIVEN the input Step Functions gives a nested execution an audience run associates with
    # itself: its own fields plus AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID ("Start workflow
    # executions", https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html)
    uri = _put(s3, "batch-input/w48/a.jsonl", _record(1) + b"\n")
    parent = "arn:aws:states:us-east-1:123456789012:execution:audiences:s3-abc"
    given = {
        "inputUris": [f"s3://{BUCKET}/batch-input/w48/"],
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": parent,
    }
    # WHEN prepared THEN it is accepted, the folder standing for its file
    plan = _prepare(given)
    assert plan["inputs"] == [uri]
    assert plan["runId"] == batch_input.run_id_of("run-1")
