"""The ``audiences`` command: options, subcommands, dispatch, errors and exit codes.

Start-up is kept short: this module imports ``argparse`` only; a command's module (and
botocore with it) is imported when the command runs.

Exit codes: 0 done; 1 a failure (AWS refused or could not be reached, no such stack or
pipeline, a run that failed); 2 a usage error or an input refused before anything was sent;
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aws import Clients
    from .render import Output

PROG = "audiences"
Handler = Callable[[argparse.Namespace, "Clients", "Output"], int]


def _lazy(module: str, function: str) -> Handler:
    """A handler imported from ``constructs_lib.cli.<module>`` when it runs."""

    def handler(args: argparse.Namespace, clients: Clients, out: Output) -> int:
        found: Handler = getattr(importlib.import_module(f"{__package__}.{module}"), function)
        return found(args, clients, out)

    return handler


def _add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes, before or after its name (``audiences --region X
    runs`` and ``audiences runs --region X``): on a subcommand they default to what was given
    before it."""
    default: Any = None if top else argparse.SUPPRESS
    options: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("--region",), {"help": "AWS region (default: the profile's, AWS_REGION)"}),
        (("--profile",), {"help": "a profile of the AWS config files (default: AWS_PROFILE)"}),
        (("--stack",), {"metavar": "NAME", "help": "the CloudFormation stack of the pipeline"}),
        (
            ("--pipeline",),
            {
                "metavar": "PATH",
                "help": "the pipeline's construct path in the stack, when it holds several",
            },
        ),
        (
            ("--json",),
            {"action": "store_true", "help": "print JSON for scripts instead of text"},
        ),
    ]
    for flags, settings in options:
        if any(flag in parser._option_string_actions for flag in flags):
            continue  # the command defines it itself
        if settings.get("action") == "store_true" and not top:
            settings = {**settings, "default": argparse.SUPPRESS}
        elif settings.get("action") != "store_true":
            settings = {**settings, "default": default}
        parser.add_argument(*flags, **settings)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Start, follow and diagnose audience-generation runs of the pipelines "
            "cleanrooms-ml-cdk-constructs deployed. Credentials and region are found as the "
            "AWS CLI finds them (--profile, --region, AWS_* variables, ~/.aws)."
        ),
        epilog="Exit codes: 0 done, 1 failed, 2 usage error or input refused.",
    )
    _add_common(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    pipelines = commands.add_parser(
        "pipelines",
        help="list the pipelines deployed in the account and region",
        description=(
            "List the pipelines (workflows) that stacks of the account and region describe in "
            "their outputs: stack, construct path, workflow, seed and output locations. "
            "--stack keeps one stack's."
        ),
    )
    pipelines.set_defaults(handler=_lazy("stack", "cmd_pipelines"))

    start = commands.add_parser(
        "start",
        help="check a run's input locally, then start the run",
        description=(
            "Start a run of the stack's workflow. The input is first checked with the "
            "workflow's own checker and the deployed workflow's settings: when it is refused "
            "nothing is sent (exit code 2). Prints the run's name."
        ),
    )
    source = start.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--input",
        metavar="RUN_JSON",
        help="the JSON of `aws cleanroomsml start-audience-generation-job "
        "--generate-cli-skeleton`, filled in (name, configuredAudienceModelArn and "
        "seedAudience.roleArn may be left out: the workflow fills them)",
    )
    source.add_argument(
        "--seed", metavar="S3_URI", help="a seed file already in S3 (s3://bucket/key.jsonl)"
    )
    source.add_argument(
        "--seed-file",
        metavar="JSONL",
        help="a local seed file, uploaded under the pipeline's seed prefix (named after the "
        "file and the time); S3's notification then starts the run",
    )
    start.add_argument(
        "--name",
        help="the run's name (default: cli-<UTC time>-<random>; not with --seed-file, whose "
        "run the workflow names)",
    )
    start.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="with --seed-file: wait up to SECONDS for the run S3's notification starts and "
        "print its name",
    )
    start.set_defaults(handler=_lazy("start", "cmd_start"))

    from .run_commands import register as register_run_commands

    register_run_commands(commands)
    for sub in commands.choices.values():
        _add_common(sub, top=False)
    return parser


def command_names(parser: argparse.ArgumentParser) -> list[str]:
    """The names of ``parser``'s subcommands, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def run(
    argv: Sequence[str] | None = None,
    *,
    clients: Clients | None = None,
    out: Output | None = None,
) -> int:
    """Run the command line ``argv``; ``clients`` and ``out`` replace the ones the options
    would make (tests)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from .aws import Clients, CliError, explain
    from .render import Output

    if out is None:
        out = Output(json=bool(args.json))
    if clients is None:
        clients = Clients(profile=args.profile, region=args.region)
    handler: Handler = args.handler
    try:
        return handler(args, clients, out)
    except CliError as error:
        _fail(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except Exception as error:
        message = explain(error)
        if message is None:
            raise
        _fail(message)
        return 1


def _fail(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """The console script ``audiences``."""
    return run(argv)
