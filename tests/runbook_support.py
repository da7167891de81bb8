"""Run the commands of ``docs/runbook.md`` without the AWS CLI.

The AWS CLI cannot be installed next to the pinned botocore, so this module plays its part:

- ``runnable_blocks`` reads the ```bash blocks marked ``<!-- runnable -->``, each named after the
  heading it sits under;
- ``Shell`` runs such a block line by line like ``bash -eu`` would, for the small subset the
  runbook uses: comments, ``\\`` continuations, ``NAME=value`` / ``NAME=$(...)`` assignments,
  ``$NAME`` / ``${NAME}`` expansion (an unset variable is an error), ``cat > FILE <<'EOF'``
  here-documents, and pipelines of one ``aws``, ``audiences`` or ``echo`` command into ``jq``
  (the real binary). Anything else is refused, so a runnable block cannot hold a command the
  test does not run. A command that exits non-zero fails the block, as ``bash -e`` ends it;
  a block run with ``may_fail`` stops there instead, the exit code recorded for the test;
- ``Audiences`` runs ``audiences ...`` lines in-process (``constructs_lib.cli.main.run``) on
  ``CliClients``, clients of the same session as the ``aws`` lines, and captures what it prints;
- ``AwsCli`` translates ``aws <service> <operation> --param value ...`` into the botocore call
  through the service model, as the CLI does: operation and parameter names are the kebab-case
  forms (``botocore.xform_name``), values are decoded by the member's shape (strings, numbers,
  ``--flag`` / ``--no-flag`` booleans, JSON for structures, maps and lists of structures,
  space-separated lists of scalars, ``file://`` contents), paginated operations are paged to the
  end (``--max-items``, ``--page-size``, ``--starting-token``; one call with ``--no-paginate``),
  then ``--query`` (JMESPath) and ``--output json|text`` are applied as the CLI's formatters do
  (JSON: once, on the whole answer; text: on each page). An unknown service, operation or
  parameter fails, as the CLI would. ``aws s3 cp`` and ``aws s3 ls`` (the CLI's high-level S3
  commands, absent from the service model) are implemented on ``s3`` calls;
- ``ScriptedService`` answers a real client's calls with Python functions instead of HTTP.
  Requests are validated against the input shape by botocore and answers against the output
  shape here, as ``Stubber`` does. ``ScriptedAws`` uses it for Clean Rooms ML and Bedrock (the
  handler's bundled models; moto has no Clean Rooms ML and no Bedrock batch jobs), with state:
  jobs end as their ``Fate`` says;
- ``deploy`` creates in moto what a deploy of a synthesized stack leaves that moto can hold
  (state machines with resolved definitions, buckets) and scripts CloudFormation's description
  of the stack from its template; ``step_functions_as_aws_documents_it`` fills three gaps of
  moto's Step Functions the runbook's commands meet.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import jmespath  # type: ignore[import-untyped]
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ParamValidationError
from botocore.validate import ParamValidator

from constructs_lib.cli.aws import Clients

RUNNABLE = "<!-- runnable -->"

#: ``aws <command>`` names that differ from the botocore service name.
CLI_SERVICE_NAMES = {"s3api": "s3"}

#: The CLI's global options this translator renders (others, such as ``--region``, are refused
#: rather than ignored).
_GLOBAL_OPTIONS = {"--output", "--query"}
_GLOBAL_FLAGS = {"--no-paginate", "--no-cli-pager"}
_PAGING_OPTIONS = {"--max-items", "--page-size", "--starting-token"}


class ShellError(AssertionError):
    """A line of a runnable block that this shell does not run, or that failed."""


class AwsCliError(ShellError):
    """What the AWS CLI would print on stderr before exiting non-zero."""


# ---- the runbook's blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One runnable ```bash block: the heading it sits under, its text, its first line."""

    heading: str
    text: str
    line: int

    @property
    def slug(self) -> str:
        return slug_of(self.heading)


def slug_of(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def runnable_blocks(markdown: str) -> dict[str, Block]:
    """The runnable ```bash blocks by the slug of their heading (at most one per heading)."""
    lines = markdown.splitlines()
    heading = ""
    blocks: dict[str, Block] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        fence = line.strip()
        if fence.startswith("```"):
            end = index + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            marked = index > 0 and lines[index - 1].strip() == RUNNABLE
            if marked:
                if fence != "```bash":
                    raise ShellError(f"line {index + 1}: a runnable block must be ```bash")
                block = Block(heading, "\n".join(lines[index + 1 : end]), index + 2)
                if block.slug in blocks:
                    raise ShellError(f"line {index + 1}: two runnable blocks under {heading!r}")
                blocks[block.slug] = block
            index = end
        index += 1
    return blocks


# ---- the shell -----------------------------------------------------------------------------------


@dataclass
class Step:
    """One command of a block, what it printed and its exit code."""

    command: str
    stdout: str
    exit_code: int = 0


class CommandFailedError(ShellError):
    """A command of a block exited non-zero."""

    def __init__(self, message: str, exit_code: int, stdout: str) -> None:
        super().__init__(message)
        self.exit_code, self.stdout = exit_code, stdout


_HEREDOC = re.compile(r"^cat\s*>\s*(\S+)\s*<<-?\s*(['\"]?)(\w+)\2\s*$")
_ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass
class Shell:
    """A ``bash -eu`` session for runnable blocks: variables persist from block to block, files
    are written to and read from ``cwd``; ``after`` runs after every command (the test's
    world catching up, e.g. EventBridge delivering an S3 notification)."""

    aws: AwsCli
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    after: Callable[[list[str]], None] | None = None
    audiences: Callable[[list[str], Path], tuple[int, str, str]] | None = None
    _current: str = field(default="", init=False, repr=False)

    def run(self, text: str, *, may_fail: bool = False) -> list[Step]:
        """The block's steps. A command exiting non-zero raises ``CommandFailedError``; with
        ``may_fail`` the block ends there instead (as ``bash -e`` does), that step last."""
        steps: list[Step] = []
        try:
            self._run(text, steps)
        except CommandFailedError as failed:
            if not may_fail:
                raise
            steps.append(Step(self._current, failed.stdout, failed.exit_code))
        return steps

    def _run(self, text: str, steps: list[Step]) -> None:
        for kind, line, body in _logical_lines(text):
            self._current = line
            if kind == "heredoc":
                match = _HEREDOC.match(line)
                assert match is not None
                name, quote = match.group(1), match.group(2)
                content = body if quote else _expand_text(body, self.env)
                self._path(_expand_word(name, self.env)).write_text(content)
                steps.append(Step(line, ""))
                continue
            assignment = _ASSIGNMENT.match(line)
            if assignment:
                name, value = assignment.group(1), assignment.group(2).strip()
                self.env[name] = self._value(value)
                steps.append(Step(line, ""))
                continue
            steps.append(Step(line, self._pipeline(line)))

    def _value(self, value: str) -> str:
        for opening, closing in (('"$(', ')"'), ("$(", ")")):
            if value.startswith(opening) and value.endswith(closing):
                return self._pipeline(value[len(opening) : -len(closing)]).rstrip("\n")
        if "$(" in value or "`" in value:
            raise ShellError(f"unsupported command substitution in {value!r}")
        words = shlex.split(_expand(value, self.env))
        if len(words) > 1:
            raise ShellError(f"an assignment of several words: {value!r}")
        return words[0] if words else ""

    def _pipeline(self, line: str) -> str:
        commands = []
        for index, stage in enumerate(_split_unquoted(line, "|")):
            if "$(" in stage or "`" in stage:
                raise ShellError(f"unsupported command substitution in {stage!r}")
            argv = shlex.split(_expand(stage, self.env), comments=True)
            if not argv:
                raise ShellError(f"an empty command in {line!r}")
            first = ("aws", "echo", "audiences") if self.audiences is not None else ("aws", "echo")
            if argv[0] not in (first if index == 0 else ("jq",)):
                raise ShellError(
                    f"{argv[0]!r}: runnable blocks hold {', '.join(first)} commands (optionally "
                    f"piped into jq), assignments and cat here-documents only: {line!r}"
                )
            commands.append(argv)
        output = ""
        for argv in commands:
            if argv[0] == "echo":
                output = " ".join(argv[1:]) + "\n"
            elif argv[0] == "aws":
                output = self.aws(argv, self.cwd)
                if self.after is not None:
                    self.after(argv)
            elif argv[0] == "audiences":
                assert self.audiences is not None
                code, output, errors = self.audiences(argv, self.cwd)
                if self.after is not None:
                    self.after(argv)
                if code != 0:
                    raise CommandFailedError(
                        f"{shlex.join(argv)} exited {code}: {errors.strip()}", code, output
                    )
            else:
                output = _jq(argv, output)
        return output

    def _path(self, name: str) -> Path:
        return self.cwd / name


def _logical_lines(text: str) -> Iterator[tuple[str, str, str]]:
    """``("command", line, "")`` for each command (continuations joined, comments and blank
    lines dropped) and ``("heredoc", line, body)`` for a here-document."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        while line.endswith("\\") and index < len(lines):
            line = line[:-1] + " " + lines[index].strip()
            index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        heredoc = _HEREDOC.match(stripped)
        if heredoc:
            body: list[str] = []
            while index < len(lines) and lines[index] != heredoc.group(3):
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise ShellError(f"here-document without its {heredoc.group(3)} line")
            index += 1
            yield "heredoc", stripped, "\n".join(body) + "\n"
            continue
        yield "command", stripped, ""


def _split_unquoted(line: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in line:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == separator:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def _lookup(env: Mapping[str, str], match: re.Match[str]) -> str:
    name = match.group(1) or match.group(2)
    if name not in env:
        raise ShellError(f"${name}: unbound variable (the runbook must set it first)")
    return env[name]


def _expand(text: str, env: Mapping[str, str]) -> str:
    """``$NAME`` expanded as bash does before word splitting: not inside single quotes; a value
    expanded outside double quotes must be one word (the runbook quotes its variables)."""
    out: list[str] = []
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote == "'":
            quote = "" if char == "'" else quote
            out.append(char)
        elif char == "'" and not quote:
            quote = "'"
            out.append(char)
        elif char == '"':
            quote = "" if quote == '"' else '"'
            out.append(char)
        elif char == "$":
            match = _VARIABLE.match(text, index)
            if match is None:
                out.append(char)
            else:
                value = _lookup(env, match)
                if quote == '"':
                    out.append(re.sub(r'(["\\$`])', r"\\\1", value))
                else:
                    if re.search(r"\s", value) or not value:
                        raise ShellError(f"unquoted {match.group(0)} is {value!r}: quote it")
                    out.append(shlex.quote(value))
                index = match.end()
                continue
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _expand_word(text: str, env: Mapping[str, str]) -> str:
    [word] = shlex.split(_expand(text, env))
    return word


def _expand_text(text: str, env: Mapping[str, str]) -> str:
    """An unquoted here-document: ``$NAME`` expanded, nothing else."""
    return _VARIABLE.sub(lambda m: _lookup(env, m), text)


def _jq(argv: list[str], stdin: str) -> str:
    jq = shutil.which("jq")
    if jq is None:
        raise ShellError("jq is not installed; the runbook's pipelines need it")
    result = subprocess.run(
        [jq, *argv[1:]], input=stdin, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ShellError(f"{shlex.join(argv)} failed: {result.stderr.strip()}")
    return result.stdout


# ---- the AWS CLI ---------------------------------------------------------------------------------


ClientFactory = Callable[[str], Any]


@dataclass
class AwsCli:
    """``aws ...`` on boto3/botocore clients made by ``clients(service)``."""

    clients: ClientFactory
    calls: list[str] = field(default_factory=list)

    def __call__(self, argv: list[str], cwd: Path) -> str:
        if argv[:1] != ["aws"]:
            raise AwsCliError(f"not an aws command: {argv}")
        options, rest = _global_options(argv[1:])
        if len(rest) < 2 or rest[0].startswith("-") or rest[1].startswith("-"):
            raise AwsCliError(f"aws: error: expected <service> <operation>: {shlex.join(argv)}")
        command, operation, arguments = rest[0], rest[1], rest[2:]
        if command == "s3":
            return self._s3(operation, arguments, cwd)
        service = CLI_SERVICE_NAMES.get(command, command)
        try:
            client = self.clients(service)
        except Exception as error:
            raise AwsCliError(
                f"aws: error: argument command: invalid choice: {command!r}"
            ) from error
        model = client.meta.service_model
        operations = {xform_name(name, "-"): name for name in model.operation_names}
        if operation not in operations:
            raise AwsCliError(
                f"aws: error: argument operation: invalid choice: {operation!r} ({command})"
            )
        operation_model = model.operation_model(operations[operation])
        method = xform_name(operation_model.name)
        paging = client.can_paginate(method) and "--no-paginate" not in options
        params = _parameters(operation_model, arguments, cwd, paging, client, method)
        self.calls.append(f"{service}.{operation_model.name}")
        try:
            if paging:
                config = {
                    key: (int(options[flag]) if key != "StartingToken" else options[flag])
                    for flag, key in (
                        ("--max-items", "MaxItems"),
                        ("--page-size", "PageSize"),
                        ("--starting-token", "StartingToken"),
                    )
                    if flag in options
                }
                pages = client.get_paginator(method).paginate(**params, PaginationConfig=config)
                if options.get("--output") == "text":
                    return _render_pages(pages, options.get("--query"))
                result = pages.build_full_result()
            else:
                for flag in _PAGING_OPTIONS & set(options):
                    raise AwsCliError(f"aws: error: {flag} is for paginated operations only")
                result = getattr(client, method)(**params)
        except ClientError as error:
            detail = error.response.get("Error", {})
            raise AwsCliError(
                f"An error occurred ({detail.get('Code')}) when calling the "
                f"{operation_model.name} operation: {detail.get('Message')}"
            ) from None
        except ParamValidationError as error:
            raise AwsCliError(f"aws: error: {error}") from None
        if isinstance(result, dict):
            result.pop("ResponseMetadata", None)
        return render(result, options.get("--query"), options.get("--output", "json"))

    # -- the CLI's high-level S3 commands (not in the service model) ----------------------------

    def _s3(self, operation: str, arguments: list[str], cwd: Path) -> str:
        s3 = self.clients("s3")
        recursive = "--recursive" in arguments
        paths = [a for a in arguments if a != "--recursive"]
        unknown = [a for a in paths if a.startswith("--")]
        if unknown:
            raise AwsCliError(f"aws: error: unknown options: {' '.join(unknown)}")
        if operation == "ls" and len(paths) == 1:
            self.calls.append("s3.ListObjectsV2")
            return _s3_ls(s3, paths[0], recursive)
        if operation == "cp" and len(paths) == 2:
            return self._s3_cp(s3, paths[0], paths[1], recursive, cwd)
        raise AwsCliError(f"aws s3 {operation} {' '.join(arguments)}: not supported here")

    def _s3_cp(self, s3: Any, source: str, target: str, recursive: bool, cwd: Path) -> str:
        if not source.startswith("s3://") and target.startswith("s3://"):
            bucket, key = _s3_parts(target)
            if key.endswith("/") or not key:
                key += Path(source).name
            self.calls.append("s3.PutObject")
            s3.put_object(Bucket=bucket, Key=key, Body=(cwd / source).read_bytes())
            return f"upload: {source} to s3://{bucket}/{key}\n"
        if source.startswith("s3://") and not target.startswith("s3://"):
            bucket, key = _s3_parts(source)
            keys = [key]
            if recursive:
                self.calls.append("s3.ListObjectsV2")
                keys = [o["Key"] for o in _s3_objects(s3, bucket, key)]
            lines = []
            for each in keys:
                self.calls.append("s3.GetObject")
                body = s3.get_object(Bucket=bucket, Key=each)["Body"].read()
                if target == "-":
                    lines.append(body.decode())
                    continue
                local = cwd / target / each[len(key) :] if recursive else cwd / target
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(body)
                lines.append(f"download: s3://{bucket}/{each} to {local.relative_to(cwd)}\n")
            return "".join(lines)
        raise AwsCliError(f"aws s3 cp {source} {target}: not supported here")


# ---- the audiences command ---------------------------------------------------------------------


class CliClients(Clients):
    """``constructs_lib.cli.aws.Clients`` with its clients made by ``clients(service)`` (the
    factory the ``aws`` lines use: same moto state, same scripted services), one per service."""

    def __init__(self, clients: ClientFactory, region: str) -> None:
        super().__init__(region=region)
        self._factory = clients

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._factory(service)
        return self._clients[service]


@contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@dataclass
class Audiences:
    """``audiences ...`` run in-process by ``constructs_lib.cli.main.run`` on ``clients``, in
    the shell's directory (relative file names), stdout captured (not a terminal: plain
    lines). Returns the exit code, stdout and stderr."""

    clients: CliClients
    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, argv: list[str], cwd: Path) -> tuple[int, str, str]:
        from constructs_lib.cli.main import run
        from constructs_lib.cli.render import Output

        self.calls.append(argv)
        stdout, stderr = io.StringIO(), io.StringIO()
        with _working_directory(cwd), redirect_stderr(stderr):
            try:
                code = run(
                    argv[1:],
                    clients=self.clients,
                    out=Output(json="--json" in argv, stream=stdout),
                )
            except SystemExit as exit_:  # argparse: usage errors, --help
                code = exit_.code if isinstance(exit_.code, int) else 1
        return code, stdout.getvalue(), stderr.getvalue()


def _render_pages(pages: Any, query: str | None) -> str:
    """Text output of a paginated answer: ``--query`` applied to each page, as the CLI's text
    formatter does (later pages carry only the result keys), then to the resume token when
    ``--max-items`` cut the listing."""
    keys = [key.expression for key in pages.result_keys]
    out = []
    for index, page in enumerate(pages):
        page = {k: v for k, v in page.items() if k != "ResponseMetadata"}
        if index > 0:
            page = {k: page[k] for k in keys if k in page}
        out.append(render(page, query, "text"))
    if pages.resume_token:  # --max-items cut the listing: the CLI prints where to go on
        out.append(render({"NextToken": {"NextToken": pages.resume_token}}, query, "text"))
    return "".join(out)


def _global_options(arguments: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    rest: list[str] = []
    index = 0
    while index < len(arguments):
        token = arguments[index]
        if token in _GLOBAL_OPTIONS or token in _PAGING_OPTIONS:
            if index + 1 >= len(arguments):
                raise AwsCliError(f"aws: error: {token} expects a value")
            options[token] = arguments[index + 1]
            index += 2
            continue
        if token in _GLOBAL_FLAGS:
            options[token] = ""
        else:
            rest.append(token)
        index += 1
    if options.get("--output", "json") not in ("json", "text"):
        raise AwsCliError(f"--output {options['--output']}: only json and text are rendered here")
    return options, rest


def _parameters(
    operation: Any, arguments: list[str], cwd: Path, paging: bool, client: Any, method: str
) -> dict[str, Any]:
    shape = operation.input_shape
    members = {xform_name(name, "-"): name for name in (shape.members if shape else {})}
    hidden: set[str] = set()
    if paging:
        config = client.get_paginator(method)._pagination_cfg
        tokens = config.get("input_token")
        tokens = tokens if isinstance(tokens, list) else [tokens]
        hidden = {xform_name(t, "-") for t in [*tokens, config.get("limit_key")] if t}
    params: dict[str, Any] = {}
    index = 0
    while index < len(arguments):
        token = arguments[index]
        if not token.startswith("--"):
            raise AwsCliError(f"aws: error: unrecognized arguments: {token}")
        key = token[2:]
        negated = key.startswith("no-") and key[3:] in members
        name = members.get(key[3:] if negated else key)
        if name is None or key in hidden:
            raise AwsCliError(
                f"aws: error: unknown option {token} for {operation.name} "
                f"(known: {', '.join(sorted(f'--{m}' for m in members if m not in hidden))})"
            )
        member = shape.members[name]
        index += 1
        if member.type_name == "boolean":
            params[name] = not negated
            continue
        values: list[str] = []
        while index < len(arguments) and not arguments[index].startswith("--"):
            values.append(arguments[index])
            index += 1
        params[name] = _decode(member, values, token, cwd)
    return params


def _decode(shape: Any, values: list[str], option: str, cwd: Path) -> Any:
    """A parameter's value from its words, by the member's shape, as the CLI decodes it."""
    if not values:
        raise AwsCliError(f"aws: error: argument {option}: expected one argument")
    if len(values) == 1 and values[0].startswith("fileb://"):
        return (cwd / values[0][len("fileb://") :]).read_bytes()
    if len(values) == 1 and values[0].startswith("file://"):
        values = [(cwd / values[0][len("file://") :]).read_text()]
    kind = shape.type_name
    if kind == "list" and shape.member.type_name not in ("structure", "list", "map"):
        if len(values) == 1 and values[0].lstrip().startswith("["):
            return json.loads(values[0])
        return [_decode(shape.member, [v], option, cwd) for v in values]
    if len(values) != 1:
        raise AwsCliError(f"aws: error: argument {option}: expected one argument, got {values}")
    [value] = values
    if kind in ("structure", "map", "list"):
        if not value.lstrip().startswith(("{", "[")):
            raise AwsCliError(
                f"argument {option}: give JSON (the CLI's shorthand syntax is not rendered here)"
            )
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise AwsCliError(f"Error parsing parameter '{option[2:]}': {error}") from None
    try:
        if kind in ("integer", "long"):
            return int(value)
        if kind in ("float", "double"):
            return float(value)
    except ValueError:
        raise AwsCliError(f"argument {option}: invalid {kind} value: {value!r}") from None
    if kind == "blob":
        return value.encode()
    return value


def _s3_parts(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _s3_objects(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend(page.get("Contents", []))
    return found


def _s3_ls(s3: Any, uri: str, recursive: bool) -> str:
    bucket, prefix = _s3_parts(uri)
    lines = []
    if recursive:
        for item in _s3_objects(s3, bucket, prefix):
            stamp = item["LastModified"].strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"{stamp} {item['Size']:>10} {item['Key']}")
    else:
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                lines.append(f"{'PRE':>30} {common['Prefix'][len(prefix) :]}")
            for item in page.get("Contents", []):
                stamp = item["LastModified"].strftime("%Y-%m-%d %H:%M:%S")
                lines.append(f"{stamp} {item['Size']:>10} {item['Key'][len(prefix) :]}")
    return "".join(f"{line}\n" for line in lines)


# ---- output formatting, as awscli/formatter.py and awscli/text.py do it --------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    raise TypeError(f"not JSON: {value!r}")


def render(result: Any, query: str | None, output: str) -> str:
    """``--query`` then ``--output``, as the CLI applies them to the (fully paged) result."""
    if query is not None:
        result = jmespath.search(query, result)
    if output == "json":
        if result == {}:
            return ""
        return json.dumps(result, indent=4, ensure_ascii=False, default=_json_default) + "\n"
    stream = io.StringIO()
    _format_text(result, stream)
    return stream.getvalue()


def _scalar(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def _format_text(
    item: Any, stream: io.StringIO, identifier: str | None = None, scalar_keys: Any = None
) -> None:
    if isinstance(item, dict):
        scalars, non_scalars = _partition_dict(item, scalar_keys)
        if scalars:
            if identifier is not None:
                scalars.insert(0, identifier.upper())
            stream.write("\t".join(scalars) + "\n")
        for key, value in non_scalars:
            _format_text(value, stream, key)
    elif isinstance(item, list):
        if not item:
            return
        if any(isinstance(e, dict) for e in item):
            keys = sorted(
                {k for e in item if isinstance(e, dict) for k, v in e.items() if not _nested(v)}
            )
            for element in item:
                _format_text(element, stream, identifier, keys)
        elif any(isinstance(e, list) for e in item):
            scalars = [e for e in item if not _nested(e)]
            if scalars:
                _format_scalar_list(scalars, identifier, stream)
            for element in (e for e in item if _nested(e)):
                _format_text(element, stream, identifier)
        else:
            _format_scalar_list(item, identifier, stream)
    else:
        stream.write(_scalar(item) + "\n")


def _nested(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _format_scalar_list(elements: list[Any], identifier: str | None, stream: io.StringIO) -> None:
    if identifier is not None:
        for element in elements:
            stream.write(f"{identifier.upper()}\t{_scalar(element)}\n")
    else:
        stream.write("\t".join(_scalar(e) for e in elements) + "\n")


def _partition_dict(
    item: dict[str, Any], scalar_keys: list[str] | None
) -> tuple[list[str], list[tuple[str, Any]]]:
    scalars: list[str] = []
    non_scalars: list[tuple[str, Any]] = []
    if scalar_keys is None:
        for key, value in sorted(item.items()):
            if _nested(value):
                non_scalars.append((key, value))
            else:
                scalars.append(_scalar(value))
    else:
        scalars = [_scalar(item.get(key, "")) for key in scalar_keys]
        non_scalars = [(key, item[key]) for key in sorted(set(item) - set(scalar_keys))]
    return scalars, non_scalars


# ---- services moto does not have -----------------------------------------------------------------


class ServiceError(Exception):
    """Raised by a scripted operation: becomes the service's error answer (a ClientError)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ScriptedService:
    """``client``: a real botocore client whose operations are answered by ``handlers``
    (operation name -> function of the API parameters returning the API answer); every call is
    recorded in ``calls``. An operation without a handler fails the test."""

    def __init__(self, client: Any, handlers: Mapping[str, Handler]) -> None:
        self.client = client
        self.handlers = dict(handlers)
        self.calls: list[str] = []
        self._validator = ParamValidator()
        events = client.meta.events
        events.register_first("before-parameter-build.*.*", self._remember, unique_id=id(self))
        events.register_first("before-call.*.*", self._answer, unique_id=id(self) + 1)

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["scripted_params"] = dict(params)

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, Any]:
        self.calls.append(model.name)
        handler = self.handlers.get(model.name)
        if handler is None:
            raise AssertionError(
                f"the scripted {model.service_model.service_name} has no {model.name}"
            )
        try:
            answer = handler(context.get("scripted_params", {}))
        except ServiceError as error:
            return AWSResponse(None, error.status, {}, None), {
                "Error": {"Code": error.code, "Message": error.message},
                "ResponseMetadata": {"HTTPStatusCode": error.status, "RequestId": "scripted"},
            }
        if model.output_shape is not None:
            report = self._validator.validate(answer, model.output_shape)
            if report.has_errors():
                raise AssertionError(f"scripted {model.name} answer: {report.generate_report()}")
        answer = dict(answer)
        answer["ResponseMetadata"] = {"HTTPStatusCode": 200, "RequestId": "scripted"}
        return AWSResponse(None, 200, {}, None), answer


# ---- CloudFormation templates --------------------------------------------------------------------


def resolve(value: Any, ids: Mapping[str, str]) -> Any:
    """``value`` with ``Ref``, ``Fn::GetAtt``, ``Fn::Join`` and ``Fn::Select`` resolved: a
    ``Ref`` is the resource's physical id in ``ids``, any ``Fn::GetAtt`` its ARN
    (``ids["<logical id>.Arn"]``, the only attributes the library's templates read)."""
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return ids[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        logical_id, _attribute = value["Fn::GetAtt"]
        return ids[f"{logical_id}.Arn"]
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(p, ids)) for p in parts)
    if set(value) == {"Fn::Select"}:
        index, items = value["Fn::Select"]
        return resolve(items, ids)[int(index)]
    return {k: resolve(v, ids) for k, v in value.items()}


# ---- the scripted Clean Rooms ML and Bedrock of the runbook's test -------------------------------


@dataclass
class Fate:
    """What the scripted Clean Rooms ML does with a generation job (chosen by its name): refuse
    the start (an error code and message), hold it in progress until released, or report a
    final status (with a message) from the first poll on; ``export_status`` for its exports."""

    status: str = "ACTIVE"
    message: str | None = None
    refuse: tuple[str, str] | None = None
    hold: bool = False
    export_status: str = "ACTIVE"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class ScriptedAws:
    """Clean Rooms ML and Bedrock as the runbook's test scripts them, with state: the jobs the
    workflow starts, their exports, the stack's audience model and configured model. A job ends
    (or not) as its ``Fate`` says. What the services write to S3 is written to moto's S3, in a
    layout of this script's choosing (AWS documents the files, not the folders): an export
    writes ``scripted-export-output`` under the ``outputLocation`` it reports; a Bedrock job (one
    per shard of a batch inference run, one per ``clientRequestToken``) completes at once and
    writes ``<input file>.out`` and ``manifest.json.out`` (Bedrock's counts) under
    ``<output URI><job id>/``, as the batch workflow's ``CollectBatchResults`` reads them."""

    def __init__(
        self,
        clients: Callable[[str], Any],
        s3: Callable[[], Any],
        *,
        region: str,
        account: str,
    ) -> None:
        self._s3 = s3
        self.region, self.account = region, account
        self.fates: dict[str, Fate] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.exports: list[dict[str, Any]] = []
        self.models: dict[str, dict[str, Any]] = {}
        self.configured: dict[str, dict[str, Any]] = {}
        self.batch_jobs: dict[str, dict[str, Any]] = {}
        self.cleanroomsml = ScriptedService(
            clients("cleanroomsml"),
            {
                "StartAudienceGenerationJob": self._start_job,
                "GetAudienceGenerationJob": self._get_job,
                "ListAudienceGenerationJobs": self._list_jobs,
                "StartAudienceExportJob": self._start_export,
                "ListAudienceExportJobs": self._list_exports,
                "GetAudienceModel": self._get_model,
                "ListAudienceModels": self._list_models,
                "GetConfiguredAudienceModel": self._get_configured,
            },
        )
        self.bedrock = ScriptedService(
            clients("bedrock"),
            {
                "CreateModelInvocationJob": self._create_batch,
                "GetModelInvocationJob": self._get_batch,
            },
        )

    def arn(self, service: str, resource: str, name: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}/{name}"

    # -- Clean Rooms ML ---------------------------------------------------------------------------

    def _start_job(self, params: dict[str, Any]) -> dict[str, Any]:
        fate = self.fates.get(params["name"], Fate())
        if fate.refuse is not None:
            raise ServiceError(*fate.refuse, status=403)
        arn = self.arn("cleanrooms-ml", "audience-generation-job", f"j{len(self.jobs) + 1:04d}")
        self.jobs[arn] = {
            **{k: v for k, v in params.items() if k != "tags"},
            "audienceGenerationJobArn": arn,
            "createTime": _now(),
            "updateTime": _now(),
            "status": "CREATE_PENDING",
            "fate": fate,
        }
        return {"audienceGenerationJobArn": arn}

    def _job(self, arn: str) -> dict[str, Any]:
        job = self.jobs.get(arn)
        if job is None:
            raise ServiceError("ResourceNotFoundException", f"no job {arn}", 404)
        fate: Fate = job["fate"]
        job["status"] = "CREATE_IN_PROGRESS" if fate.hold else fate.status
        if fate.message and not fate.hold:
            job["statusDetails"] = {"statusCode": "FAILED", "message": fate.message}
        return {k: v for k, v in job.items() if k != "fate"}

    def _get_job(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._job(params["audienceGenerationJobArn"])

    def _list_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "createTime",
            "updateTime",
            "audienceGenerationJobArn",
            "name",
            "description",
            "status",
            "configuredAudienceModelArn",
            "collaborationId",
        )
        jobs = [self._job(arn) for arn in self.jobs]
        return {"audienceGenerationJobs": [{k: j[k] for k in keys if k in j} for j in jobs]}

    def _start_export(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self.jobs[params["audienceGenerationJobArn"]]
        if any(
            e["name"] == params["name"]
            and e["audienceGenerationJobArn"] == job["audienceGenerationJobArn"]
            for e in self.exports
        ):
            raise ServiceError("ConflictException", f"export {params['name']} exists", 409)
        destination = self.configured[job["configuredAudienceModelArn"]]["outputConfig"]
        location = (
            destination["destination"]["s3Destination"]["s3Uri"].rstrip("/")
            + f"/{job['audienceGenerationJobArn'].rsplit('/', 1)[1]}/{params['name']}/"
        )
        self.exports.append(
            {
                **params,
                "createTime": _now(),
                "updateTime": _now(),
                "status": job["fate"].export_status,
                "outputLocation": location,
            }
        )
        if job["fate"].export_status == "ACTIVE":
            bucket, _, prefix = location[len("s3://") :].partition("/")
            self._s3().put_object(Bucket=bucket, Key=f"{prefix}scripted-export-output", Body=b"u\n")
        return {}

    def _list_exports(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("audienceGenerationJobArn")
        return {
            "audienceExportJobs": [
                e for e in self.exports if wanted in (None, e["audienceGenerationJobArn"])
            ]
        }

    def _get_model(self, params: dict[str, Any]) -> dict[str, Any]:
        model = self.models.get(params["audienceModelArn"])
        if model is None:
            raise ServiceError("ResourceNotFoundException", "no such audience model", 404)
        return model

    def _list_models(self, params: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "createTime",
            "updateTime",
            "audienceModelArn",
            "name",
            "trainingDatasetArn",
            "status",
        )
        return {"audienceModels": [{k: m[k] for k in keys} for m in self.models.values()]}

    def _get_configured(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.configured[params["configuredAudienceModelArn"]]

    # -- Bedrock ----------------------------------------------------------------------------------

    def _create_batch(self, params: dict[str, Any]) -> dict[str, Any]:
        """A job of a batch inference run's shard: one per ``clientRequestToken`` (Bedrock
        "ignores the request" when the token matches a previous one), ``Completed`` at once,
        its output written (``_write_batch_output``)."""
        token = params.get("clientRequestToken")
        for job in self.batch_jobs.values():
            if token is not None and job.get("clientRequestToken") == token:
                return {"jobArn": job["jobArn"]}
        job_id = hashlib.sha256(f"{token}/{len(self.batch_jobs)}".encode()).hexdigest()[:12]
        arn = self.arn("bedrock", "model-invocation-job", job_id)
        self.batch_jobs[arn] = {
            **{k: v for k, v in params.items() if k != "tags"},
            "jobArn": arn,
            "submitTime": _now(),
            "lastModifiedTime": _now(),
            "endTime": _now(),
            "status": "Completed",
        }
        self._write_batch_output(self.batch_jobs[arn])
        return {"jobArn": arn}

    def _get_batch(self, params: dict[str, Any]) -> dict[str, Any]:
        identifier = params["jobIdentifier"]
        for arn, job in self.batch_jobs.items():
            if identifier in (arn, arn.rsplit("/", 1)[1]):
                return job
        raise ServiceError("ResourceNotFoundException", f"no job {identifier}", 404)

    def _write_batch_output(self, job: dict[str, Any]) -> None:
        """What Bedrock writes for a ``Completed`` job under ``<output URI><job id>/`` (the job
        id: the ARN's last part): ``<input file name>.out`` for each input file (one output line
        per record: its ``recordId``, ``modelInput`` and a scripted ``modelOutput``) and
        ``manifest.json.out`` with Bedrock's counts; the counts also in the job's answer."""
        s3 = self._s3()
        source = job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
        bucket, _, prefix = source[len("s3://") :].partition("/")
        inputs = [o["Key"] for o in _s3_objects(s3, bucket, prefix) if o["Key"].endswith(".jsonl")]
        target = job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
        out_bucket, _, out_prefix = target[len("s3://") :].partition("/")
        folder = f"{out_prefix}{job['jobArn'].rsplit('/', 1)[1]}/"
        records = 0
        for key in inputs:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            lines = []
            for line in body.splitlines():
                if not line.strip():
                    continue
                record = json.loads(line)
                output = {"content": [{"type": "text", "text": "scripted"}]}
                lines.append(json.dumps({**record, "modelOutput": output}))
                records += 1
            name = key.rsplit("/", 1)[-1]
            s3.put_object(
                Bucket=out_bucket,
                Key=f"{folder}{name}.out",
                Body="".join(f"{line}\n" for line in lines).encode(),
            )
        counts = {
            "totalRecordCount": records,
            "processedRecordCount": records,
            "successRecordCount": records,
            "errorRecordCount": 0,
        }
        manifest = {**counts, "inputTokenCount": records * 20, "outputTokenCount": records * 5}
        s3.put_object(
            Bucket=out_bucket, Key=f"{folder}manifest.json.out", Body=json.dumps(manifest).encode()
        )
        job.update(counts)


# ---- a deploy-less "cdk deploy" into moto --------------------------------------------------------


@dataclass
class Deployment:
    """What ``deploy`` made of a synthesized stack: physical ids by logical id (``<id>.Arn`` for
    ``Fn::GetAtt``), and the resolved definitions of its state machines by name."""

    stack_name: str
    template: dict[str, Any]
    ids: dict[str, str]
    definitions: dict[str, str]

    def of_type(self, resource_type: str) -> list[str]:
        """The logical ids of the template's resources of ``resource_type``."""
        return [
            logical_id
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        ]


#: Resource types whose Clean Rooms ML object the library's handler creates (physical id: ARN).
HANDLER_TYPES = {
    "Custom::CleanRoomsMLAudienceModel": "audience-model",
    "Custom::CleanRoomsMLConfiguredAudienceModel": "configured-audience-model",
    "Custom::CleanRoomsMLAudienceGenerationJob": "audience-generation-job",
    "AWS::CleanRoomsML::TrainingDataset": "training-dataset",
}


def physical_ids(
    stack_name: str, template: dict[str, Any], *, region: str, account: str, handler_arn: str
) -> dict[str, str]:
    """The physical id (``Ref``) and ARN (``Fn::GetAtt``) CloudFormation would give each
    resource, in test values."""
    ids: dict[str, str] = {
        "AWS::Partition": "aws",
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
    }
    for logical_id, resource in template["Resources"].items():
        kind, props = resource["Type"], resource.get("Properties", {})
        ref = arn = f"{stack_name}-{logical_id}"
        if kind == "AWS::StepFunctions::StateMachine":
            name = props["StateMachineName"]
            ref = arn = f"arn:aws:states:{region}:{account}:stateMachine:{name}"
        elif kind == "AWS::S3::Bucket":
            ref = f"{stack_name}-{logical_id}".lower()[:63]
            arn = f"arn:aws:s3:::{ref}"
        elif kind == "AWS::IAM::Role":
            arn = f"arn:aws:iam::{account}:role/{ref}"[:100]
        elif kind == "AWS::KMS::Key":
            arn = f"arn:aws:kms:{region}:{account}:key/{_uuid(logical_id)}"
            ref = arn.rsplit("/", 1)[1]
        elif kind == "AWS::Lambda::Function":
            arn = handler_arn
        elif kind == "AWS::CloudWatch::Dashboard":
            ref = props.get("DashboardName", ref)
        elif kind in HANDLER_TYPES:
            resource_name = HANDLER_TYPES[kind]
            ref = arn = (
                f"arn:aws:cleanrooms-ml:{region}:{account}:{resource_name}/{_uuid(logical_id)}"
            )
        ids[logical_id], ids[f"{logical_id}.Arn"] = ref, arn
    return ids


def _uuid(text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, text))


def deploy(
    stack_name: str,
    template: dict[str, Any],
    *,
    region: str,
    account: str,
    handler_arn: str,
    create_machine: Callable[[str, str], str],
    statuses: Mapping[str, str] | None = None,
) -> tuple[Deployment, ScriptedService]:
    """Create in moto what ``cdk deploy`` would leave that moto can hold: each state machine
    (its resolved definition, made by ``create_machine(definition, name)``, i.e. in moto's
    executing Step Functions) and each S3 bucket (with EventBridge notifications when the
    template turns them on). Returns the deployment and a scripted CloudFormation that
    describes the stack as CloudFormation would after the deploy: its outputs (resolved) and
    its resources (physical ids; status ``CREATE_COMPLETE`` unless ``statuses`` says otherwise
    for a logical id).

    moto's CloudFormation is not used: it needs ``openapi-spec-validator`` (moto's
    ``cloudformation`` extra, not in the dev requirements), creates state machines in a backend
    that does not execute them, and cannot create custom resources without Docker."""
    import boto3

    ids = physical_ids(
        stack_name, template, region=region, account=account, handler_arn=handler_arn
    )
    definitions: dict[str, str] = {}
    s3 = boto3.client("s3", region_name=region)
    for logical_id, resource in template["Resources"].items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::StepFunctions::StateMachine":
            definition = resolve(props["DefinitionString"], ids)
            definitions[props["StateMachineName"]] = definition
            create_machine(definition, props["StateMachineName"])
        elif kind == "AWS::S3::Bucket":
            s3.create_bucket(Bucket=ids[logical_id])
            if props.get("NotificationConfiguration", {}).get("EventBridgeConfiguration"):
                s3.put_bucket_notification_configuration(
                    Bucket=ids[logical_id],
                    NotificationConfiguration={"EventBridgeConfiguration": {}},
                )
    deployment = Deployment(stack_name, template, ids, definitions)
    return deployment, scripted_cloudformation(deployment, statuses or {})


def scripted_cloudformation(deployment: Deployment, statuses: Mapping[str, str]) -> ScriptedService:
    """CloudFormation's answers about ``deployment``'s stack (``DescribeStacks``, with or
    without ``StackName``: the account's one stack then, ``ListStackResources``,
    ``DescribeStackResources``), derived from its template: outputs resolved, with their
    ``Description``."""
    import boto3

    stack_id = (
        f"arn:aws:cloudformation:{deployment.ids['AWS::Region']}:"
        f"{deployment.ids['AWS::AccountId']}:stack/{deployment.stack_name}/"
        f"{_uuid(deployment.stack_name)}"
    )
    created = _now()

    def check_stack(params: dict[str, Any]) -> None:
        if params.get("StackName") not in (deployment.stack_name, stack_id):
            raise ServiceError(
                "ValidationError", f"Stack with id {params.get('StackName')} does not exist"
            )

    def resources() -> list[dict[str, Any]]:
        return [
            {
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": deployment.ids[logical_id],
                "ResourceType": resource["Type"],
                "ResourceStatus": statuses.get(logical_id, "CREATE_COMPLETE"),
            }
            for logical_id, resource in deployment.template["Resources"].items()
        ]

    def describe_stacks(params: dict[str, Any]) -> dict[str, Any]:
        if "StackName" in params:  # without it: every stack of the account and region
            check_stack(params)
        outputs = [
            {
                "OutputKey": key,
                "OutputValue": str(resolve(output["Value"], deployment.ids)),
                **({"Description": output["Description"]} if "Description" in output else {}),
            }
            for key, output in deployment.template.get("Outputs", {}).items()
        ]
        stack = {
            "StackId": stack_id,
            "StackName": deployment.stack_name,
            "CreationTime": created,
            "StackStatus": statuses.get(deployment.stack_name, "CREATE_COMPLETE"),
            "Outputs": outputs,
        }
        return {"Stacks": [stack]}

    def list_stack_resources(params: dict[str, Any]) -> dict[str, Any]:
        check_stack(params)
        return {
            "StackResourceSummaries": [{**r, "LastUpdatedTimestamp": created} for r in resources()]
        }

    def describe_stack_resources(params: dict[str, Any]) -> dict[str, Any]:
        check_stack(params)
        found = [
            {**r, "StackName": deployment.stack_name, "StackId": stack_id, "Timestamp": created}
            for r in resources()
        ]
        return {"StackResources": found[:100]}  # the API's documented limit

    return ScriptedService(
        boto3.client("cloudformation", region_name=deployment.ids["AWS::Region"]),
        {
            "DescribeStacks": describe_stacks,
            "ListStackResources": list_stack_resources,
            "DescribeStackResources": describe_stack_resources,
        },
    )


@contextmanager
def step_functions_as_aws_documents_it() -> Iterator[None]:
    """Two things moto's Step Functions does not do as the API reference documents them, and
    the runbook relies on, done within this context:

    - ``GetExecutionHistory`` with ``reverseOrder`` lists the events "in descending order of
      their timeStamp" (moto ignores the flag);
    - ``StartExecution`` without a ``name`` names the execution with a UUID (moto names it
      ``None``, and lists it without a name);
    - ``DescribeExecution`` of an execution stopped by ``StopExecution`` reports the stop's
      ``cause`` and ``error`` (moto forgets them)."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    original_history = StepFunctionResponse.get_execution_history
    original_start = StepFunctionsParserBackend.start_execution
    original_stop = StepFunctionResponse.stop_execution
    original_describe = StepFunctionResponse.describe_execution
    stops: dict[str, dict[str, str]] = {}

    def stop_execution(self: Any) -> Any:
        given = {k: self._get_param(k) for k in ("error", "cause") if self._get_param(k)}
        result = original_stop(self)
        stops[self._get_param("executionArn")] = given
        return result

    def describe_execution(self: Any) -> Any:
        result = original_describe(self)
        response = cast(dict[str, Any], result.result)  # the dict moto's method built
        status = response.get("status")
        if str(getattr(status, "value", status)) == "ABORTED":
            response.update(stops.get(self._get_param("executionArn"), {}))
        return result

    def get_execution_history(self: Any) -> Any:
        history = self.stepfunction_backend.get_execution_history(self._get_param("executionArn"))
        if self._get_param("reverseOrder"):
            history = {**history, "events": list(reversed(history["events"]))}
        return ActionResult(history)

    def start_execution(
        self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        return original_start(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    StepFunctionResponse.get_execution_history = get_execution_history  # type: ignore[method-assign]
    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
    StepFunctionResponse.stop_execution = stop_execution  # type: ignore[method-assign]
    StepFunctionResponse.describe_execution = describe_execution  # type: ignore[method-assign]
    try:
        yield
    finally:
        StepFunctionResponse.stop_execution = original_stop  # type: ignore[method-assign]
        StepFunctionResponse.describe_execution = original_describe  # type: ignore[method-assign]
        StepFunctionResponse.get_execution_history = original_history  # type: ignore[method-assign]
        StepFunctionsParserBackend.start_execution = original_start  # type: ignore[method-assign]
