"""Bedrock batch inference at scale: the state machine's three handler actions.

- ``PrepareBatchInference`` checks what started the execution (an S3 "Object Created" file or
  a list of ``s3://`` URIs) and answers the run's plan: its id, inputs, work and output places.
- ``SplitBatchInput`` streams every input twice (COUNT, then WRITE) and writes the records into
  shards of at most ``maxRecordsPerJob`` records and ``maxBytesPerFile`` bytes, one Bedrock job
  each. It never holds a whole object: S3 GetObject with ``Range: bytes=<offset>-`` and the
  body's ``iter_chunks``, shards written with S3 multipart upload in 8 MiB parts. It stops with
  a cursor when the Lambda has less than a minute left and resumes from it exactly.
- ``CollectBatchResults`` reads each job's ``manifest.json.out`` and writes the run's manifest.

AWS facts relied on (quotes in /tmp/notes/bedrock_research.md of issue 18):

- Record format ``{"recordId": "string", "modelInput": {JSON body}}``, files ending ``.jsonl``:
  https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html
- "If you omit the ``recordId`` field, Amazon Bedrock adds it in the output" (same page); the
  output order "is not guaranteed to match the order of records in the input" (results page):
  join on recordId. That is why every line we write carries one (``RECORD_ID_RULE``).
- The quotas (minimum records per job, records per job, input file size, job size) are per
  model and Region; AWS's pages read for this module show no default values, so the limits come
  from the construct's settings: https://docs.aws.amazon.com/bedrock/latest/userguide/quotas.html
- ``manifest.json.out`` and its counts:
  https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html
  Its location (``<job output URI><job id>/``) is NOT documented by AWS; AWS's own
  awslabs/generative-ai-cdk-constructs (aws-bedrock-batch-stepfn event_handler.py) relies on it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import clients
from botocore.exceptions import ClientError

PREPARE_ACTION = "PrepareBatchInference"
SPLIT_ACTION = "SplitBatchInput"
COLLECT_ACTION = "CollectBatchResults"

#: Size of every multipart part but the last (S3's minimum part size is 5 MiB).
PART_BYTES = 8 * 1024 * 1024
#: Size of the chunks read from a GetObject body.
CHUNK_BYTES = 1024 * 1024
#: SplitBatchInput stops (and answers a cursor) when the Lambda has less than this left.
RESERVE_MS = 60_000
#: How many lines, or bytes, COUNT reads between two looks at the clock.
COUNT_CHECK_EVERY = 4096
COUNT_CHECK_BYTES = 64 * 1024 * 1024
#: Our rule, not AWS's (AWS documents no record size in the pages read): a line longer than
#: this is refused, so that the 256 MB handler never buffers more.
MAX_LINE_BYTES = 32 * 1024 * 1024
MAX_INPUTS = 100
#: Bytes of a Bedrock manifest.json.out we read (it is a handful of counts).
MAX_MANIFEST_BYTES = 1024 * 1024

RECORD_ID_RULE = (
    "A line's own recordId is kept. A line without one gets an 11-digit id: two digits for the "
    "input (00 = the plan's first input URI) then nine for the line's 1-based line number in that "
    "file (blank lines counted), e.g. 01000000042 = line 42 of the second input. Amazon Bedrock "
    "would add a recordId of its own to the output of a line without one; ours keeps every "
    "output record traceable to its input line. Kept ids are not checked for uniqueness."
)
_MANIFEST_COUNTS = (
    "totalRecordCount",
    "processedRecordCount",
    "successRecordCount",
    "errorRecordCount",
    "inputTokenCount",
    "outputTokenCount",
)
_LIMITS = ("minRecordsPerJob", "maxRecordsPerJob", "maxBytesPerFile", "maxBytesPerJob")
_S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+)")
_BOM = b"\xef\xbb\xbf"

RemainingMs = Callable[[], int]


#: Longest message a refusal carries: Step Functions keeps at most 32,768 characters of an
#: error's cause, and the state machine parses the cause as JSON ("Step Functions service
#: quotas", https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
MAX_MESSAGE = 4000


class BatchInputError(Exception):
    """The run's input or its files break the workflow's rules (the Step Functions error name
    the batch state machine catches); the message is cut to ``MAX_MESSAGE`` characters."""

    def __init__(self, message: str) -> None:
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 20] + " [... cut]"
        super().__init__(message)


# ------------------------------------------------------------------------------------ PREPARE


#: The field Step Functions adds to a nested execution's input when the parent associates it.
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"


def prepare(event: Mapping[str, Any]) -> dict[str, Any]:
    """The run's plan from the execution input and the construct's settings."""
    settings = event.get("Settings") or {}
    given = event.get("Input")
    execution = str(event.get("ExecutionName", ""))
    if not isinstance(given, Mapping):
        raise BatchInputError(f"the execution input must be a JSON object, got {given!r}")
    if "inputObject" in given:
        source, inputs = "s3", [_from_input_object(given, settings)]
    elif "inputUris" in given:
        source, inputs = "manual", _from_input_uris(given, settings)
    else:
        raise BatchInputError(
            "the execution input must be {'inputObject': {'bucket': ..., 'key': ...}} (an S3 "
            "notification) or {'inputUris': ['s3://bucket/key.jsonl', ...]}; got the fields "
            f"{sorted(given)}"
        )
    limits = _limits(settings.get("limits"))
    max_shards = settings.get("maxShards")
    if isinstance(max_shards, bool) or not isinstance(max_shards, int) or max_shards < 1:
        raise BatchInputError(f"Settings.maxShards must be a positive integer, got {max_shards!r}")
    run_id = run_id_of(execution)
    work = _folder(settings, "workUri")
    output = _folder(settings, "outputUri")
    return {
        "source": source,
        "runId": run_id,
        "inputs": inputs,
        "workUri": f"{work}{run_id}/",
        "outputUri": f"{output}{run_id}/",
        "manifestUri": f"{output}{run_id}/manifest.json",
        "jobNamePrefix": str(settings.get("jobNamePrefix", "batch")),
        "limits": limits,
        "maxShards": max_shards,
    }


def run_id_of(execution_name: str) -> str:
    """A run's id (its folders' name): 16 hex digits of its execution name's SHA-256."""
    return hashlib.sha256(execution_name.encode()).hexdigest()[:16]


def _from_input_object(given: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    found = given.get("inputObject")
    if not isinstance(found, Mapping) or not found.get("bucket") or not found.get("key"):
        raise BatchInputError(f"inputObject must be {{'bucket': ..., 'key': ...}}, got {found!r}")
    unknown = sorted(set(given) - {"inputObject"})
    if unknown:
        raise BatchInputError(f"an inputObject input has no other fields; got {unknown}")
    bucket, key = str(found["bucket"]), str(found["key"])
    prefix = str(settings.get("inputPrefix") or "")
    expected = settings.get("inputBucket")
    if (
        (expected and bucket != expected)
        or not key.startswith(prefix)
        or not key.endswith(".jsonl")
    ):
        # A workflow without an input bucket (manual starts only) names no bucket in its rule.
        where = f"s3://{expected}/" if expected else "any bucket's "
        raise BatchInputError(
            f"s3://{bucket}/{key} is not an input file of this workflow ({where}{prefix}*.jsonl)"
        )
    return f"s3://{bucket}/{key}"


def _from_input_uris(given: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    # a run another workflow starts (startExecution with associate_with_parent) also carries
    # its parent's execution ARN ("Start workflow executions", Step Functions developer guide)
    unknown = sorted(set(given) - {"inputUris", STARTED_BY})
    if unknown:
        raise BatchInputError(f"an inputUris input has no other fields; got {unknown}")
    uris = given["inputUris"]
    if not isinstance(uris, list) or not 1 <= len(uris) <= MAX_INPUTS:
        raise BatchInputError(
            f"inputUris must be a list of 1 to {MAX_INPUTS} S3 URIs, got {_short(uris)}"
        )
    problems = []
    location = _input_location(settings)
    for i, uri in enumerate(uris):
        if not isinstance(uri, str) or _S3_URI.fullmatch(uri) is None:
            problems.append(f"inputUris[{i}] {uri!r} must be an S3 URI (s3://<bucket>/<key>)")
        elif not uri.endswith((".jsonl", "/")):
            problems.append(
                f"inputUris[{i}] {uri!r} must end in .jsonl (Amazon Bedrock reads only "
                ".jsonl files) or be a folder ending in '/' (its .jsonl files)"
            )
        elif not uri.startswith(location):
            # the stack's one handler may read other workflows' data too: a run reads only
            # its own workflow's input location
            problems.append(f"inputUris[{i}] {uri!r} is not under this workflow's input {location}")
    seen: set[str] = set()
    for i, uri in enumerate(uris):
        if isinstance(uri, str) and uri in seen:
            problems.append(f"inputUris[{i}] {uri!r} is a duplicate: each file may appear once")
        seen.add(str(uri))
    if problems:
        raise BatchInputError(f"{len(problems)} problem(s) in inputUris: " + "; ".join(problems))
    files: list[str] = []
    for uri in uris:
        files += _jsonl_in(uri) if uri.endswith("/") else [uri]
    if len(set(files)) != len(files) or len(files) > MAX_INPUTS:
        raise BatchInputError(
            f"inputUris name {len(files)} files ({len(set(files))} different) once their folders "
            f"are listed: give each file once, and at most {MAX_INPUTS}"
        )
    return files


def _jsonl_in(folder: str) -> list[str]:
    """The ``.jsonl`` files under ``folder`` (an ``s3://`` URI ending in ``/``), in key order
    (S3 lists keys in UTF-8 binary order)."""
    bucket, prefix = _parse(folder)
    found: list[str] = []
    try:
        pages = (
            clients.client("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=bucket, Prefix=prefix)
        )
        for page in pages:
            found += [
                f"s3://{bucket}/{item['Key']}"
                for item in page.get("Contents", [])
                if item["Key"].endswith(".jsonl")
            ]
    except ClientError as error:
        raise _s3_error("ListObjectsV2", folder, error) from None
    if not found:
        raise BatchInputError(f"the folder {folder} holds no .jsonl file")
    return found


def _input_location(settings: Mapping[str, Any]) -> str:
    """``s3://<input bucket>/<input prefix>`` (any bucket when the settings name none)."""
    bucket = settings.get("inputBucket")
    prefix = str(settings.get("inputPrefix", ""))
    return f"s3://{bucket}/{prefix}" if bucket else "s3://"


def _limits(given: Any) -> dict[str, int]:
    if not isinstance(given, Mapping):
        raise BatchInputError(f"Settings.limits must be an object, got {given!r}")
    limits = {}
    for name in _LIMITS:
        value = given.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BatchInputError(
                f"Settings.limits.{name} must be a positive integer, got {value!r}"
            )
        limits[name] = value
    if limits["minRecordsPerJob"] > limits["maxRecordsPerJob"]:
        raise BatchInputError(
            f"Settings.limits.minRecordsPerJob ({limits['minRecordsPerJob']}) is more than "
            f"maxRecordsPerJob ({limits['maxRecordsPerJob']})"
        )
    return limits


def _folder(settings: Mapping[str, Any], name: str) -> str:
    value = settings.get(name)
    if not isinstance(value, str) or _S3_URI.fullmatch(value.rstrip("/") + "/x") is None:
        raise BatchInputError(
            f"Settings.{name} must be an S3 URI (s3://<bucket>/...), got {value!r}"
        )
    return value.rstrip("/") + "/"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


# -------------------------------------------------------------------------------------- SPLIT


def record_id(input_index: int, line_number: int) -> str:
    """The id ``RECORD_ID_RULE`` assigns to line ``line_number`` (1-based) of input
    ``input_index`` (0-based): 11 digits, which is also the "11 character alphanumeric string"
    older AWS pages described (the current page says only "string")."""
    return f"{input_index:02d}{line_number:09d}"


def record_origin(rid: str) -> tuple[int, int]:
    """(input index, line number) of an id ``record_id`` assigned."""
    return int(rid[:2]), int(rid[2:])


def split(
    event: Mapping[str, Any], context: Any = None, remaining_ms: RemainingMs | None = None
) -> dict[str, Any]:
    """One invocation's share of the split (see the module's docstring and the contract).

    COUNT finds R records and B bytes (as written); n = max(ceil(R / maxRecordsPerJob),
    ceil(B / min(maxBytesPerFile, maxBytesPerJob))) -- one file per job, so the job's size is
    the file's. The R records are dealt in input order into n shards whose sizes differ by at
    most one (the first R mod n shards get one record more), so no shard is left with a small
    remainder below minRecordsPerJob; a shard also closes early when the next line would take it
    past the byte limit (then there can be more than n shards, never more than maxShards).

    The deadline is ``remaining_ms()`` if given, else the Lambda context's
    ``get_remaining_time_in_millis``; with neither (tests without a context) there is none.
    COUNT may stop after any line; WRITE stops only between two shards, so a resumed run writes
    the same shards under the same keys as a run that never stopped. Every call makes progress
    (COUNT looks at the clock every ``COUNT_CHECK_EVERY`` records, WRITE after each shard).

    The cursor is ours, opaque to the state machine: ``phase`` ("count" | "write"), where to go
    on (``input`` index, byte ``offset`` of the next line, ``line`` number read so far), the
    inputs' ``etags`` seen by COUNT (later reads use GetObject IfMatch, so a file replaced during
    the split is refused rather than mixed), COUNT's running ``records``/``bytes``, and in WRITE
    the next ``shard`` index and ``shardCount`` n.
    """
    plan = event.get("Plan") or {}
    clock = remaining_ms or getattr(context, "get_remaining_time_in_millis", None)
    cursor = dict(
        event.get("Cursor")
        or {
            "phase": "count",
            "input": 0,
            "offset": 0,
            "line": 0,
            "records": 0,
            "bytes": 0,
            "etags": [],
        }
    )
    shards = list(event.get("Shards") or [])
    limits = plan["limits"]
    inputs = list(plan["inputs"])
    file_limit = min(limits["maxBytesPerFile"], limits["maxBytesPerJob"])

    def late(extra_ms: float = 0) -> bool:
        """Less than the reserve (plus ``extra_ms``, the time the next piece may take) left."""
        return clock is not None and clock() < RESERVE_MS + extra_ms

    def answer(done: bool, records: int | None, too_few: bool = False) -> dict[str, Any]:
        return {
            "done": done,
            "cursor": None if done else cursor,
            "shards": shards,
            "records": records,
            "tooFew": too_few,
            "minimum": limits["minRecordsPerJob"],
        }

    if cursor["phase"] == "count":
        records = _records(inputs, cursor, file_limit)
        unchecked = 0
        for seen, (position, _raw, size) in enumerate(records, start=1):
            cursor.update(position)
            cursor["records"] += 1
            cursor["bytes"] += size
            unchecked += size
            if seen % COUNT_CHECK_EVERY == 0 or unchecked >= COUNT_CHECK_BYTES:
                unchecked = 0
                if late():
                    return answer(False, None)
        total, volume = cursor["records"], cursor["bytes"]
        if total < limits["minRecordsPerJob"]:
            cursor = {}
            return answer(True, total, too_few=True)
        n = max(math.ceil(total / limits["maxRecordsPerJob"]), math.ceil(volume / file_limit))
        if n > plan["maxShards"]:
            raise BatchInputError(
                f"{total} records ({volume} bytes) need {n} shards (at most "
                f"{limits['maxRecordsPerJob']} records and {file_limit} bytes each), more than "
                f"maxShards {plan['maxShards']}: raise maxShards or the limits, or split the input"
            )
        if n > 1 and total // n < limits["minRecordsPerJob"]:
            raise BatchInputError(
                f"{total} records ({volume} bytes) split into {n} shards give as few as "
                f"{total // n} records to a shard, fewer than minRecordsPerJob "
                f"{limits['minRecordsPerJob']}: "
                "raise maxRecordsPerJob or maxBytesPerFile if the quotas allow it"
            )
        cursor = {
            "phase": "write",
            "input": 0,
            "offset": 0,
            "line": 0,
            "shard": 1,
            "records": total,
            "bytes": volume,
            "shardCount": n,
            "etags": cursor["etags"],
        }
        if late():
            return answer(False, total)
    return _write(plan, cursor, shards, file_limit, late, answer)


def _write(
    plan: Mapping[str, Any],
    cursor: dict[str, Any],
    shards: list[dict[str, Any]],
    file_limit: int,
    late: Callable[[float], bool],
    answer: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """WRITE: the shards, one after the other; before opening the next one, stop if less than
    the reserve plus twice the longest shard so far is left (a shard is never cut by the
    Lambda timeout, however large its records)."""
    total = cursor["records"]
    limits = plan["limits"]
    writer: _ShardWriter | None = None
    target = 0
    opened = longest_ms = 0.0
    start = {key: cursor[key] for key in ("input", "offset", "line")}
    try:
        for position, raw, size in _records(list(plan["inputs"]), cursor, file_limit):
            if writer is not None and (
                writer.records >= target or writer.bytes + size > file_limit
            ):
                shard = writer.close()
                writer = None
                shards.append(_at_least_the_minimum(shard, limits))
                longest_ms = max(longest_ms, (time.monotonic() - opened) * 1000)
                cursor.update(start)
                cursor["shard"] += 1
                if late(2 * longest_ms):
                    return answer(False, total)
            if writer is None:
                opened = time.monotonic()
                writer = _open_shard(plan, cursor["shard"])
                target = _target(total, shards, cursor["shardCount"], limits)
            writer.write(raw)
            start = position
        if writer is not None:
            shard = writer.close()
            writer = None
            shards.append(_at_least_the_minimum(shard, limits))
    finally:
        if writer is not None:
            writer.abort()
    written = sum(int(shard["records"]) for shard in shards)
    if written != total or len(shards) > plan["maxShards"]:
        raise BatchInputError(
            f"the inputs changed while they were split: COUNT found {total} records, WRITE "
            f"wrote {written} in {len(shards)} shards (maxShards {plan['maxShards']})"
        )
    return answer(True, total)


def _target(total: int, shards: list[dict[str, Any]], count: int, limits: Mapping[str, int]) -> int:
    """Records for the next shard: what is left, dealt evenly over the shards left (at least
    as many as the record limit needs). After a shard closed early at the byte limit, the rest
    are re-dealt, so no shard is a small remainder below the minimum."""
    remaining = total - sum(int(shard["records"]) for shard in shards)
    left = max(count - len(shards), math.ceil(remaining / limits["maxRecordsPerJob"]), 1)
    return math.ceil(remaining / left)


def _at_least_the_minimum(shard: dict[str, Any], limits: Mapping[str, int]) -> dict[str, Any]:
    """The written shard; one the byte limit closed below the minimum number of records would
    be refused by Bedrock, so the run is refused here instead."""
    if shard["records"] < limits["minRecordsPerJob"]:
        raise BatchInputError(
            f"shard {shard['index']} holds {shard['records']} records, fewer than "
            f"minRecordsPerJob {limits['minRecordsPerJob']}: its records are so large that the "
            "byte limit closes it first; raise maxBytesPerFile if the quotas allow it, or send "
            "smaller records"
        )
    return shard


def _open_shard(plan: Mapping[str, Any], index: int) -> _ShardWriter:
    if index > plan["maxShards"]:
        raise BatchInputError(
            f"shard {index} would exceed maxShards {plan['maxShards']}: records too large for "
            "the byte limit closed shards early; raise maxShards or maxBytesPerFile"
        )
    return _ShardWriter(f"{plan['workUri']}shard-{index:05d}.jsonl", index)


def _records(
    inputs: list[str], cursor: dict[str, Any], file_limit: int
) -> Iterator[tuple[dict[str, int], bytes, int]]:
    """From the cursor on: (the position after the record, its output line, its size) for every
    record; blank lines are skipped. The output line is the input's bytes (line ending and
    surrounding whitespace removed) with ``"recordId"`` put first when the line had none, plus
    ``\\n``. Every line is checked: a JSON object with ``modelInput``."""
    etags: list[str] = cursor["etags"]
    first, first_offset, first_line = cursor["input"], cursor["offset"], cursor["line"]
    for index in range(first, len(inputs)):
        uri = inputs[index]
        offset = first_offset if index == first else 0
        line = first_line if index == first else 0
        for start, data in _lines(uri, offset, index, etags):
            line += 1
            end = start + len(data)
            if len(data) > MAX_LINE_BYTES:
                raise BatchInputError(f"{uri} line {line} is longer than {MAX_LINE_BYTES} bytes")
            if line == 1 and data.startswith(_BOM):
                data = data[len(_BOM) :]
            body = data.strip()
            if not body:
                continue
            out = _checked(uri, line, index, body) + b"\n"
            if len(out) > file_limit:
                raise BatchInputError(
                    f"{uri} line {line} is {len(out)} bytes as written, more than a shard may "
                    f"hold ({file_limit} bytes, maxBytesPerFile/maxBytesPerJob)"
                )
            yield {"input": index, "offset": end, "line": line}, out, len(out)
    cursor.update({"input": len(inputs), "offset": 0, "line": 0})


def _checked(uri: str, line: int, index: int, body: bytes) -> bytes:
    try:
        record = json.loads(body)
    except json.JSONDecodeError as error:
        problem = f"{error.msg} at column {error.colno}"
    except UnicodeDecodeError as error:
        problem = f"not UTF-8 at column {error.start + 1}"
    else:
        problem = ""
    if problem:
        raise BatchInputError(
            f"{uri} line {line} is not JSON ({problem}); every line must be one JSON object "
            '{"recordId": ..., "modelInput": {...}} (blank lines are skipped)'
        )
    if not isinstance(record, dict):
        raise BatchInputError(
            f"{uri} line {line} is a JSON {type(record).__name__}, not an object; every line "
            'must be {"recordId": ..., "modelInput": {...}}'
        )
    if "modelInput" not in record:
        raise BatchInputError(
            f"{uri} line {line} has no modelInput field (fields: {sorted(record)[:10]}); "
            "Amazon Bedrock takes the model's request body from modelInput"
        )
    if "recordId" in record:
        rid = record["recordId"]
        if not isinstance(rid, str) or not rid:
            raise BatchInputError(
                f"{uri} line {line} has recordId {rid!r}: it must be a non-empty string"
            )
        return body
    return b'{"recordId":"' + record_id(index, line).encode() + b'",' + body[1:]


def _lines(uri: str, offset: int, index: int, etags: list[str]) -> Iterator[tuple[int, bytes]]:
    """(absolute offset, bytes with the ``\\n``) of every line from ``offset``: one ranged
    GetObject, read in ``CHUNK_BYTES`` chunks; a last line without ``\\n`` is yielded too. The
    object must keep the ETag it had when COUNT first read it (GetObject IfMatch)."""
    bucket, key = _parse(uri)
    request: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if offset:
        request["Range"] = f"bytes={offset}-"
    if index < len(etags):
        request["IfMatch"] = etags[index]
    try:
        response = clients.client("s3").get_object(**request)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "InvalidRange":  # the cursor is at the end of the object: nothing left
            return
        if code in ("PreconditionFailed", "412"):
            raise BatchInputError(
                f"{uri} changed while it was split (its ETag is no longer {etags[index]}); "
                "start a new execution"
            ) from None
        raise _s3_error("GetObject", uri, error) from None
    if index >= len(etags):
        etags.append(str(response.get("ETag", "")))
    body = response["Body"]
    base, pending = offset, b""
    try:
        for chunk in body.iter_chunks(CHUNK_BYTES):
            data = pending + chunk if pending else chunk
            start = 0
            while (newline := data.find(b"\n", start)) >= 0:
                yield base + start, data[start : newline + 1]
                start = newline + 1
            pending = data[start:]
            base += start
            if len(pending) > MAX_LINE_BYTES:
                raise BatchInputError(
                    f"{uri} has a line longer than {MAX_LINE_BYTES} bytes at byte {base}"
                )
        if pending:
            yield base, pending
    finally:
        body.close()


class _ShardWriter:
    """One shard: an S3 multipart upload in ``PART_BYTES`` parts, started when the first part
    is full; a shard smaller than one part is one PutObject. At most two parts' worth (the
    buffer and the part being sent) plus one line are held in memory."""

    def __init__(self, uri: str, index: int) -> None:
        self.uri, self.index = uri, index
        self.bucket, self.key = _parse(uri)
        self.buffer = bytearray()
        self.records = 0
        self.bytes = 0
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.s3 = clients.client("s3")

    def write(self, line: bytes) -> None:
        self.buffer += line
        self.records += 1
        self.bytes += len(line)
        while len(self.buffer) >= PART_BYTES:
            part = self.buffer[:PART_BYTES]  # the one copy: the part and the buffer, no more
            del self.buffer[:PART_BYTES]
            self._part(part)

    def _part(self, data: bytes | bytearray) -> None:
        try:
            if self.upload_id is None:
                self.upload_id = self.s3.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key, ContentType="application/jsonl"
                )["UploadId"]
            number = len(self.parts) + 1
            etag = self.s3.upload_part(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=data,
            )["ETag"]
        except ClientError as error:
            raise _s3_error("UploadPart", self.uri, error) from None
        self.parts.append({"PartNumber": number, "ETag": etag})

    def close(self) -> dict[str, Any]:
        try:
            if self.upload_id is None:
                self.s3.put_object(
                    Bucket=self.bucket,
                    Key=self.key,
                    Body=self.buffer,
                    ContentType="application/jsonl",
                )
            else:
                if self.buffer:
                    self._part(self.buffer)
                self.s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=self.key,
                    UploadId=self.upload_id,
                    MultipartUpload={"Parts": self.parts},
                )
        except ClientError as error:
            raise _s3_error("writing", self.uri, error) from None
        self.buffer = bytearray()
        self.upload_id = None
        return {"index": self.index, "uri": self.uri, "records": self.records, "bytes": self.bytes}

    def abort(self) -> None:
        if self.upload_id is not None:
            self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )
            self.upload_id = None


# ------------------------------------------------------------------------------------ COLLECT


def collect(event: Mapping[str, Any]) -> dict[str, Any]:
    """Every job's counts from its ``manifest.json.out``, the run's outcome, and the run's
    manifest written to ``plan.manifestUri``.

    The manifest is read from ``<shard outputUri><job id>/manifest.json.out``, the job id being
    the ARN's last part (``model-invocation-job/<id>``). AWS documents the file and its counts
    (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html) but NOT
    the ``<job id>/`` folder; AWS's awslabs/generative-ai-cdk-constructs relies on it
    (aws-bedrock-batch-stepfn event_handler.py, get_output_keys). A job without an ARN or a
    manifest (NoSuchKey) has unknown (null) counts; that is not an error.
    """
    plan = event.get("Plan") or {}
    given = event.get("Shards") or []
    shards = [dict(shard, **_job_counts(shard)) for shard in given]
    statuses = [str(shard.get("status")) for shard in shards]
    completed = [
        shard
        for shard in shards
        if shard.get("status") == "Completed" and not shard.get("errorRecordCount")
    ]
    if shards and len(completed) == len(shards):
        outcome = "SUCCEEDED"
    elif not any(status in ("Completed", "PartiallyCompleted") for status in statuses):
        outcome = "FAILED"
    else:
        outcome = "SUCCEEDED_WITH_WARNINGS"
    records = {
        "total": _sum(shards, "totalRecordCount"),
        "processed": _sum(shards, "processedRecordCount"),
        "succeeded": _sum(shards, "successRecordCount"),
        "failed": _sum(shards, "errorRecordCount"),
    }
    by_status = dict(sorted(Counter(statuses).items()))
    totals = {
        **records,
        "submitted": sum(int(shard.get("records") or 0) for shard in shards),
        "inputTokens": _sum(shards, "inputTokenCount"),
        "outputTokens": _sum(shards, "outputTokenCount"),
        "shardsWithoutManifest": sum(
            1
            for shard in shards
            if shard["jobManifestUri"] is None or shard["totalRecordCount"] is None
        ),
    }
    manifest = {
        "runId": plan.get("runId"),
        "inputs": plan.get("inputs"),
        "recordIdRule": RECORD_ID_RULE,
        "outcome": outcome,
        "byStatus": by_status,
        "totals": totals,
        "shards": shards,
    }
    uri = str(plan.get("manifestUri"))
    bucket, key = _parse(uri)
    try:
        clients.client("s3").put_object(
            Bucket=bucket,
            Key=key,
            ContentType="application/json",
            Body=(json.dumps(manifest, indent=2) + "\n").encode(),
        )
    except ClientError as error:
        raise _s3_error("PutObject", uri, error) from None
    return {
        "outcome": outcome,
        "manifestUri": uri,
        "shards": len(shards),
        "byStatus": by_status,
        "records": records,
    }


def _job_counts(shard: Mapping[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = dict.fromkeys(_MANIFEST_COUNTS)
    arn, output = shard.get("jobArn"), shard.get("outputUri")
    if not arn or not output:
        return {"jobManifestUri": None, **counts}
    job_id = str(arn).rsplit("/", 1)[-1]
    uri = f"{str(output).rstrip('/')}/{job_id}/manifest.json.out"
    bucket, key = _parse(uri)
    try:
        body = clients.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
        data = body.read(MAX_MANIFEST_BYTES)
        body.close()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return {"jobManifestUri": uri, **counts}
        raise _s3_error("GetObject", uri, error) from None
    try:
        found = json.loads(data)
    except ValueError:
        found = {}
    for name in _MANIFEST_COUNTS:
        value = found.get(name) if isinstance(found, dict) else None
        counts[name] = value if isinstance(value, int) and not isinstance(value, bool) else None
    return {"jobManifestUri": uri, **counts}


def _sum(shards: list[dict[str, Any]], name: str) -> int | None:
    known = [shard[name] for shard in shards if shard.get(name) is not None]
    return sum(known) if known else None


# ------------------------------------------------------------------------------------- shared


def _parse(uri: str) -> tuple[str, str]:
    match = _S3_URI.fullmatch(uri)
    if match is None:
        raise BatchInputError(f"{uri!r} is not an S3 URI (s3://<bucket>/<key>)")
    return match.group(1), match.group(2)


def _s3_error(operation: str, uri: str, error: ClientError) -> BatchInputError:
    detail = error.response.get("Error", {})
    return BatchInputError(
        f"S3 {operation} on {uri} failed: {detail.get('Code')}: {detail.get('Message')} (check "
        "that the object exists and that the handler's role may read the input and write the "
        "work and output locations)"
    )
