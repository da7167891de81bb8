"""The audience-generation workflow's first step: turn what started it into checked requests.

An execution starts in one of two ways:

- ``{"seedObject": {"bucket", "key", ...}}``: a new seed file (the workflow hands every S3
  "Object Created" notification to an execution named after the object, so a notification
  delivered twice runs once); the request is built from the workflow's settings;
- the JSON of ``aws cleanroomsml start-audience-generation-job --generate-cli-skeleton``, filled
  in: a team's ``--cli-input-json`` file works as the execution input. ``name``,
  ``configuredAudienceModelArn`` and ``seedAudience.roleArn`` may be left out (the workflow's
  settings fill them); when given, the model and the role must be the workflow's own.

Every field is checked against the service model bundled with this asset (types, required
fields, lengths, patterns, enums) before any call is made. A bad input raises
``WorkflowInputError``, the error name the workflow catches; the message lists every problem.
The answer carries the requests in the PascalCase Step Functions' SDK integrations expect.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import batch_input
import clients
from botocore.model import Shape

PREPARE_ACTION = "PrepareAudienceGeneration"
#: Field of a manual input (not of the API's request) naming the run's Bedrock input: an
#: ``s3://`` folder (ending in ``/``) or ``.jsonl`` file under the Bedrock step's input prefix.
BATCH_INPUT_FIELD = "batchInputS3Uri"
#: Names of the batch inference runs audience runs start (the workflow grants Describe and
#: Stop on them: constructs_lib/workflows/permissions.py).
BATCH_RUN_PREFIX = "audience-"
#: Tag put on every job the workflow starts: the execution that started it.
EXECUTION_TAG = "cleanrooms-ml-cdk:execution"
_OPERATION = "StartAudienceGenerationJob"
_EXPORT_OPERATION = "StartAudienceExportJob"
_NAME_MAX = 63


class WorkflowInputError(Exception):
    """The execution input breaks the API's rules or the workflow's (the Step Functions error
    name of the failed step)."""


def prepare(event: Mapping[str, Any]) -> dict[str, Any]:
    """``{"request", "exports", "batch"?, "source", "jobName"}`` for one execution."""
    settings = event.get("Settings") or {}
    given = event.get("Input")
    execution = str(event.get("ExecutionName", ""))
    if not isinstance(given, Mapping):
        raise WorkflowInputError(f"the execution input must be a JSON object, got {given!r}")
    batch = settings.get("batch")
    if "seedObject" in given:
        source, request = "s3", _from_seed_object(given, settings, execution)
        batch_input = _batch_input_of_seed(given, settings) if batch else None
    else:
        given = dict(given)
        batch_input = given.pop(BATCH_INPUT_FIELD, None)
        _check_batch_input(batch_input, batch)
        source, request = "manual", _from_cli_input(given, settings, execution)
    model = clients.service_model("cleanroomsml")
    shape = model.operation_model(_OPERATION).input_shape
    problems = check(shape, request, "") + seed_problems(request)
    if problems:
        raise WorkflowInputError(
            f"{len(problems)} problem(s) in the {source} input, nothing was started: "
            + "; ".join(problems)
        )
    name = str(request["name"])
    exports = [_export(name, size) for size in settings.get("exportSizes") or []]
    export_shape = model.operation_model(_EXPORT_OPERATION).input_shape
    for export in exports:
        for member, value in export.items():
            problems += check(export_shape.members[member], value, f"export {member}.")
    if problems:
        raise WorkflowInputError("; ".join(problems))
    answer: dict[str, Any] = {
        "source": source,
        "jobName": name,
        "request": to_pascal(shape, request),
        "exports": [to_pascal(export_shape, export) for export in exports],
    }
    if batch:
        answer["batch"] = _batch(batch, name, execution, batch_input)
    return answer


def _from_seed_object(
    given: Mapping[str, Any], settings: Mapping[str, Any], execution: str
) -> dict[str, Any]:
    seed = given.get("seedObject")
    if not isinstance(seed, Mapping) or not seed.get("bucket") or not seed.get("key"):
        raise WorkflowInputError(f"seedObject must be {{'bucket': ..., 'key': ...}}, got {seed!r}")
    unknown = sorted(set(given) - {"seedObject"})
    if unknown:
        raise WorkflowInputError(f"a seedObject input has no other fields; got {unknown}")
    bucket, key = str(seed["bucket"]), str(seed["key"])
    prefix = str(settings.get("seedPrefix", ""))
    expected = settings.get("seedBucket")
    if (
        (expected and bucket != expected)
        or not key.startswith(prefix)
        or not key.endswith(".jsonl")
    ):
        # A workflow without a seed bucket (manual starts only) names no bucket in its rule.
        where = f"s3://{expected}/" if expected else "any bucket's "
        raise WorkflowInputError(
            f"s3://{bucket}/{key} is not a seed file of this workflow ({where}{prefix}*.jsonl)"
        )
    uri = f"s3://{bucket}/{key}"
    return _with_defaults(
        {"seedAudience": {"dataSource": {"s3Uri": uri}}},
        settings,
        execution,
        f"Lookalike audience for the seed {uri}",
    )


def _from_cli_input(
    given: Mapping[str, Any], settings: Mapping[str, Any], execution: str
) -> dict[str, Any]:
    request = dict(given)
    problems = []
    model_arn = settings.get("configuredAudienceModelArn")
    if (
        "configuredAudienceModelArn" in request
        and request["configuredAudienceModelArn"] != model_arn
    ):
        problems.append(
            f"configuredAudienceModelArn {request['configuredAudienceModelArn']!r} is not this "
            f"workflow's configured audience model ({model_arn}); leave it out or start the "
            "workflow of that model"
        )
    collaboration = settings.get("collaborationId")
    if collaboration and request.get("collaborationId", collaboration) != collaboration:
        problems.append(
            f"collaborationId {request['collaborationId']!r} is not this workflow's collaboration "
            f"({collaboration}); leave it out or start the workflow of that collaboration"
        )
    seed = request.get("seedAudience")
    if (
        isinstance(seed, Mapping)
        and "roleArn" in seed
        and seed["roleArn"] != settings.get("roleArn")
    ):
        problems.append(
            f"seedAudience.roleArn {seed['roleArn']!r} is not the role this workflow may pass "
            f"({settings.get('roleArn')}); leave it out to use it"
        )
    if problems:
        raise WorkflowInputError("; ".join(problems))
    return _with_defaults(request, settings, execution, f"Started by the execution {execution}")


def _with_defaults(
    request: dict[str, Any], settings: Mapping[str, Any], execution: str, description: str
) -> dict[str, Any]:
    """Fill what the workflow's settings decide; the caller's own values stay."""
    digest = hashlib.sha256(execution.encode()).hexdigest()
    prefix = str(settings.get("jobNamePrefix", "audience"))
    request.setdefault("name", f"{prefix}-{digest[:16]}")
    request.setdefault("configuredAudienceModelArn", settings.get("configuredAudienceModelArn"))
    seed = request.get("seedAudience")
    if isinstance(seed, Mapping):
        request["seedAudience"] = {"roleArn": settings.get("roleArn"), **seed}
    request.setdefault("includeSeedInOutput", bool(settings.get("includeSeedInOutput", False)))
    for key in ("collaborationId", "description"):
        if key not in request and settings.get(key):
            request[key] = settings[key]
    request.setdefault("description", description[:255])
    tags = request.get("tags")
    if tags is None or isinstance(tags, Mapping):  # anything else is reported by the check
        request["tags"] = {**(settings.get("tags") or {}), **(tags or {}), EXECUTION_TAG: execution}
    return request


def seed_problems(request: Mapping[str, Any]) -> list[str]:
    """The rules of ``seedAudience`` the service model cannot state (it marks only
    ``roleArn`` required): a seed is an S3 file (``dataSource``) or a protected query
    (``sqlParameters``: a ``queryString`` or an ``analysisTemplateArn``); workers
    (``sqlComputeConfiguration``) are for a query only; and a query runs in a collaboration, so
    a SQL seed needs ``collaborationId`` (docs/aws-assumptions.md, "SQL seeds")."""
    seed = request.get("seedAudience")
    if not isinstance(seed, Mapping):
        return []
    sql = seed.get("sqlParameters")
    problems = []
    if "dataSource" not in seed and sql is None:
        problems.append(
            "seedAudience needs dataSource (an S3 seed: {'s3Uri': 's3://...'}) or sqlParameters "
            "(a SQL seed: {'queryString': ...} or {'analysisTemplateArn': ...})"
        )
    if "sqlComputeConfiguration" in seed and sql is None:
        problems.append(
            "seedAudience.sqlComputeConfiguration sizes the workers of a SQL seed's query: give "
            "sqlParameters too, or leave it out"
        )
    if isinstance(sql, Mapping):
        if not sql.get("queryString") and not sql.get("analysisTemplateArn"):
            problems.append(
                "seedAudience.sqlParameters needs queryString (the SQL) or analysisTemplateArn "
                "(an analysis template of the collaboration)"
            )
        if not request.get("collaborationId"):
            problems.append(
                "a SQL seed runs its query in an AWS Clean Rooms collaboration: give "
                "collaborationId (or deploy the workflow with collaboration_id)"
            )
    return problems


def _export(job_name: str, size: Mapping[str, Any]) -> dict[str, Any]:
    """One export of the run's audience (the workflow adds the generation job's ARN)."""
    kind, value = str(size.get("type", "")), size.get("value")
    suffix = f"-{kind.lower()}-{value}"
    return {
        "name": job_name[: _NAME_MAX - len(suffix)] + suffix,
        "audienceSize": {"type": kind, "value": value},
        "description": f"{kind.lower()} {value} of {job_name}"[:255],
    }


def _batch_input_of_seed(given: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
    """The Bedrock input of a seed file's run: the folder named like the seed file, under the
    Bedrock step's input prefix (``seeds/2026/w48.jsonl`` -> ``<input prefix>2026/w48/``)."""
    prefix = settings["batch"].get("inputS3Uri")
    if not prefix:
        return None  # settings of a definition deployed before per-run inputs
    key = str(given["seedObject"]["key"])
    relative = key[len(str(settings.get("seedPrefix", ""))) :].removesuffix(".jsonl")
    return f"{prefix}{relative}/"


def _check_batch_input(uri: Any, batch: Mapping[str, Any] | None) -> None:
    if uri is None:
        return
    if not batch:
        raise WorkflowInputError(
            f"{BATCH_INPUT_FIELD} is given but this workflow has no Bedrock step; leave it out"
        )
    prefix = str(batch.get("inputS3Uri", ""))
    if (
        not isinstance(uri, str)
        or not uri.startswith(prefix)
        or not (uri.endswith("/") or uri.endswith(".jsonl"))
    ):
        raise WorkflowInputError(
            f"{BATCH_INPUT_FIELD} {uri!r} must be a folder (ending in '/') or a .jsonl file "
            f"under the Bedrock step's input, {prefix}"
        )


def _batch(
    batch: Mapping[str, Any], job_name: str, execution: str, input_uri: str | None
) -> dict[str, Any]:
    """The run of the batch inference workflow this run starts: its name (one per audience
    run: the audience workflow and execution hashed, so a repeated start cannot run the input
    twice and two audience workflows sharing the batch workflow never meet), its ARN, its
    input (the run's own, else the whole input location) and where it writes."""
    caller = str(batch.get("caller", ""))
    name = BATCH_RUN_PREFIX + hashlib.sha256(f"{caller}/{execution}".encode()).hexdigest()
    workflow = str(batch.get("workflowArn", ""))
    output = f"{batch.get('outputS3Uri', '')}{batch_input.run_id_of(name)}/"
    return {
        "ExecutionName": name,
        "ExecutionArn": workflow.replace(":stateMachine:", ":execution:", 1) + f":{name}",
        "InputS3Uri": input_uri or str(batch.get("inputS3Uri", "")),
        "OutputS3Uri": output,
        "ManifestS3Uri": f"{output}manifest.json",
    }


def check(shape: Shape, value: Any, path: str) -> list[str]:
    """Every way ``value`` breaks the rules ``shape`` declares (as the service would say it)."""
    where = path.rstrip(".") or "input"
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, Mapping):
            return [f"{where} must be an object, got {value!r}"]
        members = shape.members
        problems = [
            f"{where} has no field {key!r} (known: {', '.join(members)})"
            for key in value
            if key not in members
        ]
        problems += [
            f"{path}{name} is required" for name in shape.required_members if name not in value
        ]
        for key, item in value.items():
            if key in members:
                problems += check(members[key], item, f"{path}{key}.")
        if meta.get("union") and len(value) != 1:
            problems.append(f"{where} must set exactly one of {', '.join(members)}")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where} must be a list, got {value!r}"]
        problems = _length(where, len(value), meta, "items")
        for i, item in enumerate(value):
            problems += check(shape.member, item, f"{where}[{i}].")
        return problems
    if kind == "map":
        if not isinstance(value, Mapping):
            return [f"{where} must be an object, got {value!r}"]
        problems = _length(where, len(value), meta, "entries")
        for key, item in value.items():
            problems += check(shape.key, key, f"{where} key {key!r}.")
            problems += check(shape.value, item, f"{where}[{key!r}].")
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where} must be a string, got {value!r}"]
        problems = _length(where, len(value), meta, "characters")
        enum = list(getattr(shape, "enum", None) or [])
        if enum and value not in enum:
            problems.append(f"{where} is {value!r}, must be one of {', '.join(enum)}")
        pattern = meta.get("pattern")
        if pattern and re.fullmatch(pattern, value, flags=re.DOTALL) is None:
            problems.append(f"{where} {value!r} {_broken_pattern(shape.name, pattern)}")
        return problems
    if kind in ("integer", "long", "double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [f"{where} must be a number, got {value!r}"]
        problems = []
        if "min" in meta and value < meta["min"]:
            problems.append(f"{where} is {value}, must be >= {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{where} is {value}, must be <= {meta['max']}")
        return problems
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{where} must be true or false, got {value!r}"]
    return []


#: The rules behind the patterns of the fields a run's input holds, in words (the library's
#: synth-time checks use the same words: constructs_lib/_internal/rules.py; a test compares them).
RULE_WORDS = {
    "UUID": "a UUID in lowercase hexadecimal (8-4-4-4-12 digits), as AWS Clean Rooms shows "
    "collaboration and membership ids",
    "ConfiguredAudienceModelArn": "the ARN of a Clean Rooms ML configured audience model "
    "(arn:aws:cleanrooms-ml:<region>:<account>:configured-audience-model/<id>)",
    "AudienceGenerationJobArn": "the ARN of a Clean Rooms ML audience generation job "
    "(arn:aws:cleanrooms-ml:<region>:<account>:audience-generation-job/<id>)",
    "AnalysisTemplateArn": "the ARN of an AWS Clean Rooms analysis template "
    "(arn:aws:cleanrooms:<region>:<account>:membership/<membership id>/analysistemplate/<id>)",
    "IamRoleArn": "an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
    "S3Path": "an S3 URI (s3://<bucket>/<key>)",
    "NameString": "a name that is not blank (printable characters, tabs allowed)",
}
#: A pattern longer than this is never quoted in a message.
MAX_QUOTED_PATTERN = 80


def _broken_pattern(shape_name: str, pattern: str) -> str:
    if shape_name in RULE_WORDS:
        return f"must be {RULE_WORDS[shape_name]}"
    if len(pattern) <= MAX_QUOTED_PATTERN:
        return f"does not match the pattern {pattern}"
    return f"is not a valid {shape_name}"


def _length(where: str, length: int, meta: Mapping[str, Any], unit: str) -> list[str]:
    if "min" in meta and length < meta["min"]:
        return [f"{where} has {length} {unit}, needs at least {meta['min']}"]
    if "max" in meta and length > meta["max"]:
        return [f"{where} has {length} {unit}, allows at most {meta['max']}"]
    return []


def to_pascal(shape: Shape, value: Any) -> Any:
    """API member names -> PascalCase, as Step Functions' SDK integrations take them (map keys
    such as tag keys stay as they are)."""
    if shape.type_name == "structure" and isinstance(value, Mapping):
        return {
            key[:1].upper() + key[1:]: to_pascal(shape.members[key], item)
            for key, item in value.items()
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [to_pascal(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, Mapping):
        return {key: to_pascal(shape.value, item) for key, item in value.items()}
    return value
