"""SplitBatchInput at scale: 1,000,000 Bedrock records split into 20 shards of 50,000.

Generates N records in Bedrock's batch format (an Anthropic Messages body of about 200 bytes,
no recordId, so the handler assigns one to every line) as ``--files`` JSONL files, then runs
the handler's ``PrepareBatchInference`` and ``SplitBatchInput`` (``handler.on_event``) with
``maxRecordsPerJob`` 50,000, on two S3 back-ends, each in a fresh process:

- ``moto``: moto's S3 in the same process (``mock_aws``; botocore serializes and parses every
  call; moto keeps object bodies on disk past 1 MiB). Its memory figures include moto itself
  (object storage, request handling, the service models it loads): an upper bound;
- ``files``: a stand-in client that serves the same six S3 calls from local files (ranged
  reads through botocore's ``StreamingBody``): the handler's own memory, and its CPU cost with
  no S3 emulation.

Each back-end runs twice: once timed (COUNT and WRITE apart, every shard's write), once under
tracemalloc (peak Python memory of the split; the process's peak RSS is reset, through
``/proc/self/clear_refs``, after the data is generated). Handler invocations at the stack's
5-minute Lambda budget are simulated from the timed moto run: an invocation works until less
than ``RESERVE_MS`` (60 s) is left, COUNT stopping anywhere and WRITE only between shards.

Writes ``bench/batch-split.md`` and ``bench/batch-split.json``.
Usage: .venv/bin/python bench/batch_split.py [--records N] [--files F] [--out DIR]
       (``--records 20000 --max-records 1000`` is a smoke run of a few seconds)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda"))
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(1024 * 1024),
}.items():
    os.environ.setdefault(_name, _value)

import batch_input  # noqa: E402
import clients  # noqa: E402
import handler  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from botocore.response import StreamingBody  # noqa: E402

BUCKET = "bench-batch"
LAMBDA_BUDGET_MS = 5 * 60 * 1000
#: "At 1,769 MB, a function has the equivalent of one vCPU (one vCPU-second of credits per
#: second)" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): the stack's
#: 256 MB handler gets 256/1769 of one. The split is CPU-bound (JSON parsing), so its times are
#: also simulated slowed by 1769/256, assuming one of this machine's CPUs is one vCPU.
LAMBDA_MEMORY_MB = 256
ONE_VCPU_MB = 1769


def record(n: int) -> bytes:
    """One Bedrock batch record: an Anthropic Messages body of about 200 bytes."""
    body = {
        "modelInput": {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 256,
            "messages": [
                {
                    "role": "user",
                    "content": f"Summarise customer review {n:07d} in one sentence: the parcel "
                    f"arrived on day {n % 7 + 1} and the kettle works.",
                }
            ],
        }
    }
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def file_lines(records: int, files: int, index: int) -> Iterator[bytes]:
    per_file = -(-records // files)
    yield from (record(n) for n in range(index * per_file, min(records, (index + 1) * per_file)))


def batches(lines: Iterator[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for line in lines:
        buffer += line
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


class FileS3:
    """The S3 calls the split makes, served from ``root/<bucket>/<key>`` files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uploads: dict[str, Path] = {}

    def _path(self, bucket: str, key: str) -> Path:
        path = self.root / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def get_object(self, **request: Any) -> dict[str, Any]:
        path = self._path(request["Bucket"], request["Key"])
        size = path.stat().st_size
        etag = f'"{path.stat().st_mtime_ns}-{size}"'
        if request.get("IfMatch", etag) != etag:
            raise ClientError({"Error": {"Code": "PreconditionFailed"}}, "GetObject")
        offset = int(request.get("Range", "bytes=0-")[6:-1])
        if offset and offset >= size:
            raise ClientError({"Error": {"Code": "InvalidRange"}}, "GetObject")
        stream = path.open("rb")
        stream.seek(offset)
        return {"Body": StreamingBody(stream, size - offset), "ETag": etag}

    def put_object(self, **request: Any) -> dict[str, Any]:
        self._path(request["Bucket"], request["Key"]).write_bytes(request["Body"])
        return {}

    def create_multipart_upload(self, **request: Any) -> dict[str, Any]:
        upload = f"u{len(self.uploads)}"
        self.uploads[upload] = self._path(request["Bucket"], request["Key"] + "." + upload)
        self.uploads[upload].write_bytes(b"")
        return {"UploadId": upload}

    def upload_part(self, **request: Any) -> dict[str, Any]:
        with self.uploads[request["UploadId"]].open("ab") as part:
            part.write(request["Body"])
        return {"ETag": f'"{request["PartNumber"]}"'}

    def complete_multipart_upload(self, **request: Any) -> dict[str, Any]:
        self.uploads.pop(request["UploadId"]).replace(self._path(request["Bucket"], request["Key"]))
        return {}

    def abort_multipart_upload(self, **request: Any) -> dict[str, Any]:
        self.uploads.pop(request["UploadId"]).unlink()
        return {}


def generate(backend: str, records: int, files: int, tmp: Path) -> list[str]:
    """The input files, written in 8 MiB pieces (never whole in memory)."""
    uris = []
    s3 = clients.client("s3")
    for index in range(files):
        key = f"batch-input/part-{index:02d}.jsonl"
        uris.append(f"s3://{BUCKET}/{key}")
        lines = file_lines(records, files, index)
        if backend == "files":
            with (tmp / BUCKET / key).open("wb") as out:
                for piece in batches(lines, 8 * 1024 * 1024):
                    out.write(piece)
            continue
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        parts = []
        for number, piece in enumerate(batches(lines, 8 * 1024 * 1024), start=1):
            answer = s3.upload_part(
                Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=piece
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        s3.complete_multipart_upload(
            Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
        )
    return uris


def _rss_peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def worker(backend: str, mode: str, records: int, files: int, max_records: int) -> dict[str, Any]:
    """One measured split in this process (run by ``main`` in a fresh process)."""
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "files":
            fake = FileS3(Path(tmp))
            (Path(tmp) / BUCKET / "batch-input").mkdir(parents=True)
            clients.client = lambda service, region_name=None: fake  # type: ignore[assignment]
            return _measure(backend, mode, records, files, max_records, Path(tmp))
        from moto import mock_aws

        with mock_aws():
            clients.client("s3").create_bucket(Bucket=BUCKET)
            return _measure(backend, mode, records, files, max_records, Path(tmp))


def _measure(
    backend: str, mode: str, records: int, files: int, max_records: int, tmp: Path
) -> dict[str, Any]:
    inputs = generate(backend, records, files, tmp)
    input_bytes = sum(len(record(n)) for n in range(records))
    settings = {
        "inputBucket": BUCKET,
        "inputPrefix": "batch-input/",
        "workUri": f"s3://{BUCKET}/batch-work/",
        "outputUri": f"s3://{BUCKET}/batch-output/",
        "jobNamePrefix": "bench",
        "limits": {
            "minRecordsPerJob": 100,
            "maxRecordsPerJob": max_records,
            "maxBytesPerFile": 1024**3,
            "maxBytesPerJob": 5 * 1024**3,
        },
        "maxShards": 1000,
    }
    plan = handler.on_event(
        {
            "Action": batch_input.PREPARE_ACTION,
            "Input": {"inputUris": inputs},
            "ExecutionName": f"bench-{backend}-{mode}",
            "Settings": settings,
        }
    )
    marks: list[float] = []
    real_write, real_close = batch_input._write, batch_input._ShardWriter.close

    def timed_write(*args: Any, **kwargs: Any) -> dict[str, Any]:
        marks.append(time.perf_counter())
        return real_write(*args, **kwargs)

    def timed_close(self: Any) -> dict[str, Any]:
        answer = real_close(self)
        marks.append(time.perf_counter())
        return answer

    batch_input._write = timed_write  # type: ignore[assignment]
    batch_input._ShardWriter.close = timed_close  # type: ignore[method-assign]
    Path("/proc/self/clear_refs").write_text("5")
    rss_before = _rss_peak_mib()
    if mode == "memory":
        tracemalloc.start()
    started = time.perf_counter()
    answer = handler.on_event(
        {"Action": batch_input.SPLIT_ACTION, "Plan": plan, "Cursor": None, "Shards": []}
    )
    ended = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if mode == "memory" else None
    tracemalloc.stop()
    shards = answer["shards"]
    assert answer["done"]
    assert sum(shard["records"] for shard in shards) == records == answer["records"]
    return {
        "backend": backend,
        "mode": mode,
        "records": records,
        "files": files,
        "input_bytes": input_bytes,
        "shards": len(shards),
        "shard_records": sorted({shard["records"] for shard in shards}),
        "shard_bytes_max": max(shard["bytes"] for shard in shards),
        "output_bytes": sum(shard["bytes"] for shard in shards),
        "split_seconds": round(ended - started, 2),
        "count_seconds": round(marks[0] - started, 2),
        "write_seconds": round(ended - marks[0], 2),
        "shard_write_seconds": [round(b - a, 3) for a, b in itertools.pairwise(marks)],
        "tracemalloc_peak_mib": round(peak / 1024**2, 1) if peak is not None else None,
        "rss_before_split_mib": rss_before,
        "rss_peak_during_split_mib": _rss_peak_mib(),
    }


def invocations(count_seconds: float, shard_seconds: list[float]) -> dict[str, Any]:
    """Lambda invocations at a 5-minute budget, stopping with less than RESERVE_MS left."""
    usable = (LAMBDA_BUDGET_MS - batch_input.RESERVE_MS) / 1000
    calls, elapsed, left = 1, 0.0, count_seconds
    while elapsed + left > usable:  # COUNT stops anywhere
        left -= usable - elapsed
        calls, elapsed = calls + 1, 0.0
    elapsed += left
    if elapsed >= usable and shard_seconds:
        calls, elapsed = calls + 1, 0.0
    for i, seconds in enumerate(shard_seconds):
        elapsed += seconds
        if elapsed >= usable and i + 1 < len(shard_seconds):  # WRITE stops between shards
            calls, elapsed = calls + 1, 0.0
    return {
        "invocations": calls,
        "longest_shard_seconds": max(shard_seconds, default=0.0),
        "fits": max(shard_seconds, default=0.0) < batch_input.RESERVE_MS / 1000,
    }


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    from importlib.metadata import version

    return (
        f"{cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python "
        f"{platform.python_version()}, boto3 {version('boto3')}, moto {version('moto')}"
    )


def write(results: dict[str, Any], out: Path) -> None:
    (out / "batch-split.json").write_text(json.dumps(results, indent=2) + "\n")
    runs = results["runs"]
    timed, sim, slow = runs["moto-time"], results["simulated"], results["simulated_256mb"]
    lines = [
        "# SplitBatchInput at scale",
        "",
        f"Reproduce: `.venv/bin/python bench/batch_split.py --records {timed['records']}` "
        f"(written by that script; one run, {results['date']}).",
        "",
        f"Input: {timed['records']:,} Bedrock records (an Anthropic Messages body, "
        f"{timed['input_bytes'] / timed['records']:.0f} bytes a line, no recordId) in "
        f"{timed['files']} JSONL files, {timed['input_bytes'] / 1024**2:.0f} MiB; "
        f"maxRecordsPerJob {results['max_records']:,}. Output: {timed['shards']} shards of "
        f"{', '.join(f'{n:,}' for n in timed['shard_records'])} records, "
        f"{timed['output_bytes'] / 1024**2:.0f} MiB (every line gains an 11-digit recordId); "
        "the handler checks that the shards hold every record.",
        "",
        "| measure | moto S3 (in-process) | local files (no S3 emulation) |",
        "| --- | ---: | ---: |",
    ]
    files_time, moto_mem, files_mem = runs["files-time"], runs["moto-memory"], runs["files-memory"]
    rows = [
        ("split wall time, s (COUNT + WRITE)", "split_seconds", "time"),
        ("COUNT pass, s", "count_seconds", "time"),
        ("WRITE pass, s", "write_seconds", "time"),
        ("slowest shard write, s", None, "time"),
        ("peak Python memory of the split (tracemalloc), MiB", "tracemalloc_peak_mib", "memory"),
        (
            "peak RSS during the split (VmHWM, reset before it), MiB",
            "rss_peak_during_split_mib",
            "memory",
        ),
        (
            "RSS before the split (interpreter, boto3, moto, data set up), MiB",
            "rss_before_split_mib",
            "memory",
        ),
    ]
    for label, key, mode in rows:
        pair = (timed, files_time) if mode == "time" else (moto_mem, files_mem)
        if key is None:
            cells = [f"{max(run['shard_write_seconds']):.2f}" for run in pair]
        else:
            cells = [str(run[key]) for run in pair]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    lines += [
        f"| handler invocations at a 5-minute Lambda (simulated from the moto timings) | "
        f"{sim['moto']['invocations']} | {sim['files']['invocations']} |",
        f"| handler invocations, times x {ONE_VCPU_MB}/{LAMBDA_MEMORY_MB} (a 256 MB Lambda's CPU "
        f"share) | {slow['moto']['invocations']} | {slow['files']['invocations']} |",
        f"| slowest shard write at that share, s (must stay under the "
        f"{batch_input.RESERVE_MS // 1000} s reserve) | {slow['moto']['longest_shard_seconds']:.1f}"
        f" | {slow['files']['longest_shard_seconds']:.1f} |",
        "",
        "How it was measured: each column's figures come from two fresh processes, one timed "
        "(no tracemalloc) and one under tracemalloc; the data is generated in the same process "
        "before the split, in 8 MiB pieces, and the process's peak RSS is reset after it. "
        "moto runs in the measured process, so the moto memory column counts moto too (its "
        "object storage, request handling and service models): an upper bound. The "
        "local-files column is the handler's own footprint (a 1 MiB read chunk, the 8 MiB part "
        "buffer and the part being sent, botocore). Invocations are simulated "
        "from the measured COUNT time and each shard's write time: an invocation works until "
        f"less than {batch_input.RESERVE_MS // 1000} s of its 300 s are left (COUNT stops "
        "anywhere, WRITE between shards); the second count slows every time by "
        f"{ONE_VCPU_MB}/{LAMBDA_MEMORY_MB}, because a {LAMBDA_MEMORY_MB} MB Lambda gets "
        f'{LAMBDA_MEMORY_MB}/{ONE_VCPU_MB} of a vCPU (AWS: "At 1,769 MB, a function has the '
        'equivalent of one vCPU", https://docs.aws.amazon.com/lambda/latest/dg/'
        "configuration-memory.html) and the split is CPU-bound; it assumes one CPU here is one "
        "vCPU and ignores S3's network time. Neither is a measurement on AWS.",
        "",
        f"Machine: {results['machine']}.",
    ]
    (out / "batch-split.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--max-records", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        backend, mode = args.worker
        print(json.dumps(worker(backend, mode, args.records, args.files, args.max_records)))
        return {}
    runs = {}
    for backend in ("moto", "files"):
        for mode in ("time", "memory"):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    backend,
                    mode,
                    "--records",
                    str(args.records),
                    "--files",
                    str(args.files),
                    "--max-records",
                    str(args.max_records),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            runs[f"{backend}-{mode}"] = json.loads(done.stdout.strip().splitlines()[-1])
            print(backend, mode, runs[f"{backend}-{mode}"]["split_seconds"], "s", file=sys.stderr)
    slow = ONE_VCPU_MB / LAMBDA_MEMORY_MB
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "max_records": args.max_records,
        "runs": runs,
        "simulated": {
            backend: invocations(
                runs[f"{backend}-time"]["count_seconds"],
                runs[f"{backend}-time"]["shard_write_seconds"],
            )
            for backend in ("moto", "files")
        },
        "simulated_256mb": {
            backend: invocations(
                runs[f"{backend}-time"]["count_seconds"] * slow,
                [t * slow for t in runs[f"{backend}-time"]["shard_write_seconds"]],
            )
            for backend in ("moto", "files")
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write(results, args.out)
    return results


if __name__ == "__main__":
    main()
