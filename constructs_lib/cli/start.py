"""``audiences start``: check a run's input locally with the workflow's own checker, then start it.

Three ways to give the input:

- ``--input run.json``: the JSON of ``aws cleanroomsml start-audience-generation-job
  --generate-cli-skeleton``, filled in (the workflow's manual input);
- ``--seed s3://bucket/key.jsonl``: a manual run of that seed (the workflow's settings fill the
  rest);
- ``--seed-file local.jsonl``: uploaded under the pipeline's seed prefix; S3's notification then
  starts the run, named by the workflow ``s3-<sha256 of bucket/key/sequencer>`` (the sequencer
  is S3's, known only from the event: ``--wait`` looks the run up).

The checker is ``lambda/workflow_input.py`` (``constructs_lib._lambda.workflow_input`` in the
wheel), run with the ``Settings`` the deployed definition hands its input check, so a local
"ok" is the workflow's "ok". Nothing is sent when it refuses.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import importlib.util
import json
import re
import secrets
import sys
import time
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.session

from .aws import Clients, CliError
from .stack import Pipeline, pipeline_of

if TYPE_CHECKING:
    from .render import Output

#: The ``Action`` of the input check's payload (``lambda/workflow_input.PREPARE_ACTION``).
PREPARE_ACTION = "PrepareAudienceGeneration"
#: Exit code of an input the checker (or the CLI) refuses.
INPUT_REFUSED = 2
_CHECKER = "constructs_lib._lambda.workflow_input"
#: Characters Step Functions refuses in an execution name (besides whitespace and controls).
_NAME_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_NAME_MAX = 80


def _checker_file() -> Path:
    """Where the workflow's checker is: in the wheel, or in a checkout's ``lambda/``."""
    try:
        spec = importlib.util.find_spec(_CHECKER)
    except ImportError:
        spec = None
    if spec is not None and spec.origin:
        return Path(spec.origin)
    return Path(__file__).resolve().parents[2] / "lambda" / "workflow_input.py"


#: The handler's modules ``workflow_input`` imports: ``clients`` (replaced by a shim), then
#: those loaded from beside it.
_CHECKER_IMPORTS = ("clients", "batch_input")


@functools.cache
def load_checker() -> types.ModuleType:
    """The handler's ``workflow_input`` module, with its ``clients`` module replaced by one
    reading the same bundled service models through botocore alone (the handler's ``clients``
    needs boto3, which the library does not depend on)."""
    location = _checker_file()
    if not location.is_file():
        raise CliError(f"the workflow's input checker is missing (looked for {location})")
    shim = types.ModuleType("clients")
    models = location.parent / "models"

    @functools.cache
    def service_model(service: str) -> Any:
        session = botocore.session.Session()
        session.set_config_variable("data_path", str(models))
        return session.get_service_model(service)

    shim.service_model = service_model  # type: ignore[attr-defined]
    spec = importlib.util.spec_from_file_location("_audiences_workflow_input", location)
    if spec is None or spec.loader is None:
        raise CliError(f"cannot load the workflow's input checker from {location}")
    module = importlib.util.module_from_spec(spec)
    saved = {name: sys.modules.get(name) for name in _CHECKER_IMPORTS}
    sys.modules["clients"] = shim
    try:
        # the handler's modules the checker imports (``batch_input``: the batch run's id)
        for name in _CHECKER_IMPORTS[1:]:
            sys.modules[name] = _load_beside(location, name)
        spec.loader.exec_module(module)
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return module


def _load_beside(location: Path, name: str) -> types.ModuleType:
    """The handler's module ``name`` from the folder of ``location``."""
    path = location.parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_audiences_{name}", path)
    if not path.is_file() or spec is None or spec.loader is None:
        raise CliError(f"the workflow's input checker is incomplete (looked for {path})")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _states(states: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every state of a definition, those of Parallel branches and Map iterators included."""
    for state in states.values():
        yield state
        for branch in state.get("Branches") or []:
            yield from _states(branch.get("States") or {})
        for key in ("Iterator", "ItemProcessor"):
            inner = state.get(key)
            if isinstance(inner, Mapping):
                yield from _states(inner.get("States") or {})


def settings_of(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Settings`` the definition's input check is given (``CheckInput`` fragment)."""
    for state in _states(definition.get("States") or {}):
        payload = (state.get("Parameters") or {}).get("Payload")
        if isinstance(payload, Mapping) and payload.get("Action") == PREPARE_ACTION:
            settings = payload.get("Settings")
            if isinstance(settings, Mapping):
                return dict(settings)
    raise CliError(
        "the workflow's definition has no input check with Settings: is it an "
        "AudienceGenerationWorkflow of this library?"
    )


def workflow_settings(clients: Clients, pipeline: Pipeline) -> dict[str, Any]:
    """The deployed workflow's ``Settings`` (from ``DescribeStateMachine``)."""
    described = clients.sfn.describe_state_machine(stateMachineArn=pipeline.workflow_arn)
    return settings_of(json.loads(described["definition"]))


def check_input(given: Any, settings: Mapping[str, Any], execution_name: str) -> dict[str, Any]:
    """The checker's plan for ``given``; a ``CliError`` with its message when it refuses."""
    checker = load_checker()
    try:
        plan: dict[str, Any] = checker.prepare(
            {"Input": given, "Settings": dict(settings), "ExecutionName": execution_name}
        )
    except checker.WorkflowInputError as error:
        raise CliError(
            f"refused by the workflow's input check, nothing was sent: {error}", INPUT_REFUSED
        ) from None
    return plan


def check_run_name(name: str) -> str:
    """``name`` if Step Functions accepts it as an execution name, else a ``CliError``."""
    bad = _NAME_FORBIDDEN.search(name)
    if not name or len(name) > _NAME_MAX or bad:
        why = f"the character {bad.group()!r}" if bad else f"{len(name)} characters"
        raise CliError(
            f"--name {name!r} is not a valid run name ({why}): 1 to {_NAME_MAX} characters, no "
            'spaces, brackets, wildcards or any of " # % \\ ^ | ~ ` $ & , ; : /',
            INPUT_REFUSED,
        )
    return name


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def default_run_name(now: datetime.datetime) -> str:
    """``cli-<UTC time>-<random>``: unique, sorted by time, readable."""
    return f"cli-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _split_s3(uri: str, option: str) -> tuple[str, str]:
    match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.*)", uri)
    if match is None:
        raise CliError(f"{option} {uri!r} is not an S3 URI (s3://<bucket>/<key>)", INPUT_REFUSED)
    return match.group(1), match.group(2)


def _read_json(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(
            f"--input {path}: cannot read it ({error.strerror})", INPUT_REFUSED
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CliError(f"--input {path} is not JSON: {error}", INPUT_REFUSED) from None


def seed_key(prefix: str, local: Path, now: datetime.datetime) -> str:
    """The key a local seed file is uploaded to: under the seed prefix, named after the file
    and the time (``<prefix><stem>-<UTC time>.jsonl``)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", local.stem).strip("-.") or "seed"
    return f"{prefix}{stem[:100]}-{now:%Y%m%dT%H%M%SZ}.jsonl"


def check_seed_file(local: Path) -> None:
    """A ``CliError`` unless ``local`` is a JSON Lines file of objects (one user a line), the
    seed format Clean Rooms ML reads; the line of the first problem is named."""
    if not local.is_file():
        raise CliError(f"--seed-file {local}: no such file", INPUT_REFUSED)
    users = 0
    with local.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                user = json.loads(line)
            except json.JSONDecodeError as error:
                raise CliError(
                    f"--seed-file {local} line {number} is not JSON ({error.msg}): a seed file "
                    'holds one JSON object a line, e.g. {"user_id": "111111"}',
                    INPUT_REFUSED,
                ) from None
            if not isinstance(user, dict):
                raise CliError(
                    f"--seed-file {local} line {number} is {line.strip()[:40]!r}, not a JSON "
                    'object such as {"user_id": "111111"}',
                    INPUT_REFUSED,
                )
            users += 1
    if users == 0:
        raise CliError(f"--seed-file {local} holds no user", INPUT_REFUSED)


def cmd_start(args: argparse.Namespace, clients: Clients, out: Output) -> int:
    """``audiences start``."""
    if args.seed_file is not None:
        return _start_from_seed_file(args, clients, out)
    if args.wait:
        raise CliError("--wait goes with --seed-file only", INPUT_REFUSED)
    name = check_run_name(args.name) if args.name is not None else default_run_name(_now())
    given: Any
    if args.input is not None:
        given = _read_json(args.input)
    else:
        _split_s3(args.seed, "--seed")
        given = {"seedAudience": {"dataSource": {"s3Uri": args.seed}}}
    pipeline = pipeline_of(args, clients)
    plan = check_input(given, workflow_settings(clients, pipeline), name)
    started = clients.sfn.start_execution(
        stateMachineArn=pipeline.workflow_arn, name=name, input=json.dumps(given)
    )
    arn = str(started["executionArn"])
    if out.json:
        out.emit({"name": name, "executionArn": arn, "jobName": plan["jobName"]})
    else:
        out.print(name)
    return 0


def _start_from_seed_file(args: argparse.Namespace, clients: Clients, out: Output) -> int:
    if args.name is not None:
        raise CliError(
            "--name does not go with --seed-file: the workflow names a run S3 starts "
            "(s3-<sha256 of bucket/key/sequencer>)",
            INPUT_REFUSED,
        )
    local = Path(args.seed_file)
    check_seed_file(local)
    pipeline = pipeline_of(args, clients)
    if not pipeline.seed_location:
        raise CliError(
            f"the pipeline {pipeline.path!r} of {pipeline.stack_name!r} has no SeedLocation "
            "output (no seed bucket): start it with --input or --seed instead",
            INPUT_REFUSED,
        )
    bucket, prefix = _split_s3(pipeline.seed_location, "SeedLocation")
    now = _now()
    key = seed_key(prefix, local, now)
    given = {"seedObject": {"bucket": bucket, "key": key}}
    check_input(given, workflow_settings(clients, pipeline), "s3-local-check")
    clients.s3.put_object(Bucket=bucket, Key=key, Body=local.read_bytes())
    uri = f"s3://{bucket}/{key}"
    run = find_seed_run(clients, pipeline, bucket, key, args.wait) if args.wait else None
    if out.json:
        name, arn = run if run else (None, None)
        out.emit({"seed": uri, "name": name, "executionArn": arn})
        return 0
    out.print(f"uploaded {uri}")
    if run:
        out.print(run[0])
        return 0
    out.print(
        "S3's notification starts the run, named s3-<SHA-256 of "
        f"'{bucket}/{key}/<sequencer>'> (S3's event sequencer): "
        "`audiences runs` shows it"
        + (f" (not started within {args.wait:g} s)" if args.wait else "")
    )
    return 0


def find_seed_run(
    clients: Clients, pipeline: Pipeline, bucket: str, key: str, wait: float
) -> tuple[str, str] | None:
    """The name and ARN of the run the workflow started for ``bucket``/``key`` (an execution
    named ``s3-...`` whose input is that ``seedObject``), waiting up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    seen: set[str] = set()
    while True:
        pages = clients.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=pipeline.workflow_arn, PaginationConfig={"MaxItems": 100}
        )
        for page in pages:
            for execution in page.get("executions", []):
                arn, name = str(execution["executionArn"]), str(execution.get("name", ""))
                if not name.startswith("s3-") or arn in seen:
                    continue
                seen.add(arn)
                given = json.loads(
                    clients.sfn.describe_execution(executionArn=arn).get("input") or "{}"
                )
                seed = given.get("seedObject") if isinstance(given, dict) else None
                if isinstance(seed, dict) and (seed.get("bucket"), seed.get("key")) == (
                    bucket,
                    key,
                ):
                    return name, arn
        if time.monotonic() >= deadline:
            return None
        time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
