"""``audiences runs``, ``show``, ``why``, ``where`` and ``training`` on real runs.

GIVEN the example app (its Bedrock step on) synthesized and deployed into moto as the runbook's
test does (``tests/runbook_support.py``: the workflow and the tracker executed by moto's Step
Functions, Clean Rooms ML and Bedrock scripted with ``ScriptedAws`` and ``Fate``), and runs of
the synthesized workflow: one that succeeded with its exports and its Bedrock step (a nested run
of the batch inference workflow), one started by a seed file (handed over from the S3
notification), one whose generation job failed, one with an invalid input, one whose start call
was refused, one whose Bedrock job lost some records (SUCCEEDED_WITH_WARNINGS) and one whose
Bedrock jobs all failed;
WHEN the commands run through ``constructs_lib.cli.main.run`` on those clients;
THEN they read the runs' real execution histories.

CloudFormation is scripted (``ScriptedService``): the stack's outputs as the library describes
them (``cleanrooms-ml-cdk:<kind>:<path>``), with the deployed ARNs.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from constructs_lib import BatchLimits
from constructs_lib.cli.main import run as cli
from constructs_lib.cli.render import Output
from tests.handler_support import new_client
from tests.runbook_support import (
    Deployment,
    Fate,
    ScriptedAws,
    ScriptedService,
    ServiceError,
    deploy,
    resolve,
    step_functions_as_aws_documents_it,
)
from tests.sfn_support import ACCOUNT, HANDLER_ARN, REGION, interpreter

STACK = "AudiencePipeline"
PATH = "Pipeline"
FAILED_MESSAGE = "scripted: 12 seed users matched, fewer than the minimum of 500"
REFUSED_MESSAGE = "scripted: not authorized to perform cleanrooms-ml:StartAudienceGenerationJob"
BEDROCK_MESSAGE = "scripted: the model refused the job's input"
#: Records in each Bedrock input: at least the minimum of one job, so each batch run has one shard.
PROMPTS = BatchLimits().min_records_per_job + 20


@functools.cache
def example_template(outdir: str) -> dict[str, Any]:
    """The example app with its Bedrock step, synthesized once per process."""
    import aws_cdk as cdk

    import app as example
    from tests.conftest import cdk_json_context

    context = {**cdk_json_context(), "batchInference": {"enabled": True}}
    assembly = example.build_app(cdk.App(outdir=outdir, context=context)).synth()
    template: dict[str, Any] = assembly.get_stack_by_name(STACK).template
    return template


@dataclass
class Clients:
    """What the CLI's handlers use of ``constructs_lib.cli.aws.Clients``."""

    sfn: Any
    cfn: Any
    s3: Any
    cleanroomsml: Any
    region: str = REGION


@dataclass
class World:
    """The deployment, its scripted services, the CLI's clients and the runs started."""

    deployment: Deployment
    scripted: ScriptedAws
    clients: Clients
    workflow: str
    tracker: str
    bucket: str
    model_arn: str
    #: The batch inference workflow each run's Bedrock step runs.
    batch: str = ""
    runs: dict[str, str] = field(default_factory=dict)

    def start(self, name: str, given: dict[str, Any]) -> str:
        arn: str = self.clients.sfn.start_execution(
            stateMachineArn=self.workflow, name=name, input=json.dumps(given)
        )["executionArn"]
        self.runs[name] = arn
        return arn

    def wait(self, *arns: str, timeout: float = 120) -> None:
        """Until the executions ``arns`` ended (a run's Bedrock step runs the batch inference
        workflow, its shards and their trackers: over half a minute on a loaded machine)."""
        deadline = time.monotonic() + timeout
        for arn in arns:
            while self.clients.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                assert time.monotonic() < deadline, f"{arn} still running"
                time.sleep(0.05)

    def cli(self, *argv: str) -> tuple[int, str]:
        """``audiences <argv> --stack STACK``: the exit code and what it printed."""
        stream = io.StringIO()
        code = cli(
            [*argv, "--stack", STACK],
            clients=self.clients,  # type: ignore[arg-type]
            out=Output(json="--json" in argv, stream=stream),
        )
        return code, stream.getvalue()

    def seed(self, key: str) -> dict[str, Any]:
        self.clients.s3.put_object(Bucket=self.bucket, Key=key, Body=b'{"user_id": "u1"}\n')
        return {"dataSource": {"s3Uri": f"s3://{self.bucket}/{key}"}}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def put_prompts(s3: Any, bucket: str, key: str) -> None:
    """A team's prompts file: ``PROMPTS`` records in Bedrock's format, as many as one job needs
    at least (the example app's model keeps the default ``BatchLimits``)."""
    body = "".join(
        json.dumps({"recordId": f"r{index:04d}", "modelInput": {"prompt": f"user {index}"}}) + "\n"
        for index in range(PROMPTS)
    )
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode())


@contextmanager
def bedrock_jobs_end(
    world: World, status: str, *, failed_records: int = 0, message: str | None = None
) -> Iterator[None]:
    """While in it, each job the scripted Bedrock creates ends ``status`` (with ``message``),
    ``failed_records`` of its records failed (in its answer and its ``manifest.json.out``)."""
    handlers = world.scripted.bedrock.handlers
    create = handlers["CreateModelInvocationJob"]

    def scripted(params: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = create(params)
        job = world.scripted.batch_jobs[answer["jobArn"]]
        job["status"] = status
        if message is not None:
            job["message"] = message
        if failed_records:
            job["successRecordCount"] -= failed_records
            job["errorRecordCount"] = failed_records
            target = job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
            bucket, _, prefix = target.removeprefix("s3://").partition("/")
            key = f"{prefix}{job['jobArn'].rsplit('/', 1)[1]}/manifest.json.out"
            s3 = world.clients.s3
            manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            manifest.update(
                successRecordCount=job["successRecordCount"], errorRecordCount=failed_records
            )
            s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())
        return answer

    handlers["CreateModelInvocationJob"] = scripted
    try:
        yield
    finally:
        handlers["CreateModelInvocationJob"] = create


def _outputs(deployment: Deployment, tracker: str, workflow: str, model: str) -> Any:
    """The stack's outputs as the library publishes them."""
    [configured] = deployment.of_type("Custom::CleanRoomsMLConfiguredAudienceModel")
    values = {
        "WorkflowArn": workflow,
        "JobStatusStateMachineArn": tracker,
        "AudienceModelArn": model,
        "ConfiguredAudienceModelArn": deployment.ids[configured],
    }
    return [
        {
            "OutputKey": f"{PATH}{kind}",
            "OutputValue": value,
            "Description": f"cleanrooms-ml-cdk:{kind}:{PATH}",
        }
        for kind, value in values.items()
    ]


def _cloudformation(outputs: list[dict[str, str]]) -> ScriptedService:
    def describe_stacks(params: dict[str, Any]) -> dict[str, Any]:
        if params.get("StackName") != STACK:
            raise ServiceError(
                "ValidationError", f"Stack with id {params.get('StackName')} does not exist"
            )
        stack = {
            "StackName": STACK,
            "CreationTime": _now(),
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": outputs,
        }
        return {"Stacks": [stack]}

    return ScriptedService(
        boto3.client("cloudformation", region_name=REGION), {"DescribeStacks": describe_stacks}
    )


@contextmanager
def deployed(template: dict[str, Any]) -> Iterator[World]:
    """The example app (its synthesized ``template``) deployed into moto with its scripted
    services (its configured model active, its audience model in training, the Bedrock step's
    prompts in place); executions still running at the end are stopped."""
    with mock_aws():
        scripted = ScriptedAws(
            new_client,
            lambda: boto3.client("s3", region_name=REGION),
            region=REGION,
            account=ACCOUNT,
        )
        services = {"cleanroomsml": scripted.cleanroomsml, "bedrock": scripted.bedrock}
        with step_functions_as_aws_documents_it(), interpreter(services) as run:
            deployment, _ = deploy(
                STACK,
                template,
                region=REGION,
                account=ACCOUNT,
                handler_arn=HANDLER_ARN,
                create_machine=run.machine,  # type: ignore[attr-defined]
            )
            machines = [
                f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
                for name in deployment.definitions
            ]
            [workflow] = [m for m in machines if "-Workflow-" in m]
            [tracker] = [m for m in machines if m.endswith("-job-status")]
            [batch] = [m for m in machines if "-BatchInference-" in m]
            ids = deployment.ids
            resources = deployment.template["Resources"]
            for logical_id in deployment.of_type("Custom::CleanRoomsMLConfiguredAudienceModel"):
                request = resolve(resources[logical_id]["Properties"]["Request"], ids)
                scripted.configured[ids[logical_id]] = {
                    **request,
                    "configuredAudienceModelArn": ids[logical_id],
                    "createTime": _now(),
                    "updateTime": _now(),
                    "status": "ACTIVE",
                }
            [model_id] = deployment.of_type("Custom::CleanRoomsMLAudienceModel")
            request = resolve(resources[model_id]["Properties"]["Request"], ids)
            model_arn = ids[model_id]
            scripted.models[model_arn] = {
                "name": request["name"],
                "trainingDatasetArn": request["trainingDatasetArn"],
                "audienceModelArn": model_arn,
                "createTime": _now() - datetime.timedelta(hours=2, minutes=5),
                "updateTime": _now(),
                "status": "CREATE_IN_PROGRESS",
            }
            [bucket] = [
                ids[i]
                for i in deployment.of_type("AWS::S3::Bucket")
                if "NotificationConfiguration" in resources[i]["Properties"]
            ]
            s3 = boto3.client("s3", region_name=REGION)
            # the Bedrock input of the seed file's runs (a manual run reads the whole input
            # location, this folder included)
            put_prompts(s3, bucket, "batch-input/2026-48/weekly/prompts.jsonl")
            sfn = boto3.client("stepfunctions", region_name=REGION)
            cloudformation = _cloudformation(_outputs(deployment, tracker, workflow, model_arn))
            clients = Clients(sfn, cloudformation.client, s3, scripted.cleanroomsml.client)
            world = World(
                deployment, scripted, clients, workflow, tracker, bucket, model_arn, batch
            )
            try:
                yield world
            finally:
                for machine in machines:
                    for execution in sfn.list_executions(
                        stateMachineArn=machine, statusFilter="RUNNING"
                    )["executions"]:
                        sfn.stop_execution(executionArn=execution["executionArn"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """GIVEN the deployed example app and its five runs, ended."""
    template = example_template(str(tmp_path_factory.mktemp("cli-app")))
    with deployed(template) as world:
        seed = world.seed("seeds/2026-48/weekly.jsonl")
        world.scripted.fates["week-48-small"] = Fate(status="CREATE_FAILED", message=FAILED_MESSAGE)
        world.scripted.fates["week-48-refused"] = Fate(
            refuse=("AccessDeniedException", REFUSED_MESSAGE)
        )
        started = [
            world.start("week-48", {"name": "week-48", "seedAudience": seed}),
            world.start("week-48-small", {"name": "week-48-small", "seedAudience": seed}),
            world.start(
                "week-48-invalid",
                {"seedAudience": {"dataSource": {"s3Uri": "nope"}}, "includeSeedInOutput": "yes"},
            ),
            world.start("week-48-refused", {"name": "week-48-refused", "seedAudience": seed}),
            world.start(
                "notification",
                {
                    "source": "aws.s3",
                    "detail-type": "Object Created",
                    "detail": {
                        "bucket": {"name": world.bucket},
                        "object": {"key": "seeds/2026-48/weekly.jsonl", "sequencer": "0A1B"},
                    },
                },
            ),
        ]
        world.wait(*started)
        [handed_over] = [
            e["executionArn"]
            for e in world.clients.sfn.list_executions(stateMachineArn=world.workflow)["executions"]
            if e["name"].startswith("s3-")
        ]
        world.runs["seed file"] = handed_over
        world.wait(handed_over)
        # AND a run whose Bedrock job lost some records, and one whose Bedrock jobs all failed
        for name, status, failed in (
            ("bedrock-partial", "Completed", 7),
            ("bedrock-failed", "Failed", 0),
        ):
            key = f"batch-input/{name}/prompts.jsonl"
            put_prompts(world.clients.s3, world.bucket, key)
            with bedrock_jobs_end(world, status, failed_records=failed, message=BEDROCK_MESSAGE):
                world.wait(
                    world.start(
                        name,
                        {
                            "name": name,
                            "seedAudience": seed,
                            "batchInputS3Uri": f"s3://{world.bucket}/batch-input/{name}/",
                        },
                    )
                )
        yield world


def _json(text: str) -> Any:
    return json.loads(text)


def _batch_run_of(world: World, run: str) -> str:
    """The ARN of the batch inference workflow's run the run ``run`` started (the one execution
    of the batch workflow started by it)."""
    sfn = world.clients.sfn
    [found] = [
        e["executionArn"]
        for e in sfn.list_executions(stateMachineArn=world.batch)["executions"]
        if json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]).get(
            "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
        )
        == world.runs[run]
    ]
    return str(found)


# ---- runs ------------------------------------------------------------------------------------


def test_runs_lists_each_run_with_trigger_and_outcome(world: World) -> None:
    # WHEN the runs are listed as JSON
    code, printed = world.cli("runs", "--json")
    # THEN every run is there, newest first, with its trigger and outcome
    assert code == 0
    rows = {r["name"]: r for r in _json(printed)}
    seed_run = world.runs["seed file"].rsplit(":", 1)[1]
    assert {name: (r["trigger"], r["outcome"]) for name, r in rows.items()} == {
        "week-48": ("manual", "SUCCEEDED"),
        "week-48-small": ("manual", "FAILED"),
        "week-48-invalid": ("manual", "INVALID_INPUT"),
        "week-48-refused": ("manual", "CALL_FAILED"),
        "notification": ("S3", "HANDED_OVER"),
        seed_run: ("S3", "SUCCEEDED"),
        "bedrock-partial": ("manual", "SUCCEEDED_WITH_WARNINGS"),
        "bedrock-failed": ("manual", "FAILED"),
    }
    starts = [r["started"] for r in _json(printed)]
    assert starts == sorted(starts, reverse=True)
    assert all(r["durationSeconds"] >= 0 for r in rows.values())


def test_runs_table_has_the_columns(world: World) -> None:
    # WHEN the runs are listed as text
    code, printed = world.cli("runs", "--limit", "3")
    # THEN a table with its header and three runs
    lines = printed.splitlines()
    assert code == 0
    assert lines[0].split() == ["NAME", "TRIGGER", "STARTED", "(UTC)", "DURATION", "OUTCOME"]
    assert len(lines) == 4


# ---- show ------------------------------------------------------------------------------------


def test_show_reads_every_step_of_a_run_with_exports_and_bedrock(world: World) -> None:
    # WHEN the succeeded run is shown as JSON
    code, printed = world.cli("show", "week-48", "--json")
    shown = _json(printed)
    # THEN it succeeded, and each step ended with its job and the job's final status
    assert (code, shown["status"], shown["outcome"]) == (0, "SUCCEEDED", "SUCCEEDED")
    steps = {s["step"]: s for s in shown["steps"]}
    [export] = [e["name"] for e in world.scripted.exports if e["name"].startswith("week-48-")]
    assert list(steps) == ["input", "generation", f"export:{export}", "batch"]
    assert all(s["status"] == "SUCCEEDED" for s in steps.values())
    [job] = [j for j in world.scripted.jobs.values() if j["name"] == "week-48"]
    assert steps["generation"]["jobArn"] == job["audienceGenerationJobArn"]
    assert steps["generation"]["jobStatus"] == "ACTIVE"
    # AND the Bedrock step's job is the batch inference workflow's run it started, succeeded
    batch = _batch_run_of(world, "week-48")
    assert (steps["batch"]["jobArn"], steps["batch"]["jobStatus"]) == (batch, "SUCCEEDED")
    assert steps["batch"]["trackingExecutionArn"] == batch
    exports = [s for key, s in steps.items() if key.startswith("export:")]
    assert exports
    assert all(s["jobStatus"] == "ACTIVE" for s in exports)
    assert {s["label"] for s in exports} == {
        f"export {e['name']}" for e in world.scripted.exports if e["name"].startswith("week-48-")
    }
    # AND each tracked step names its tracking execution, which waits for no further poll
    tracked = [s for s in steps.values() if s["step"] not in ("input", "batch")]
    assert all(
        s["trackingExecutionArn"].startswith(world.tracker.replace("stateMachine", "execution"))
        for s in tracked
    )
    assert all(s["nextPoll"] is None for s in [*tracked, steps["batch"]])


def test_show_accepts_the_execution_arn(world: World) -> None:
    # WHEN the run is named by its ARN
    code, printed = world.cli("show", world.runs["week-48-small"])
    # THEN its steps and outcome are printed as lines, with the console link
    assert code == 0
    assert "  input check: SUCCEEDED" in printed
    assert "  generation: FAILED | job arn:aws:cleanrooms-ml:" in printed
    assert "outcome: FAILED in step generation after" in printed
    assert printed.rstrip().endswith(f"#/v2/executions/details/{world.runs['week-48-small']}")


def test_show_and_follow_of_a_seed_file_notification_lead_to_its_run(world: World) -> None:
    # WHEN the execution the S3 notification started is shown, then followed
    code, shown = world.cli("show", "notification", "--json")
    follow_code, followed = world.cli("follow", "notification", "--interval", "0")
    # THEN it handed the seed file over to the run named after the object
    run = world.runs["seed file"]
    answer = _json(shown)
    assert (code, answer["trigger"], answer["outcome"]) == (0, "S3", "HANDED_OVER")
    assert answer["handedOverTo"] == run
    assert [s["status"] for s in answer["steps"]] == ["SUCCEEDED"]
    # AND follow goes on with that run to its end
    lines = followed.splitlines()
    assert follow_code == 0
    assert lines[0].startswith("run notification (S3) started ")
    assert lines[2].startswith("outcome: HANDED_OVER after ")
    assert lines[2].endswith(f", to {run}")
    assert lines[3].startswith(f"run {run.rsplit(':', 1)[1]} (S3) started ")
    assert lines[-1].startswith("outcome: SUCCEEDED after ")


def test_fails_if_the_run_does_not_exist(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN a run name no execution has is shown
    code, printed = world.cli("show", "no-such-run")
    # THEN the command fails with one line naming it
    assert (code, printed) == (1, "")
    assert "no-such-run" in capsys.readouterr().err


# ---- the Bedrock step: a run of the batch inference workflow ---------------------------------


def test_show_names_the_batch_run_of_a_run_that_went_through_run_batch_inference(
    world: World,
) -> None:
    # GIVEN the run whose Bedrock step ran the batch inference workflow to SUCCEEDED
    batch = _batch_run_of(world, "week-48")
    # WHEN it is shown as text
    code, printed = world.cli("show", "week-48")
    # THEN the Bedrock line names the batch run as its job, with the batch run's outcome
    assert code == 0
    [line] = [line.strip() for line in printed.splitlines() if line.strip().startswith("Bedrock")]
    parts = line.split(" | ")
    assert parts[:3] == ["Bedrock: SUCCEEDED", f"job {batch}", "job status SUCCEEDED"]
    assert parts[3].startswith("elapsed ")
    assert "outcome: SUCCEEDED after " in printed


def test_a_run_with_partial_bedrock_results_shows_succeeded_with_warnings(world: World) -> None:
    # GIVEN the run whose batch run lost 7 records (SUCCEEDED_WITH_WARNINGS)
    batch = _batch_run_of(world, "bedrock-partial")
    # WHEN it is shown as JSON and text, asked why, and followed
    code, printed = world.cli("show", "bedrock-partial", "--json")
    _, text = world.cli("show", "bedrock-partial")
    _, why = world.cli("why", "bedrock-partial")
    follow_code, followed = world.cli("follow", "bedrock-partial", "--interval", "0")
    shown = _json(printed)
    # THEN the run succeeded, its outcome saying there were warnings in the Bedrock step, with
    # the batch run's cause (its manifest)
    assert code == 0
    assert (shown["status"], shown["outcome"], shown["step"]) == (
        "SUCCEEDED",
        "SUCCEEDED_WITH_WARNINGS",
        "batch",
    )
    assert "the manifest is s3://" in shown["cause"]
    # AND every step succeeded, the Bedrock step's job being the batch run with its outcome
    steps = {s["step"]: s for s in shown["steps"]}
    assert all(s["status"] == "SUCCEEDED" for s in steps.values())
    assert (steps["batch"]["jobArn"], steps["batch"]["jobStatus"]) == (
        batch,
        "SUCCEEDED_WITH_WARNINGS",
    )
    # AND the text, why and follow say so too; follow exits 0 (the run succeeded)
    assert f"  Bedrock: SUCCEEDED | job {batch} | job status SUCCEEDED_WITH_WARNINGS" in text
    [outcome] = [line for line in text.splitlines() if line.startswith("outcome:")]
    assert outcome.startswith("outcome: SUCCEEDED_WITH_WARNINGS in step batch after ")
    assert outcome.endswith(shown["cause"])
    assert why.splitlines()[:2] == ["run bedrock-partial: SUCCEEDED_WITH_WARNINGS", "step: batch"]
    assert why.splitlines()[2] == f"message: {shown['cause']}"
    assert follow_code == 0
    assert followed.splitlines()[-1].startswith("outcome: SUCCEEDED_WITH_WARNINGS in step batch")
    # AND where lists the batch run's output and manifest, and the end event's outcome
    _, where = world.cli("where", "bedrock-partial", "--json")
    found = {item["what"]: item for item in _json(where)["locations"]}
    assert found["Bedrock manifest"]["uri"] in shown["cause"]
    assert found["Bedrock output"]["status"] == "SUCCEEDED_WITH_WARNINGS"
    assert _json(where)["endEvent"]["detail"]["outcome"] == "SUCCEEDED_WITH_WARNINGS"


def test_fails_if_every_bedrock_job_of_the_batch_run_fails(world: World) -> None:
    # GIVEN the run whose batch run's Bedrock jobs all failed (on every attempt)
    batch = _batch_run_of(world, "bedrock-failed")
    # WHEN it is shown as JSON and asked why
    code, printed = world.cli("show", "bedrock-failed", "--json")
    _, text = world.cli("show", "bedrock-failed")
    _, why = world.cli("why", "bedrock-failed", "--json")
    shown = _json(printed)
    # THEN the run failed in the Bedrock step with the batch run's outcome and cause
    assert code == 0
    assert (shown["status"], shown["outcome"], shown["step"]) == ("FAILED", "FAILED", "batch")
    assert "the manifest is s3://" in shown["cause"]
    assert (_json(why)["outcome"], _json(why)["step"]) == ("FAILED", "batch")
    # AND the steps before it succeeded, the Bedrock step FAILED with the batch run as its job
    steps = {s["step"]: s for s in shown["steps"]}
    assert [s["status"] for key, s in steps.items() if key != "batch"] == ["SUCCEEDED"] * 3
    assert (steps["batch"]["status"], steps["batch"]["jobArn"], steps["batch"]["jobStatus"]) == (
        "FAILED",
        batch,
        "FAILED",
    )
    assert steps["batch"]["trackingExecutionArn"] == batch
    assert f"  Bedrock: FAILED | job {batch} | job status FAILED" in text
    assert "outcome: FAILED in step batch after " in text
    # AND the Bedrock jobs the batch run started did fail
    assert world.scripted.bedrock.calls.count("CreateModelInvocationJob") >= 3


# ---- why -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("run", "outcome", "step", "message"),
    [
        ("week-48-small", "FAILED", "generation", FAILED_MESSAGE),
        ("week-48-invalid", "INVALID_INPUT", "input", "2 problem(s) in the manual input"),
        ("week-48-refused", "CALL_FAILED", "generation", REFUSED_MESSAGE),
    ],
)
def test_why_names_step_outcome_message_and_console_link(
    world: World, run: str, outcome: str, step: str, message: str
) -> None:
    # WHEN a failed run is asked why, as JSON and as text
    code, printed = world.cli("why", run, "--json")
    _, text = world.cli("why", run)
    answer = _json(printed)
    # THEN the step, the outcome, the service's own message and the console link
    assert code == 0
    assert (answer["outcome"], answer["step"]) == (outcome, step)
    assert message in answer["cause"]
    arn = world.runs[run]
    assert answer["consoleUrl"] == (
        f"https://{REGION}.console.aws.amazon.com/states/home?region={REGION}"
        f"#/v2/executions/details/{arn}"
    )
    assert text.splitlines()[:2] == [f"run {run}: {outcome}", f"step: {step}"]
    assert message in text.splitlines()[2]


def test_why_says_a_succeeded_run_did_not_fail(world: World) -> None:
    # WHEN a succeeded run is asked why
    code, printed = world.cli("why", "week-48")
    # THEN it says nothing went wrong
    assert code == 0
    assert printed.startswith("run week-48 succeeded: nothing went wrong\n")


# ---- where -----------------------------------------------------------------------------------


def test_where_lists_the_locations_and_the_end_event(world: World) -> None:
    # WHEN the succeeded run is asked where its results are
    code, printed = world.cli("where", "week-48", "--json")
    answer = _json(printed)
    # THEN the generation job, the destination, each export's location and Bedrock's output
    assert code == 0
    where = {item["what"]: item["uri"] for item in answer["locations"]}
    [job] = [j for j in world.scripted.jobs.values() if j["name"] == "week-48"]
    assert where["generated audience (job)"] == job["audienceGenerationJobArn"]
    assert where["audience destination"].startswith(f"s3://{world.bucket}/")
    exports = {
        f"export {e['name']}": e["outputLocation"]
        for e in world.scripted.exports
        if e["audienceGenerationJobArn"] == job["audienceGenerationJobArn"]
    }
    assert exports
    assert {k: where[k] for k in exports} == exports
    # (the batch run's own folder: its run id, 16 hex digits of its name's SHA-256)
    name = _batch_run_of(world, "week-48").rsplit(":", 1)[1]
    run_id = hashlib.sha256(name.encode()).hexdigest()[:16]
    assert where["Bedrock output"] == f"s3://{world.bucket}/batch-output/{run_id}/"
    assert where["Bedrock manifest"] == f"s3://{world.bucket}/batch-output/{run_id}/manifest.json"
    statuses = {item["what"]: item["status"] for item in answer["locations"]}
    assert statuses["Bedrock output"] == statuses["Bedrock manifest"] == "SUCCEEDED"
    assert all(uri.startswith(("s3://", "arn:")) for uri in where.values())
    # AND the end event it published, as the workflow sent it
    event = answer["endEvent"]
    assert (event["source"], event["detail-type"]) == (
        "cleanrooms-ml-cdk.audience-generation",
        "Audience Generation Workflow Finished",
    )
    assert event["detail"]["outcome"] == "SUCCEEDED"
    assert event["detail"]["executionArn"] == world.runs["week-48"]
    assert event["id"]


def test_where_of_an_invalid_input_has_only_its_end_event(world: World) -> None:
    # WHEN a run refused at its input check is asked where
    code, printed = world.cli("where", "week-48-invalid")
    # THEN it produced nothing, and published its INVALID_INPUT end event
    assert code == 0
    lines = printed.splitlines()
    assert lines[0] == "run week-48-invalid produced nothing yet"
    assert lines[1].startswith("end event: cleanrooms-ml-cdk.audience-generation / ")
    assert lines[1].endswith("outcome INVALID_INPUT, step input")


# ---- training --------------------------------------------------------------------------------


def test_training_reads_the_model_status_and_time(world: World) -> None:
    # WHEN the model in training is asked about
    code, printed = world.cli("training", "--json")
    _, text = world.cli("training")
    answer = _json(printed)
    # THEN its status and about two hours of training
    assert code == 0
    assert (answer["audienceModelArn"], answer["status"]) == (
        world.model_arn,
        "CREATE_IN_PROGRESS",
    )
    assert answer["training"] is True
    assert 2 * 3600 <= answer["trainingSeconds"] < 3 * 3600
    assert ": CREATE_IN_PROGRESS, training for 2h05m" in text.splitlines()[0]


def test_training_of_a_trained_model_says_how_long_it_took(world: World) -> None:
    # GIVEN the model trained in three hours
    model = world.scripted.models[world.model_arn]
    saved = dict(model)
    model.update(status="ACTIVE", updateTime=model["createTime"] + datetime.timedelta(hours=3))
    try:
        # WHEN it is asked about
        code, printed = world.cli("training")
    finally:
        model.clear()
        model.update(saved)
    # THEN it is ACTIVE, trained in 3 hours
    assert code == 0
    assert printed.splitlines()[0].endswith(": ACTIVE, trained in 3h00m")


def test_fails_if_the_pipeline_publishes_no_audience_model(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a stack whose outputs name a workflow but no audience model
    outputs = [
        o
        for o in _outputs(world.deployment, world.tracker, world.workflow, world.model_arn)
        if not o["Description"].startswith("cleanrooms-ml-cdk:AudienceModelArn:")
    ]
    clients = Clients(
        world.clients.sfn,
        _cloudformation(outputs).client,
        world.clients.s3,
        world.clients.cleanroomsml,
    )
    # WHEN training is asked about
    stream = io.StringIO()
    code = cli(["training", "--stack", STACK], clients=clients, out=Output(stream=stream))  # type: ignore[arg-type]
    # THEN it fails with one line saying the output is missing
    assert (code, stream.getvalue()) == (1, "")
    assert "publishes no AudienceModelArn" in capsys.readouterr().err
