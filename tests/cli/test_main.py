"""The ``audiences`` entry point (``constructs_lib/cli/main.py``, ``aws.py``): help, start-up,
options, and the one-line errors for what a user must fix.

GIVEN the installed package (subprocesses run ``python -m constructs_lib.cli``) or an AWS
configuration written for the test (no real credentials are read: every variable that could
point at some is removed, the config files are the test's, the instance metadata is off).
WHEN the CLI runs.
THEN help works everywhere, start-up loads no CDK, and each missing piece is named.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.cli.aws import Clients
from constructs_lib.cli.main import build_parser, command_names, run
from constructs_lib.cli.render import Output
from tests.conftest import ROOT

#: Variables through which botocore could find credentials or a region outside the test's files.
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


def cli_process(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "constructs_lib.cli", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


COMMANDS = command_names(build_parser())


def test_help_exits_0() -> None:
    # GIVEN the package; WHEN `python -m constructs_lib.cli --help` runs
    result = cli_process("--help")
    # THEN it prints the usage and every command, and exits 0
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: audiences ")
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    # GIVEN a command; WHEN `audiences <command> --help` runs
    result = cli_process(command, "--help")
    # THEN its usage, with the common options, and exit 0
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: audiences {command} ")
    for option in ("--region", "--profile", "--stack", "--json"):
        assert option in result.stdout


def test_importing_the_cli_loads_no_cdk() -> None:
    # GIVEN a fresh interpreter
    probe = (
        "import json, sys\n"
        "from constructs_lib.cli import main\n"
        "main.build_parser()\n"
        "help_modules = sorted(sys.modules)\n"
        "from constructs_lib.cli import aws, render, run_commands, stack, start\n"
        "start.load_checker()\n"
        "print(json.dumps({'help': help_modules, 'all': sorted(sys.modules)}))\n"
    )
    # WHEN the parser is built (what --help needs), then every CLI module is imported and the
    # input checker loaded
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = json.loads(result.stdout)
    # THEN no aws_cdk, constructs, jsii or boto3 module is loaded
    roots = {name.split(".")[0] for name in loaded["all"]}
    assert not roots & {"aws_cdk", "constructs", "jsii", "cdk_nag", "boto3"}
    # AND building the parser imports no botocore either (start-up time)
    assert "botocore" not in {name.split(".")[0] for name in loaded["help"]}


def test_options_go_before_or_after_the_command() -> None:
    # GIVEN the parser; WHEN the common options are given before and after the command
    parser = build_parser()
    before = parser.parse_args(["--region", "eu-west-1", "--json", "pipelines"])
    after = parser.parse_args(["pipelines", "--region", "eu-west-2", "--stack", "S", "--json"])
    plain = parser.parse_args(["pipelines"])
    # THEN both are read, and a command's own default does not erase what came before it
    assert (before.region, before.json, before.stack) == ("eu-west-1", True, None)
    assert (after.region, after.json, after.stack) == ("eu-west-2", True, "S")
    assert (plain.region, plain.profile, plain.json) == (None, None, False)


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS configuration of the test's own: a profile ``team`` (region and fake keys),
    nothing else; instance metadata off."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("[profile team]\nregion = eu-west-3\n")
    credentials.write_text(
        "[team]\naws_access_key_id = AKIDTESTTEAM\naws_secret_access_key = test-secret\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def failed(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The exit code and the stderr of ``audiences argv`` (nothing on stdout)."""
    stream = io.StringIO()
    code = run(list(argv), out=Output(stream=stream))
    assert stream.getvalue() == ""
    return code, capsys.readouterr().err


def test_profile_and_region_as_the_aws_cli_takes_them(aws_home: Path) -> None:
    # GIVEN the profile `team`
    # WHEN clients are made with --profile, with and without --region
    team = Clients(profile="team")
    elsewhere = Clients(profile="team", region="ap-south-1")
    # THEN the profile's region and credentials, --region over the profile's; one client per
    # service, made on first use
    assert team.region == "eu-west-3"
    assert team.session.get_credentials().access_key == "AKIDTESTTEAM"
    assert elsewhere.region == "ap-south-1"
    assert team.sfn is team.sfn
    assert team.sfn.meta.region_name == "eu-west-3"
    assert elsewhere.cfn.meta.region_name == "ap-south-1"


def test_fails_if_there_are_no_credentials(
    aws_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a region but no credentials anywhere; WHEN a command calls AWS
    code, err = failed(capsys, "--region", "eu-west-1", "pipelines")
    # THEN one line says so and how to fix it; exit 1
    assert code == 1
    assert err == (
        "audiences: error: no AWS credentials found: pass --profile, set AWS_PROFILE, or "
        "configure credentials as for the AWS CLI (aws configure / aws sso login)\n"
    )


def test_fails_if_there_is_no_region(aws_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN no region in the options, the environment or the default profile
    # WHEN a command needs a client
    code, err = failed(capsys, "pipelines")
    # THEN one line says where a region can come from; exit 1
    assert code == 1
    assert err == (
        "audiences: error: no AWS region: pass --region, set AWS_REGION (or "
        "AWS_DEFAULT_REGION), or set a region in the profile\n"
    )


def test_fails_if_the_profile_does_not_exist(
    aws_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a profile that is not in the config files; WHEN a command runs with it
    code, err = failed(capsys, "--profile", "nope", "--region", "eu-west-1", "pipelines")
    # THEN the profile is named; exit 1
    assert code == 1
    assert err.startswith("audiences: error: the profile 'nope' is not in the AWS config files")


def test_fails_if_no_command_is_given() -> None:
    # GIVEN no command, and `start` without an input; WHEN each runs; THEN argparse's usage
    # error, exit 2
    for argv in ([], ["start", "--stack", "S"]):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args(argv)
        assert exited.value.code == 2
