"""``audiences start`` (``constructs_lib/cli/start.py``) against the example app's workflow.

GIVEN the example app (``app.py`` with ``cdk.json``) synthesized, its state machines and buckets
created in moto by ``tests/runbook_support.deploy``, and CloudFormation's ``DescribeStacks``
scripted from the template: its outputs resolved, with the descriptions the constructs write
(``cleanrooms-ml-cdk:<kind>:<path>``).
WHEN ``audiences start`` runs with a CLI-skeleton file, a seed ``s3://`` URI or a local seed file.
THEN the input is checked with the workflow's own checker (``lambda/workflow_input.py``) and the
``Settings`` read from the deployed definition, and a run starts (or the seed is uploaded) only
when it passes; every refusal names the field, the value and the rule, and sends nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from constructs_lib.cli.aws import Clients, CliError
from constructs_lib.cli.main import run
from constructs_lib.cli.render import Output
from constructs_lib.cli.start import _checker_file, settings_of
from tests.runbook_support import Deployment, ScriptedService, ServiceError, deploy, resolve
from tests.sfn_support import ACCOUNT, HANDLER_ARN, REGION

STACK = "AudiencePipeline"


@pytest.fixture(scope="module")
def template(example_app: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((example_app / f"{STACK}.template.json").read_text())
    return loaded


def describe_stacks(deployment: Deployment, keep: Any = lambda output: True) -> Any:
    """CloudFormation's ``DescribeStacks`` of the deployed stack: the template's outputs
    (those ``keep`` keeps), resolved, with their descriptions."""

    def answer(params: dict[str, Any]) -> dict[str, Any]:
        if params.get("StackName") != deployment.stack_name:
            raise ServiceError(
                "ValidationError", f"Stack with id {params.get('StackName')} does not exist"
            )
        outputs = [
            {
                "OutputKey": key,
                "OutputValue": str(resolve(output["Value"], deployment.ids)),
                **({"Description": output["Description"]} if "Description" in output else {}),
            }
            for key, output in deployment.template.get("Outputs", {}).items()
            if keep(output)
        ]
        stack = {
            "StackName": deployment.stack_name,
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/1",
            "CreationTime": "2026-11-01T00:00:00Z",
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": outputs,
        }
        return {"Stacks": [stack]}

    return answer


class World:
    """The deployed example app in moto, and the CLI's clients (CloudFormation scripted)."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)

        def create_machine(definition: str, name: str) -> str:
            arn: str = self.sfn.create_state_machine(
                name=name, definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn"
            )["stateMachineArn"]
            return arn

        self.deployment, _ = deploy(
            STACK,
            template,
            region=REGION,
            account=ACCOUNT,
            handler_arn=HANDLER_ARN,
            create_machine=create_machine,
        )
        self.clients = Clients(region=REGION)
        self.cloudformation = ScriptedService(
            self.clients.cfn, {"DescribeStacks": describe_stacks(self.deployment)}
        )
        outputs = {
            o["Description"].split(":")[1]: resolve(o["Value"], self.deployment.ids)
            for o in template["Outputs"].values()
            if o.get("Description", "").endswith(":Pipeline")
        }
        self.workflow_arn: str = outputs["WorkflowArn"]
        self.model_arn: str = outputs["ConfiguredAudienceModelArn"]
        self.bucket, _, self.prefix = outputs["SeedLocation"][len("s3://") :].partition("/")

    def cli(self, *argv: str) -> tuple[int, str]:
        stream = io.StringIO()
        out = Output(json="--json" in argv, stream=stream)
        code = run([*argv, "--stack", STACK], clients=self.clients, out=out)
        return code, stream.getvalue()

    def executions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.sfn.list_executions(stateMachineArn=self.workflow_arn)[
            "executions"
        ]
        return found

    def execution_input(self, name: str) -> Any:
        arn = f"{self.workflow_arn.replace(':stateMachine:', ':execution:')}:{name}"
        return json.loads(self.sfn.describe_execution(executionArn=arn)["input"])


@pytest.fixture
def world(template: dict[str, Any]) -> Iterator[World]:
    with mock_aws():
        yield World(template)


def skeleton(world: World, **fields: Any) -> dict[str, Any]:
    """A filled-in CLI skeleton of StartAudienceGenerationJob for the example's workflow."""
    return {
        "name": "spring-campaign",
        "seedAudience": {"dataSource": {"s3Uri": f"s3://{world.bucket}/{world.prefix}a.jsonl"}},
        "includeSeedInOutput": False,
        **fields,
    }


def write(tmp_path: Path, content: Any, name: str = "run.json") -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_reads_the_settings_of_the_deployed_definition(world: World) -> None:
    # GIVEN the deployed workflow; WHEN the Settings of its input check are read
    definition = json.loads(
        world.sfn.describe_state_machine(stateMachineArn=world.workflow_arn)["definition"]
    )
    settings = settings_of(definition)
    # THEN they are the workflow's: its configured model, seed bucket and prefix
    assert settings["configuredAudienceModelArn"] == world.model_arn
    assert (settings["seedBucket"], settings["seedPrefix"]) == (world.bucket, world.prefix)


def test_starts_a_run_from_a_cli_skeleton(world: World, tmp_path: Path) -> None:
    # GIVEN a filled-in skeleton
    given = skeleton(world)
    # WHEN it is started with a name
    code, printed = world.cli("start", "--input", write(tmp_path, given), "--name", "run-1")
    # THEN the run of that name starts with the file as input, and its name is printed
    assert (code, printed) == (0, "run-1\n")
    [execution] = world.executions()
    assert execution["name"] == "run-1"
    assert world.execution_input("run-1") == given
    assert world.cloudformation.calls == ["DescribeStacks"]


def test_json_gives_the_runs_arn_and_name(world: World, tmp_path: Path) -> None:
    # GIVEN a skeleton without a job name
    given = skeleton(world)
    del given["name"]
    # WHEN it is started with --json and no run name
    code, printed = world.cli("--json", "start", "--input", write(tmp_path, given))
    # THEN the generated name, the ARN and the job name the workflow will give
    assert code == 0
    answer = json.loads(printed)
    assert re.fullmatch(r"cli-\d{8}T\d{6}Z-[0-9a-f]{6}", answer["name"])
    assert answer["executionArn"] == world.executions()[0]["executionArn"]
    digest = hashlib.sha256(answer["name"].encode()).hexdigest()[:16]
    assert answer["jobName"].endswith(f"-{digest}")


def test_starts_a_run_from_a_seed_uri(world: World) -> None:
    # GIVEN a seed file's URI; WHEN it is started
    uri = f"s3://{world.bucket}/elsewhere/b.jsonl"
    code, printed = world.cli("start", "--seed", uri, "--name", "from-uri")
    # THEN a manual run of that seed, the workflow's settings filling the rest
    assert (code, printed) == (0, "from-uri\n")
    assert world.execution_input("from-uri") == {"seedAudience": {"dataSource": {"s3Uri": uri}}}


def test_uploads_a_seed_file_under_the_seed_prefix(world: World, tmp_path: Path) -> None:
    # GIVEN a local seed file
    local = write(tmp_path, '{"user_id": "1"}\n', "My Seeds.jsonl")
    # WHEN it is started
    code, printed = world.cli("start", "--seed-file", local)
    # THEN it is uploaded under the prefix, named after the file and the time; the CLI starts
    # nothing (S3's notification does) and says how the run will be named
    assert code == 0
    [key] = [o["Key"] for o in world.s3.list_objects_v2(Bucket=world.bucket)["Contents"]]
    assert re.fullmatch(rf"{world.prefix}My-Seeds-\d{{8}}T\d{{6}}Z\.jsonl", key)
    assert world.s3.get_object(Bucket=world.bucket, Key=key)["Body"].read() == b'{"user_id": "1"}\n'
    assert printed.splitlines() == [
        f"uploaded s3://{world.bucket}/{key}",
        "S3's notification starts the run, named s3-<SHA-256 of "
        f"'{world.bucket}/{key}/<sequencer>'> (S3's event sequencer): `audiences runs` shows it",
    ]
    assert world.executions() == []


def test_wait_prints_the_run_s3_started(world: World, tmp_path: Path) -> None:
    # GIVEN S3 and the workflow's hand-over: an upload starts an execution named as the
    # workflow names it, with the seedObject as input
    uploads: list[dict[str, Any]] = []
    s3 = world.clients.s3
    s3.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: uploads.append(params)
    )

    def hand_over(**_: Any) -> None:
        seed = {"bucket": uploads[-1]["Bucket"], "key": uploads[-1]["Key"], "sequencer": "0A1"}
        name = "s3-" + hashlib.sha256(f"{seed['bucket']}/{seed['key']}/0A1".encode()).hexdigest()
        world.sfn.start_execution(stateMachineArn=world.workflow_arn, input="{}")
        world.sfn.start_execution(
            stateMachineArn=world.workflow_arn, name=name, input=json.dumps({"seedObject": seed})
        )

    s3.meta.events.register("after-call.s3.PutObject", hand_over)
    # WHEN a local seed file is started with --wait and --json
    code, printed = world.cli(
        "--json", "start", "--seed-file", write(tmp_path, "{}\n", "s.jsonl"), "--wait", "5"
    )
    # THEN the run's name and ARN
    assert code == 0
    answer = json.loads(printed)
    [run_] = [e for e in world.executions() if e["name"].startswith("s3-")]
    assert (answer["name"], answer["executionArn"]) == (run_["name"], run_["executionArn"])
    assert answer["seed"] == f"s3://{world.bucket}/{uploads[0]['Key']}"


def refused(world: World, capsys: pytest.CaptureFixture[str], *argv: str, code: int = 2) -> str:
    """What the CLI says on stderr when it refuses ``argv`` (nothing started, nothing put)."""
    capsys.readouterr()
    assert world.cli(*argv) == (code, "")
    assert world.executions() == []
    assert "Contents" not in world.s3.list_objects_v2(Bucket=world.bucket)
    err = capsys.readouterr().err
    assert err.startswith("audiences: error: ")
    return err[len("audiences: error: ") :].rstrip("\n")


def test_fails_if_the_input_breaks_the_apis_rules(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a skeleton with a bad URI, a string for a boolean and an unknown field
    given = skeleton(world, includeSeedInOutput="yes", seedAudience={"dataSource": {"s3Uri": "x"}})
    given["size"] = 3
    # WHEN it is started
    message = refused(world, capsys, "start", "--input", write(tmp_path, given))
    # THEN every problem names the field, the value and the rule, as the workflow would
    assert message.startswith(
        "refused by the workflow's input check, nothing was sent: 3 problem(s) in the manual input"
    )
    assert "input has no field 'size'" in message
    assert "seedAudience.dataSource.s3Uri 'x' must be an S3 URI (s3://<bucket>/<key>)" in message
    assert "includeSeedInOutput must be true or false, got 'yes'" in message


def test_fails_if_the_skeleton_keeps_its_placeholders(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the skeleton as --generate-cli-skeleton prints it (empty strings)
    given = {
        "name": "",
        "configuredAudienceModelArn": "",
        "seedAudience": {"dataSource": {"s3Uri": ""}, "roleArn": ""},
        "includeSeedInOutput": True,
    }
    # WHEN it is started
    message = refused(world, capsys, "start", "--input", write(tmp_path, given))
    # THEN the model and role are named as not the workflow's own
    assert (
        f"configuredAudienceModelArn '' is not this workflow's configured audience model "
        f"({world.model_arn})" in message
    )
    assert "seedAudience.roleArn '' is not the role this workflow may pass" in message


def test_fails_if_the_seed_uri_is_not_s3(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a path instead of an S3 URI; WHEN it is started; THEN the option and value are named
    message = refused(world, capsys, "start", "--seed", "/tmp/seed.jsonl")
    assert message == "--seed '/tmp/seed.jsonl' is not an S3 URI (s3://<bucket>/<key>)"


def test_fails_if_the_input_is_not_json(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file that is not JSON, and no file; WHEN each is started; THEN the file is named
    path = write(tmp_path, "{name: x}")
    assert refused(world, capsys, "start", "--input", path).startswith(
        f"--input {path} is not JSON: Expecting property name"
    )
    missing = str(tmp_path / "missing.json")
    assert refused(world, capsys, "start", "--input", missing) == (
        f"--input {missing}: cannot read it (No such file or directory)"
    )


def test_fails_if_the_input_is_not_an_object(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a JSON list; WHEN it is started; THEN the checker's rule
    message = refused(world, capsys, "start", "--input", write(tmp_path, [1]))
    assert message.endswith("the execution input must be a JSON object, got [1]")


def test_fails_if_the_run_name_is_not_valid(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a name with a space, and one too long; WHEN each is started
    path = write(tmp_path, skeleton(world))
    # THEN the name and what is wrong with it
    assert refused(world, capsys, "start", "--input", path, "--name", "my run").startswith(
        "--name 'my run' is not a valid run name (the character ' '): 1 to 80 characters"
    )
    assert "(81 characters)" in refused(world, capsys, "start", "--input", path, "--name", "r" * 81)


def test_fails_if_a_name_is_given_with_a_seed_file(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a seed file and a run name; WHEN it is started; THEN the name cannot be chosen
    path = write(tmp_path, "{}\n", "s.jsonl")
    assert refused(world, capsys, "start", "--seed-file", path, "--name", "x").startswith(
        "--name does not go with --seed-file: the workflow names a run S3 starts"
    )


def test_fails_if_the_seed_file_does_not_exist(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no such file; WHEN it is started; THEN the file is named
    missing = tmp_path / "none.jsonl"
    assert refused(world, capsys, "start", "--seed-file", str(missing)) == (
        f"--seed-file {missing}: no such file"
    )


def test_fails_if_the_seed_file_is_not_json_lines(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a seed file with a CSV line, one with a JSON list, and an empty one
    csv = write(tmp_path, '{"user_id": "1"}\n\nuser_id,2\n', "a.jsonl")
    listed = write(tmp_path, '{"user_id": "1"}\n["2"]\n', "b.jsonl")
    empty = write(tmp_path, "\n", "c.jsonl")
    # WHEN each is started; THEN nothing is uploaded, and the file and line are named
    assert refused(world, capsys, "start", "--seed-file", csv) == (
        f"--seed-file {csv} line 3 is not JSON (Expecting value): a seed file holds one JSON "
        'object a line, e.g. {"user_id": "111111"}'
    )
    assert refused(world, capsys, "start", "--seed-file", listed) == (
        f"--seed-file {listed} line 2 is '[\"2\"]', not a JSON object such as "
        '{"user_id": "111111"}'
    )
    assert refused(world, capsys, "start", "--seed-file", empty) == (
        f"--seed-file {empty} holds no user"
    )


def test_fails_if_wait_is_given_without_a_seed_file(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a manual start with --wait; WHEN it runs; THEN --wait is refused
    path = write(tmp_path, skeleton(world))
    message = refused(world, capsys, "start", "--input", path, "--wait", "3")
    assert message == "--wait goes with --seed-file only"


def test_fails_if_the_pipeline_has_no_seed_location(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a stack whose pipeline publishes no SeedLocation
    world.cloudformation.handlers["DescribeStacks"] = describe_stacks(
        world.deployment, lambda output: "SeedLocation" not in output.get("Description", "")
    )
    # WHEN a local seed file is started; THEN the output is named, and the other ways to start
    message = refused(
        world, capsys, "start", "--seed-file", write(tmp_path, "{}\n", "s.jsonl"), code=2
    )
    assert message == (
        f"the pipeline 'Pipeline' of {STACK!r} has no SeedLocation output (no seed bucket): "
        "start it with --input or --seed instead"
    )


def test_fails_if_the_workflow_has_no_input_check() -> None:
    # GIVEN a definition that is not the library's workflow; WHEN its Settings are read
    with pytest.raises(CliError) as caught:
        settings_of({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    # THEN the error says so
    assert str(caught.value).startswith("the workflow's definition has no input check")


def test_the_checker_is_the_workflows_own() -> None:
    # GIVEN a checkout (no wheel); WHEN the checker is located; THEN it is lambda/'s module
    assert _checker_file() == Path(__file__).resolve().parents[2] / "lambda" / "workflow_input.py"


def test_an_installed_wheel_checks_with_its_bundled_checker(tmp_path: Path) -> None:
    # GIVEN the wheel's layout: lambda/ shipped as constructs_lib/_lambda (pyproject.toml)
    root = Path(__file__).resolve().parents[2]
    shutil.copytree(
        root / "constructs_lib",
        tmp_path / "constructs_lib",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(
        root / "lambda",
        tmp_path / "constructs_lib" / "_lambda",
        ignore=shutil.ignore_patterns("__pycache__", "tests"),
    )
    probe = (
        "import json, sys\n"
        "from constructs_lib.cli import start\n"
        "plan = start.check_input({'seedAudience': {'dataSource': {'s3Uri': 's3://b/k.jsonl'}}},"
        " {'configuredAudienceModelArn': 'arn:aws:cleanrooms-ml:us-east-1:123456789012:"
        "configured-audience-model/m', 'roleArn': 'arn:aws:iam::123456789012:role/r',"
        " 'batch': {'inputS3Uri': 's3://b/in/', 'outputS3Uri': 's3://b/out/', 'workflowArn':"
        " 'arn:aws:states:us-east-1:123456789012:stateMachine:batch', 'caller': 'c'}}, 'run-1')\n"
        "print(json.dumps([str(start._checker_file()), plan['jobName'], 'boto3' in sys.modules,"
        " plan['batch']['ManifestS3Uri']]))"
    )
    # WHEN the CLI checks an input there, outside the checkout (``-c``: the copy is first on
    # sys.path)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    # THEN it used the packaged checker, without boto3
    assert result.returncode == 0, result.stderr
    location, job_name, boto3_loaded, manifest = json.loads(result.stdout)
    assert location == str(tmp_path / "constructs_lib" / "_lambda" / "workflow_input.py")
    assert job_name.startswith("audience-")
    assert boto3_loaded is False
    # AND its Bedrock step's plan (the batch run's folders, from the handler's batch_input
    # module beside it)
    assert manifest.startswith("s3://b/out/")
    assert manifest.endswith("/manifest.json")
