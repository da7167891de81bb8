"""docs/runbook.md, executed: every ```bash block marked ``<!-- runnable -->`` runs against a
deploy-less copy of the example app's stack, and what it prints is checked.

GIVEN the example app (``app.py`` with ``cdk.json``, its Bedrock step turned on) synthesized, and
in moto what ``cdk deploy`` leaves that moto can hold: the workflow, its batch inference workflow
and the job-status tracker (their resolved definitions, executed by moto's Step Functions
interpreter with the simulator of ``tests/sfn_support.py``) and the buckets (the seed bucket sends
EventBridge notifications); each seed file's Bedrock input is a prompts file of ``PROMPTS``
records (one shard, one Bedrock job per batch inference run).
WHEN the runbook's blocks run in a bash-like session (``tests/runbook_support.py``: each ``aws``
command is translated through the botocore service model; ``jq`` is the real one), in this
order: find the stack's parts, add the alarm rule, upload a seed file, start a run by hand,
follow it, read the outcome of five kinds of run (one ending in its Bedrock step), list a run's
outputs and its batch inference run's, export and track an export; then the same with the
``audiences`` command (run in-process on the same clients: find the pipeline, start a run from a
skeleton file and from a seed file, list the runs, follow the run it started and the failed one,
ask why the failed one failed, where the run's results are, how training goes); then watch the
model train, stop the run; and, on a second deployment of the example app without export sizes,
upload a seed file and list the run's outputs.
THEN each block prints what the runbook says it prints (tests below).

moto's Step Functions is also made to do three things as the API reference documents them and
the blocks rely on (``runbook_support.step_functions_as_aws_documents_it``): ``reverseOrder``
of ``GetExecutionHistory``, a UUID name for an unnamed execution, the stop's cause in
``DescribeExecution``; and a stopped execution is awaited until moto reports it ABORTED.

What is not AWS, and why:

- Clean Rooms ML and Bedrock are scripted (``runbook_support.ScriptedAws``; moto has neither):
  jobs end as the test decides (``Fate``), answers are validated against the bundled service
  models, messages and the folders written below the documented prefixes are the script's;
- CloudFormation's description of the stack is scripted from the synthesized template (outputs
  resolved, physical ids as the deploy would give them): moto's CloudFormation needs
  ``openapi-spec-validator`` (moto's ``cloudformation`` extra, not in the dev requirements) and
  cannot run the library's custom resources without Docker;
- moto's EventBridge has no Step Functions target: the seed rule's pattern (the synthesized one)
  sends the S3 event to an SQS queue, and the test starts the workflow with it, as the rule's
  target would;
- the model's tracking execution is started by the handler's own ``tracking.start_tracking``
  without the WaitCondition's signal URL (the model never finishes training in this test).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
import botocore.session
import pytest
from moto import mock_aws

from constructs_lib import BatchLimits
from tests.conftest import ROOT, cdk_json_context
from tests.handler_support import new_client
from tests.runbook_support import (
    Audiences,
    AwsCli,
    AwsCliError,
    CliClients,
    Deployment,
    Fate,
    ScriptedAws,
    Shell,
    ShellError,
    Step,
    deploy,
    render,
    resolve,
    runnable_blocks,
    step_functions_as_aws_documents_it,
)
from tests.sfn_support import ACCOUNT, HANDLER_ARN, REGION, interpreter

RUNBOOK = ROOT / "docs" / "runbook.md"
STACK = "AudiencePipeline"
FAILED_MESSAGE = "scripted: 12 seed users matched, fewer than the minimum matching seed size 500"
#: Records in each Bedrock input: at least the minimum of one job (the example app's model
#: uses the default ``BatchLimits``), so each batch run has one shard.
PROMPTS = BatchLimits().min_records_per_job + 20
#: Records in the Bedrock input of the run that ends TOO_FEW_RECORDS.
FEW_PROMPTS = 3
REFUSED_MESSAGE = "scripted: not authorized to perform cleanrooms-ml:StartAudienceGenerationJob"


@dataclass
class Session:
    """What the runbook's blocks printed (by block, or ``block@label`` for a block run once per
    kind of run), the variables after each, and the state they ran against."""

    printed: dict[str, list[Step]]
    variables: dict[str, dict[str, str]]
    runs: dict[str, str]
    statuses: dict[str, str]
    deployment: Deployment
    world: ScriptedAws
    rule_events: list[dict[str, Any]]
    executed: set[str]
    workflow_executions_after_upload: list[str]

    def out(self, key: str, index: int) -> str:
        """What the ``index``-th command (assignments and here-documents count) printed."""
        return self.printed[key][index].stdout

    def machine_arn(self, contains: str) -> str:
        [name] = [n for n in self.deployment.definitions if contains in n]
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"

    def logical_id(self, resource_type: str) -> str:
        [logical_id] = self.deployment.of_type(resource_type)
        return logical_id

    @property
    def bucket(self) -> str:
        return self.deployment.ids[self.seed_bucket_id]

    @property
    def seed_bucket_id(self) -> str:
        [logical_id] = [
            i
            for i in self.deployment.of_type("AWS::S3::Bucket")
            if "NotificationConfiguration" in self.deployment.template["Resources"][i]["Properties"]
        ]
        return logical_id


def _example_app_template(outdir: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """The example app as ``cdk synth -c <key>=<value>...`` builds it with ``overrides``."""
    import app as example

    context = {**cdk_json_context(), **overrides}
    assembly = example.build_app(cdk.App(outdir=str(outdir), context=context)).synth()
    template: dict[str, Any] = assembly.get_stack_by_name(STACK).template
    return template


def _idle(sfn: Any, execution: str) -> bool:
    """Whether a running execution waits for something only time or a job brings: in a Wait
    state, or for a nested execution that is itself idle."""
    events = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=1)
    if not events["events"]:
        return False  # just started
    last = events["events"][0]
    if last["type"] == "WaitStateEntered":
        return True
    if last["type"] != "TaskSubmitted":
        return False
    child = json.loads(last["taskSubmittedEventDetails"]["output"])["ExecutionArn"]
    return bool(
        sfn.describe_execution(executionArn=child)["status"] == "RUNNING" and _idle(sfn, child)
    )


def _settle(sfn: Any, machines: list[str], timeout: float = 30) -> None:
    """Until every execution of ``machines`` has ended or is idle (``_idle``)."""
    deadline = time.monotonic() + timeout
    while True:
        running = [
            e["executionArn"]
            for machine in machines
            for e in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")[
                "executions"
            ]
        ]
        if all(_idle(sfn, execution) for execution in running):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"executions still busy after {timeout} s: {running}")
        time.sleep(0.05)


@contextmanager
def _deployed(
    tmp_path_factory: pytest.TempPathFactory, context: dict[str, Any]
) -> Iterator[_State]:
    """The example app (with ``context`` over ``cdk.json``) deployed into moto, its scripted
    services, and a shell session in a fresh directory; every execution still running is
    stopped at the end (the sessions are data once played, and two never overlap)."""
    template = _example_app_template(tmp_path_factory.mktemp("runbook-app"), context)
    world = ScriptedAws(
        new_client, lambda: boto3.client("s3", region_name=REGION), region=REGION, account=ACCOUNT
    )
    # the interpreter's SDK tasks reach the scripted services (anything with a ``client``)
    services = {"cleanroomsml": world.cleanroomsml, "bedrock": world.bedrock}
    with step_functions_as_aws_documents_it(), interpreter(services) as run:
        create_machine = run.machine  # type: ignore[attr-defined]
        wait_condition = next(
            i for i, r in template["Resources"].items()
            if r["Type"] == "AWS::CloudFormation::WaitCondition"
        )  # fmt: skip
        deployment, cloudformation = deploy(
            STACK, template, region=REGION, account=ACCOUNT, handler_arn=HANDLER_ARN,
            create_machine=create_machine, statuses={wait_condition: "CREATE_IN_PROGRESS"},
        )  # fmt: skip
        state = _State(deployment, world, cloudformation, tmp_path_factory.mktemp("shell"))
        try:
            yield state
        finally:
            state.stop_everything()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """GIVEN the example app with its Bedrock step, deployed; WHEN the whole runbook runs."""
    with _deployed(tmp_path_factory, {"batchInference": {"enabled": True}}) as state:
        return state.play()


@pytest.fixture(scope="module")
def without_exports(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """GIVEN the example app without export sizes (``-c exportSizes='[]'``), with its Bedrock
    step; WHEN a seed file is uploaded and the run's outputs are listed."""
    context = {"batchInference": {"enabled": True}, "exportSizes": []}
    with _deployed(tmp_path_factory, context) as state:
        return state.play_without_exports()


class _State:
    """The deployment, the scripted services and the shell session of one runbook run."""

    def __init__(
        self, deployment: Deployment, world: ScriptedAws, cloudformation: Any, cwd: Path
    ) -> None:
        self.deployment, self.world, self.cwd = deployment, world, cwd
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        scripted = {
            "cleanroomsml": world.cleanroomsml.client,
            "bedrock": world.bedrock.client,
            "cloudformation": cloudformation.client,
        }

        def clients(service: str) -> Any:
            if service in scripted:
                return scripted[service]
            return boto3.client(service, region_name=REGION)

        self.blocks = runnable_blocks(RUNBOOK.read_text())
        self.printed: dict[str, list[Step]] = {}
        self.variables: dict[str, dict[str, str]] = {}
        self.executed: set[str] = set()
        self.aws = AwsCli(clients)
        # the audiences command's clients: the same moto state and scripted services; its
        # upload of a seed file reaches the workflow as the seed rule would deliver it
        cli_clients = CliClients(clients, REGION)
        cli_clients.s3.meta.events.register(
            "after-call.s3.PutObject", lambda **_: self._deliver_seed_events()
        )
        self.shell = Shell(self.aws, cwd, after=self._after, audiences=Audiences(cli_clients))
        self.machines = [
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
            for name in deployment.definitions
        ]
        [self.workflow] = [m for m in self.machines if "-Workflow-" in m]
        [self.tracker] = [m for m in self.machines if m.endswith("-job-status")]
        self.seed_queue = self._seed_rule_queue()

    # -- the world between commands ----------------------------------------------------------------

    def _seed_rule_queue(self) -> str:
        """The workflow's seed rule with its synthesized pattern, delivering to a queue."""
        [rule] = [
            r["Properties"]
            for r in self.deployment.template["Resources"].values()
            if r["Type"] == "AWS::Events::Rule"
            and r["Properties"]["EventPattern"].get("source") == ["aws.s3"]
        ]
        return self._rule_to_queue(
            "seed-files", json.dumps(resolve(rule["EventPattern"], self.deployment.ids))
        )

    def _rule_to_queue(self, name: str, pattern: str | None) -> str:
        queue = str(self.sqs.create_queue(QueueName=f"runbook-{name}")["QueueUrl"])
        arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        if pattern is not None:
            self.events.put_rule(Name=name, EventPattern=pattern)
        self.events.put_targets(
            Rule=name, Targets=[{"Id": "queue", "Arn": arn["Attributes"]["QueueArn"]}]
        )
        return queue

    def _drain(self, queue: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    def _deliver_seed_events(self) -> None:
        """EventBridge delivers what S3 sent to the seed rule: the workflow starts with it. A
        seed file without its Bedrock input (``audiences start --seed-file`` names the object
        after the time) gets the team's prompts file first."""
        for event in self._drain(self.seed_queue):
            key = event["detail"]["object"]["key"]
            folder = key.removeprefix("seeds/").removesuffix(".jsonl")
            found = self.s3.list_objects_v2(
                Bucket=event["detail"]["bucket"]["name"], Prefix=f"batch-input/{folder}/"
            )
            if not found.get("KeyCount"):
                self._put_prompts(event["detail"]["bucket"]["name"], folder)
            self.sfn.start_execution(
                stateMachineArn=self.workflow, name=str(uuid.uuid4()), input=json.dumps(event)
            )

    def _after(self, argv: list[str]) -> None:
        """After a command: EventBridge delivers what S3 sent, and runs catch up."""
        if argv[0] == "audiences":
            if "start" in argv:
                _settle(self.sfn, self.machines)
            return
        command = argv[1:3]
        if command == ["s3", "cp"]:
            self._deliver_seed_events()
        starts = (
            ["s3", "cp"],
            ["stepfunctions", "start-execution"],
            ["stepfunctions", "stop-execution"],
            ["cleanroomsml", "start-audience-export-job"],
        )
        if command == ["stepfunctions", "stop-execution"]:
            # AWS reports a stopped execution ABORTED at once; moto once its worker notices
            stopped = argv[argv.index("--execution-arn") + 1]
            deadline = time.monotonic() + 30
            while self.sfn.describe_execution(executionArn=stopped)["status"] == "RUNNING":
                assert time.monotonic() < deadline, f"{stopped} was not stopped"
                time.sleep(0.05)
        if command in starts:
            _settle(self.sfn, self.machines)

    def _start(self, name: str, given: dict[str, Any]) -> str:
        arn: str = self.sfn.start_execution(
            stateMachineArn=self.workflow, name=name, input=json.dumps(given)
        )["executionArn"]
        return arn

    # -- the runbook, block by block -------------------------------------------------------------

    def block(
        self, slug: str, label: str | None = None, *, may_fail: bool = False, **env: str
    ) -> None:
        """Run the runbook's block ``slug`` (after setting ``env``), recorded as ``slug`` or
        ``slug@label``; ``may_fail``: a command exiting non-zero ends the block (its exit code
        recorded for the test to check) instead of failing it."""
        self.shell.env.update(env)
        key = slug if label is None else f"{slug}@{label}"
        try:
            self.printed[key] = self.shell.run(self.blocks[slug].text, may_fail=may_fail)
        except ShellError as error:
            raise AssertionError(f"{RUNBOOK.name} block {key!r}: {error}") from error
        self.variables[key] = dict(self.shell.env)
        self.executed.add(slug)

    def session(
        self, runs: dict[str, str], rule_events: list[dict[str, Any]], after_upload: list[str]
    ) -> Session:
        statuses = {
            label: self.sfn.describe_execution(executionArn=arn)["status"]
            for label, arn in runs.items()
        }
        return Session(
            self.printed, self.variables, runs, statuses, self.deployment, self.world,
            rule_events, self.executed, after_upload,
        )  # fmt: skip

    def play(self) -> Session:
        """The whole runbook, in the order an engineer meets it, with the runs the later blocks
        read started on the way."""
        bucket = self.bucket
        self._set_up_clean_rooms(bucket)
        runs: dict[str, str] = {}

        self.block("find-what-the-stack-deployed")
        self.block("be-told-when-a-run-does-not-succeed")
        rule_arn = self.printed["be-told-when-a-run-does-not-succeed"][-1].stdout.strip()
        rule_queue = self._rule_to_queue(rule_arn.rsplit("/", 1)[1], None)

        self.block("start-a-run-with-a-seed-file")
        runs["succeeded"] = self.shell.env["RUN"]
        after_upload = [
            e["name"] for e in self.sfn.list_executions(stateMachineArn=self.workflow)["executions"]
        ]
        self.world.fates["weekly-2026-48"] = Fate(hold=True)
        self.block("start-a-run-by-hand")
        runs["in progress"] = self.shell.env["RUN"]
        self.block("follow-a-run")

        seed = {"dataSource": {"s3Uri": f"s3://{bucket}/seeds/2026-48/small.jsonl"}}
        self.world.fates["week-48-small-seed"] = Fate(
            status="CREATE_FAILED", message=FAILED_MESSAGE
        )
        self.world.fates["week-48-refused"] = Fate(
            refuse=("AccessDeniedException", REFUSED_MESSAGE)
        )
        # a Bedrock input with fewer records than one Bedrock job needs
        few = b"".join(
            json.dumps({"recordId": f"f{i}", "modelInput": {"prompt": "x"}}).encode() + b"\n"
            for i in range(FEW_PROMPTS)
        )
        self.s3.put_object(Bucket=bucket, Key="batch-input/few/prompts.jsonl", Body=few)
        few_prompts = {
            "name": "week-48-few-prompts",
            "seedAudience": {"dataSource": {"s3Uri": f"s3://{bucket}/seeds/2026-48/weekly.jsonl"}},
            "batchInputS3Uri": f"s3://{bucket}/batch-input/few/",
        }
        for label, name, given in (
            ("failed", "week-48-small-seed", {"name": "week-48-small-seed", "seedAudience": seed}),
            (
                "invalid input",
                "week-48-invalid",
                {
                    "seedAudience": {"dataSource": {"s3Uri": "seeds/2026-48/weekly.jsonl"}},
                    "includeSeedInOutput": "yes",
                },
            ),
            ("refused", "week-48-refused", {"name": "week-48-refused", "seedAudience": seed}),
            ("too few records", "week-48-few-prompts", few_prompts),
        ):
            runs[label] = self._start(name, given)
            _settle(self.sfn, self.machines)
        for label in ("succeeded", "failed", "invalid input", "refused", "too few records"):
            self.block("read-the-runs-outcome", label, RUN=runs[label])
        self.block("read-the-tracked-jobs-last-answer", "failed", RUN=runs["failed"])
        self.block("list-a-runs-outputs", RUN=runs["succeeded"])
        self.block("export-an-audience-later-and-track-it")

        # the same steps with the audiences command
        self.block("find-the-pipeline")
        self.block("start-a-run-from-a-skeleton-file")
        runs["tool"] = (
            f"{self.workflow.replace(':stateMachine:', ':execution:')}:" + (self.shell.env["RUN"])
        )
        output = json.loads(self.sfn.describe_execution(executionArn=runs["tool"])["output"])
        runs["tool batch"] = output["plan"]["batch"]["ExecutionArn"]
        self.block("start-a-run-from-a-seed-file")
        seed_run = self.printed["start-a-run-from-a-seed-file"][-1].stdout.split()[-1]
        runs["tool seed file"] = runs["tool"].rsplit(":", 1)[0] + f":{seed_run}"
        self.block("list-the-runs")
        self.block("follow-a-run-to-its-end")
        failed = runs["failed"].rsplit(":", 1)[1]
        self.block("follow-a-run-to-its-end", "failed", may_fail=True, RUN=failed)
        self.block("ask-why-a-run-failed", RUN=failed)
        self.block("find-where-a-runs-results-are", RUN=runs["tool"].rsplit(":", 1)[1])
        self.block("watch-training")

        self._start_model_training()
        self.block("watch-the-audience-model-train")
        self.block("stop-a-run-and-clean-up", RUN=runs["in progress"])
        return self.session(runs, self._drain(rule_queue), after_upload)

    def play_without_exports(self) -> Session:
        self._set_up_clean_rooms(self.bucket)
        self.block("find-what-the-stack-deployed")
        self.block("start-a-run-with-a-seed-file")
        run = self.shell.env["RUN"]
        self.block("list-a-runs-outputs", RUN=run)
        return self.session({"succeeded": run}, [], [])

    @property
    def bucket(self) -> str:
        [bucket] = [
            self.deployment.ids[i]
            for i in self.deployment.of_type("AWS::S3::Bucket")
            if "NotificationConfiguration" in self.deployment.template["Resources"][i]["Properties"]
        ]
        return bucket

    def _set_up_clean_rooms(self, bucket: str) -> None:
        """What the deploy created in Clean Rooms ML (the configured model, the model in
        training) and the Bedrock step's input (a team's prompts file)."""
        ids = self.deployment.ids
        for logical_id in self.deployment.of_type("Custom::CleanRoomsMLConfiguredAudienceModel"):
            request = resolve(
                self.deployment.template["Resources"][logical_id]["Properties"]["Request"], ids
            )
            self.world.configured[ids[logical_id]] = {
                **request,
                "configuredAudienceModelArn": ids[logical_id],
                "createTime": time_now(),
                "updateTime": time_now(),
                "status": "ACTIVE",
            }
        for logical_id in self.deployment.of_type("Custom::CleanRoomsMLAudienceModel"):
            request = resolve(
                self.deployment.template["Resources"][logical_id]["Properties"]["Request"], ids
            )
            self.world.models[ids[logical_id]] = {
                "name": request["name"],
                "trainingDatasetArn": request["trainingDatasetArn"],
                "audienceModelArn": ids[logical_id],
                "createTime": time_now(),
                "updateTime": time_now(),
                "status": "CREATE_IN_PROGRESS",
            }
        # each seed file's Bedrock input: the folder named like it
        for folder in ("2026-48/weekly", "2026-49/weekly"):
            self._put_prompts(bucket, folder)

    def _put_prompts(self, bucket: str, folder: str) -> None:
        """A team's prompts file in ``batch-input/<folder>/``: ``PROMPTS`` records, as many as
        one Bedrock job needs at least (``BatchLimits().min_records_per_job``)."""
        body = "".join(
            json.dumps({"recordId": f"r{index:04d}", "modelInput": {"prompt": f"user {index}"}})
            + "\n"
            for index in range(PROMPTS)
        )
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=bucket, Key=f"batch-input/{folder}/prompts.jsonl", Body=body.encode()
        )

    def _start_model_training(self) -> None:
        """The handler's start of the model's tracking, as after ``CreateAudienceModel``."""
        import tracking

        [model_arn] = self.world.models
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(tracking.STATE_MACHINE_ENV, self.tracker)
            tracking.start_tracking(self.sfn, tracking.KIND_AUDIENCE_MODEL, model_arn, "req-1")
        _settle(self.sfn, self.machines)

    def stop_everything(self) -> None:
        for machine in self.machines:
            for execution in self.sfn.list_executions(
                stateMachineArn=machine, statusFilter="RUNNING"
            )["executions"]:
                self.sfn.stop_execution(executionArn=execution["executionArn"], cause="test over")
        _settle(self.sfn, self.machines)


def time_now() -> Any:
    import datetime

    return datetime.datetime.now(datetime.UTC)


def _lines(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines()]


# ---- the blocks ------------------------------------------------------------------------------


def test_every_runnable_block_is_executed(session: Session) -> None:
    # GIVEN the whole runbook played (the session fixture)
    # THEN no runnable block of the runbook is left out of the session
    assert session.executed == set(runnable_blocks(RUNBOOK.read_text()))


def test_stack_block_finds_the_workflow_the_tracker_and_the_bucket(session: Session) -> None:
    # GIVEN the stack's description (WHEN its block ran first)
    printed = "find-what-the-stack-deployed"
    workflow, tracker = session.machine_arn("-Workflow-"), session.machine_arn("-job-status")
    # THEN the outputs are listed by key
    outputs = dict(_lines(session.out(printed, 1)))
    app_outputs = {
        "SeedBucketName": session.bucket,
        "SeedAudienceUri": f"s3://{session.bucket}/seeds/",
        "WorkflowArn": workflow,
        "DashboardName": f"{STACK}-audiences",
    }
    assert {k: outputs.get(k) for k in app_outputs} == app_outputs
    # AND the library's own outputs, as the page lists them
    assert outputs["PipelineWorkflowArn"] == workflow
    assert outputs["PipelineJobStatusStateMachineArn"] == tracker
    assert outputs["JobStatusTrackerJobStatusStateMachineArn"] == tracker
    assert outputs["PipelineSeedLocation"] == f"s3://{session.bucket}/seeds/"
    assert outputs["PipelineBatchOutputLocation"] == f"s3://{session.bucket}/batch-output/"
    assert set(outputs) == set(app_outputs) | {
        f"Pipeline{kind}"
        for kind in (
            "WorkflowArn",
            "JobStatusStateMachineArn",
            "SeedLocation",
            "OutputLocation",
            "BatchOutputLocation",
            "DashboardUrl",
            "AudienceModelArn",
            "ConfiguredAudienceModelArn",
        )
    } | {"JobStatusTrackerJobStatusStateMachineArn"}
    # AND the three state machines (the workflow, its batch inference workflow, the tracker)
    # with their logical ids, and the variables are set
    machines = dict(_lines(session.out(printed, 4)))
    batch = session.machine_arn("-BatchInference-")
    assert sorted(machines.values()) == sorted([workflow, batch, tracker])
    [batch_id] = [i for i, arn in machines.items() if arn == batch]
    assert batch_id.startswith("PipelineBatchInference")
    variables = session.variables[printed]
    assert (variables["WORKFLOW_ARN"], variables["TRACKER_ARN"]) == (workflow, tracker)
    assert variables["SEED_BUCKET"] == session.bucket


def test_seed_file_block_starts_one_run_named_after_the_object(session: Session) -> None:
    # GIVEN a seed file uploaded by the block, delivered by the seed rule's pattern
    printed = "start-a-run-with-a-seed-file"
    key = "seeds/2026-48/weekly.jsonl"
    assert session.out(printed, 1) == f"upload: weekly.jsonl to s3://{session.bucket}/{key}\n"
    # THEN the run found is the one the hand-over named after the object
    seed = json.loads(session.out(printed, 3))["seedObject"]
    assert (seed["bucket"], seed["key"]) == (session.bucket, key)
    digest = hashlib.sha256(f"{session.bucket}/{key}/{seed['sequencer']}".encode()).hexdigest()
    assert session.runs["succeeded"].endswith(f":s3-{digest}")
    # AND the workflow lists the hand-over and the run, and the run succeeded
    assert len(session.workflow_executions_after_upload) == 2
    assert f"s3-{digest}" in session.workflow_executions_after_upload
    assert session.statuses["succeeded"] == "SUCCEEDED"


def test_manual_block_starts_the_job_the_input_file_describes(session: Session) -> None:
    # GIVEN the block's run.json started as an execution (its job held in progress)
    assert session.runs["in progress"].endswith(":weekly-2026-48")
    [job] = [j for j in session.world.jobs.values() if j["name"] == "weekly-2026-48"]
    # THEN the job got the file's fields and the workflow's model, role and defaults
    uri = f"s3://{session.bucket}/seeds/2026-48/weekly.jsonl"
    assert job["seedAudience"]["dataSource"] == {"s3Uri": uri}
    assert job["seedAudience"]["roleArn"].endswith("CleanRoomsMlRoleA146C2DD")
    assert job["description"] == "Lookalikes of the week 48 buyers"
    configured = session.logical_id("Custom::CleanRoomsMLConfiguredAudienceModel")
    assert job["configuredAudienceModelArn"] == session.deployment.ids[configured]


def test_follow_block_shows_the_step_and_the_tracking_execution(session: Session) -> None:
    # GIVEN the manual run waiting for its generation job (WHEN the follow block ran)
    printed = "follow-a-run"
    [[name, status, _, stopped]] = _lines(session.out(printed, 0))
    assert (name, status, stopped) == ("weekly-2026-48", "RUNNING", "None")
    # THEN the run waits in TrackGenerationJob for a tracking execution of its job
    assert session.out(printed, 1) == "TrackGenerationJob\n"
    tracking_input = json.loads(session.out(printed, 3))
    [job_arn] = [a for a, j in session.world.jobs.items() if j["name"] == "weekly-2026-48"]
    assert tracking_input == {
        "kind": "AUDIENCE_GENERATION_JOB",
        "arn": job_arn,
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": session.runs["in progress"],
    }
    tracker = session.machine_arn("-job-status").replace(":stateMachine:", ":execution:")
    assert session.variables[printed]["TRACKING"].startswith(f"{tracker}:")
    # AND that execution waits for its next poll, the job being in progress
    assert session.out(printed, 4) == "WaitBeforeNextPoll\n"
    assert session.out(printed, 6) == "weekly-2026-48\tCREATE_IN_PROGRESS\tNone\n"


@pytest.mark.parametrize(
    ("label", "error", "step", "cause"),
    [
        ("succeeded", "None", "done", "and its exports are done"),
        ("failed", "FAILED", "generation", FAILED_MESSAGE),
        ("invalid input", "INVALID_INPUT", "input", "2 problem(s) in the manual input"),
        ("refused", "CALL_FAILED", "generation", REFUSED_MESSAGE),
        (
            "too few records",
            "TOO_FEW_RECORDS",
            "batch",
            f"{FEW_PROMPTS} records in all, fewer than the "
            f"{BatchLimits().min_records_per_job} one job needs",
        ),
    ],
)
def test_outcome_block_says_what_ended_the_run_and_why(
    session: Session, label: str, error: str, step: str, cause: str
) -> None:
    # GIVEN a run of each kind (WHEN the outcome block ran with RUN set to it)
    printed = f"read-the-runs-outcome@{label}"
    [[status, shown_error, *shown_cause]] = _lines(session.out(printed, 0))
    # THEN the execution's status, error (the outcome) and cause are printed
    assert (status, shown_error) == ("SUCCEEDED" if error == "None" else "FAILED", error)
    if error != "None":
        assert cause in "\t".join(shown_cause)
    # AND the end event's detail says where it ended and why
    detail = json.loads(session.out(printed, 1))
    assert detail["outcome"] == ("SUCCEEDED" if error == "None" else error)
    assert (detail["step"], cause in detail["cause"]) == (step, True)
    # AND its batch is the batch inference run's end when it got that far, else empty
    if label == "succeeded":
        assert detail["batch"]["outcome"] == "SUCCEEDED"
        assert detail["batch"]["executionArn"].rsplit(":", 1)[1].startswith("audience-")
        assert detail["batch"]["result"]["records"]["succeeded"] == PROMPTS
    else:
        assert detail["batch"] == {}


def test_outcome_block_names_every_problem_of_an_invalid_input(session: Session) -> None:
    # GIVEN an input with a bad S3 URI and a string for a boolean
    cause = json.loads(session.out("read-the-runs-outcome@invalid input", 1))["cause"]
    # THEN nothing was started, and both fields are named
    assert "nothing was started" in cause
    assert "seedAudience.dataSource.s3Uri 'seeds/2026-48/weekly.jsonl' must be an S3 URI" in cause
    assert "includeSeedInOutput must be true or false, got 'yes'" in cause


def test_tracked_job_block_shows_the_services_last_answer(session: Session) -> None:
    # GIVEN the run whose generation job failed with the service's message
    printed = "read-the-tracked-jobs-last-answer@failed"
    assert session.out(printed, 1) == f"FAILED\tFAILED\t{FAILED_MESSAGE}\n"
    shown = json.loads(session.out(printed, 2))
    # THEN the tracker's end and Clean Rooms ML's answer (PascalCase) are shown
    assert shown["kind"] == "AUDIENCE_GENERATION_JOB"
    assert (shown["outcome"], shown["cause"]) == ("FAILED", FAILED_MESSAGE)
    assert shown["result"]["Status"] == "CREATE_FAILED"
    assert shown["result"]["StatusDetails"]["Message"] == FAILED_MESSAGE


def test_rule_block_matches_the_end_events_of_runs_that_did_not_succeed(session: Session) -> None:
    # GIVEN the runbook's rule with a queue as its target, while the runs ended
    outcomes = sorted(e["detail"]["outcome"] for e in session.rule_events)
    # THEN it received the events of the failed, invalid, refused and too-few-records runs only
    # (the succeeded run's did not match; the stopped run published none)
    assert outcomes == ["CALL_FAILED", "FAILED", "INVALID_INPUT", "TOO_FEW_RECORDS"]
    assert {e["detail-type"] for e in session.rule_events} == {
        "Audience Generation Workflow Finished"
    }


def test_outputs_block_lists_the_exports_and_the_bedrock_output(session: Session) -> None:
    # GIVEN the seed-file run (one export, a Bedrock step) (WHEN the outputs block ran)
    printed = "list-a-runs-outputs"
    variables = session.variables[printed]
    job = variables["JOB_NAME"]
    summary = json.loads(session.out(printed, 1))
    assert summary["job"] == job
    assert job.startswith("lookalike-")
    assert summary["exports"] == [{"name": f"{job}-absolute-10000", "status": "ACTIVE"}]
    assert summary["batch"] == "SUCCEEDED"
    # THEN the configured model's destination is the pipeline's output prefix
    destination = f"s3://{session.bucket}/audiences/"
    assert variables["DESTINATION"] == destination
    [[name, kind, value, status, location]] = _lines(session.out(printed, 6))
    assert (name, kind, value, status) == (f"{job}-absolute-10000", "ABSOLUTE", "10000", "ACTIVE")
    assert location.startswith(destination)
    # AND the listing shows what was written under the destination
    exported = [line.split()[-1] for line in session.out(printed, 7).splitlines()]
    assert exported
    assert all(key.startswith("audiences/") for key in exported)
    # AND the run's batch inference run: an execution of the batch workflow, its outcome, its
    # manifest and Bedrock's counts of the prompts file (one shard, one job)
    batch_run = variables["BATCH_RUN"]
    name = batch_run.rsplit(":", 1)[1]
    assert batch_run == (
        session.machine_arn("-BatchInference-").replace(":stateMachine:", ":execution:")
        + f":{name}"
    )
    assert name.startswith("audience-")
    assert len(name) == len("audience-") + 64
    run_id = hashlib.sha256(name.encode()).hexdigest()[:16]
    folder = f"s3://{session.bucket}/batch-output/{run_id}/"
    records = {"total": PROMPTS, "processed": PROMPTS, "succeeded": PROMPTS, "failed": 0}
    assert json.loads(session.out(printed, 8)) == {
        "executionArn": batch_run,
        "outcome": "SUCCEEDED",
        "manifest": f"{folder}manifest.json",
        "shards": 1,
        "byStatus": {"Completed": 1},
        "records": records,
    }
    assert session.out(printed, 10) == f"{name}\tSUCCEEDED\tNone\n"
    # AND its folder holds the shard's job output (Bedrock's files under the job id) and the
    # run's manifest
    assert variables["BATCH_OUTPUT"] == folder
    [job_arn] = [
        arn
        for arn, j in session.world.batch_jobs.items()
        if j["jobName"].startswith(f"batch-{run_id}-")
    ]
    job_id = job_arn.rsplit("/", 1)[1]
    batch = sorted(line.split()[-1] for line in session.out(printed, 12).splitlines())
    assert batch == [
        f"batch-output/{run_id}/manifest.json",
        f"batch-output/{run_id}/shard-1/{job_id}/manifest.json.out",
        f"batch-output/{run_id}/shard-1/{job_id}/shard-00001.jsonl.out",
    ]
    assert variables["MANIFEST"] == f"{folder}manifest.json"
    manifest = json.loads(session.out(printed, 14))
    assert manifest["outcome"] == "SUCCEEDED"
    assert {k: manifest["totals"][k] for k in records} == records
    assert manifest["shards"] == [
        {
            "index": 1,
            "status": "Completed",
            "attempts": 1,
            "jobArn": job_arn,
            "outputUri": f"{folder}shard-1/",
        }
    ]


def test_a_run_without_export_sizes_exports_nothing(without_exports: Session) -> None:
    # GIVEN the outputs block run on a run of the example app without export sizes
    printed = "list-a-runs-outputs"
    assert without_exports.statuses["succeeded"] == "SUCCEEDED"
    # THEN the run's exports are empty, no export job exists, nothing is under the destination
    assert json.loads(without_exports.out(printed, 1))["exports"] == []
    assert "StartAudienceExportJob" not in without_exports.world.cleanroomsml.calls
    assert without_exports.out(printed, 6) == ""
    assert without_exports.variables[printed]["DESTINATION"].endswith("/audiences/")
    assert without_exports.out(printed, 7) == ""
    # AND the Bedrock step still ran its batch inference run, which wrote its output
    assert json.loads(without_exports.out(printed, 8))["outcome"] == "SUCCEEDED"
    assert "manifest.json.out" in without_exports.out(printed, 12)
    assert json.loads(without_exports.out(printed, 14))["outcome"] == "SUCCEEDED"


def test_export_block_exports_another_size_and_the_tracker_follows_it(session: Session) -> None:
    # GIVEN the finished seed-file run (WHEN the export block ran)
    printed = "export-an-audience-later-and-track-it"
    job_arn = session.variables[printed]["JOB_ARN"]
    name = f"{session.variables[printed]['JOB_NAME']}-absolute-50000"
    [export] = [e for e in session.world.exports if e["name"] == name]
    assert export["audienceGenerationJobArn"] == job_arn
    assert export["audienceSize"] == {"type": "ABSOLUTE", "value": 50000}
    # THEN the tracking execution found the export and succeeded
    assert session.out(printed, 3) == "SUCCEEDED\n"
    shown = json.loads(session.out(printed, 4))
    assert (shown["outcome"], shown["status"]) == ("SUCCEEDED", "ACTIVE")
    assert shown["location"] == export["outputLocation"]


def test_training_block_shows_the_model_its_tracking_and_the_wait_condition(
    session: Session,
) -> None:
    # GIVEN the model in training, tracked as the handler starts it, the deploy waiting
    printed = "watch-the-audience-model-train"
    model = session.logical_id("Custom::CleanRoomsMLAudienceModel")
    assert session.variables[printed]["MODEL_ARN"] == session.deployment.ids[model]
    [model_name] = [m["name"] for m in session.world.models.values()]
    assert session.out(printed, 1) == f"{model_name}\tCREATE_IN_PROGRESS\tNone\n"
    # THEN the handler's tracking execution of the model is listed, running
    [[name, status, _]] = _lines(session.out(printed, 2))
    assert name.startswith("AUDIENCE_MODEL-")
    assert status == "RUNNING"
    # AND the deploy waits on the model's WaitCondition
    wait_condition = session.logical_id("AWS::CloudFormation::WaitCondition")
    assert session.out(printed, 3) == f"{wait_condition}\tCREATE_IN_PROGRESS\n"


def test_stop_block_aborts_the_run_without_an_end_event(session: Session) -> None:
    # GIVEN the manual run still in progress (WHEN the stop block ran)
    printed = "stop-a-run-and-clean-up"
    assert session.out(printed, 1) == "ABORTED\tstopped by the on-call engineer\n"
    # THEN the tracking execution found is the one the run waited for
    assert session.variables[printed]["TRACKING"] == session.variables["follow-a-run"]["TRACKING"]
    assert session.out(printed, 3).strip() in ("RUNNING", "ABORTED")
    assert session.statuses["in progress"] == "ABORTED"


def test_runbook_calls_are_the_documented_operations(session: Session) -> None:
    # GIVEN the whole runbook played
    # THEN every scripted service saw only operations it implements (an unknown one fails the
    # session), and the Clean Rooms ML commands reached it
    assert {
        "ListAudienceExportJobs",
        "GetConfiguredAudienceModel",
        "StartAudienceExportJob",
        "GetAudienceModel",
        "GetAudienceGenerationJob",
    } <= set(session.world.cleanroomsml.calls)
    # AND the batch inference runs created their shards' jobs and their tracking read them; one
    # job per run (one shard each), one per client request token
    assert {"CreateModelInvocationJob", "GetModelInvocationJob"} <= set(session.world.bedrock.calls)
    tokens = [job["clientRequestToken"] for job in session.world.batch_jobs.values()]
    assert len(tokens) == len(set(tokens)) >= 3


# ---- the blocks with the audiences command ---------------------------------------------------


def _ok(session: Session, key: str) -> list[Step]:
    """The steps of block ``key``, each having exited 0."""
    steps = session.printed[key]
    assert [s.exit_code for s in steps] == [0] * len(steps), key
    return steps


def test_tool_pipelines_block_finds_the_pipeline_by_its_outputs(session: Session) -> None:
    # GIVEN the stack's outputs with their descriptions (WHEN the block ran)
    steps = _ok(session, "find-the-pipeline")
    workflow = session.machine_arn("-Workflow-")
    # THEN the listing of every stack shows the example app's one pipeline
    [header, row] = [line.split() for line in steps[1].stdout.splitlines()]
    assert header == ["STACK", "PIPELINE", "WORKFLOW", "SEEDS", "OUTPUT"]
    assert row == [
        STACK,
        "Pipeline",
        workflow.rsplit(":", 1)[1],
        f"s3://{session.bucket}/seeds/",
        f"s3://{session.bucket}/audiences/",
    ]
    # AND the JSON of the stack's pipeline carries the workflow's ARN
    assert json.loads(steps[2].stdout) == {
        "path": "Pipeline",
        "workflow_arn": workflow,
        "seed_location": f"s3://{session.bucket}/seeds/",
        "output_location": f"s3://{session.bucket}/audiences/",
    }


def test_tool_skeleton_block_starts_the_run_and_prints_its_name(session: Session) -> None:
    # GIVEN the skeleton file the block wrote (WHEN it was started)
    key = "start-a-run-from-a-skeleton-file"
    steps = _ok(session, key)
    # THEN the run's name was printed (captured in RUN) and is the execution's name
    assert session.variables[key]["SEED_LOCATION"] == f"s3://{session.bucket}/seeds/"
    assert session.variables[key]["RUN"] == "weekly-2026-49"
    assert steps[-1].stdout == "started weekly-2026-49\n"
    assert session.runs["tool"].endswith(":weekly-2026-49")
    assert session.statuses["tool"] == "SUCCEEDED"
    # AND the job got the file's fields and the workflow's model
    [job] = [j for j in session.world.jobs.values() if j["name"] == "weekly-2026-49"]
    uri = f"s3://{session.bucket}/seeds/2026-49/weekly.jsonl"
    assert job["seedAudience"]["dataSource"] == {"s3Uri": uri}
    assert job["description"] == "Lookalikes of the week 49 buyers"
    configured = session.logical_id("Custom::CleanRoomsMLConfiguredAudienceModel")
    assert job["configuredAudienceModelArn"] == session.deployment.ids[configured]


def test_tool_seed_file_block_uploads_and_prints_the_run_s3_started(session: Session) -> None:
    # GIVEN the local seed file (WHEN the block uploaded it and waited)
    [_, start] = _ok(session, "start-a-run-from-a-seed-file")
    uploaded, name = start.stdout.splitlines()
    # THEN the object is under the seed prefix, named after the file
    assert uploaded.startswith(f"uploaded s3://{session.bucket}/seeds/week-49-")
    assert uploaded.endswith(".jsonl")
    uri = uploaded.split()[1]
    # AND the run printed is the one S3's notification started, named by the workflow
    assert name.startswith("s3-")
    assert len(name) == len("s3-") + 64
    assert session.runs["tool seed file"].endswith(f":{name}")
    assert session.statuses["tool seed file"] == "SUCCEEDED"
    # AND its generation job's seed is the uploaded object
    [job] = [
        j for j in session.world.jobs.values() if j["seedAudience"]["dataSource"]["s3Uri"] == uri
    ]
    assert job["name"].startswith("lookalike-")


def test_tool_runs_block_lists_the_runs_with_trigger_and_outcome(session: Session) -> None:
    # GIVEN the runs of the session (WHEN the block listed them)
    [listing] = _ok(session, "list-the-runs")
    rows = [line.split() for line in listing.stdout.splitlines()]
    # THEN a header, then each run newest first: name, trigger, outcome last
    assert rows[0] == ["NAME", "TRIGGER", "STARTED", "(UTC)", "DURATION", "OUTCOME"]
    outcomes = {row[0]: (row[1], row[-1]) for row in rows[1:]}
    assert outcomes["weekly-2026-49"] == ("manual", "SUCCEEDED")
    assert outcomes["week-48-small-seed"] == ("manual", "FAILED")
    assert outcomes["week-48-invalid"] == ("manual", "INVALID_INPUT")
    assert outcomes["week-48-refused"] == ("manual", "CALL_FAILED")
    assert outcomes["week-48-few-prompts"] == ("manual", "TOO_FEW_RECORDS")
    assert outcomes["weekly-2026-48"] == ("manual", "RUNNING")
    seed_run = session.printed["start-a-run-from-a-seed-file"][1].stdout.split()[-1]
    assert rows[1][0] == seed_run
    assert outcomes[seed_run] == ("S3", "SUCCEEDED")
    assert ("S3", "HANDED_OVER") in outcomes.values()


def test_tool_follow_block_prints_each_step_and_ends_with_the_outcome(session: Session) -> None:
    # GIVEN the run the skeleton block started (WHEN the block followed it, not in a terminal)
    [followed] = _ok(session, "follow-a-run-to-its-end")
    lines = followed.stdout.splitlines()
    # THEN plain lines: the run, each step with its job and status, then the outcome
    assert lines[0].startswith("run weekly-2026-49 (manual) started ")
    steps = [line.strip().split(" | ")[0] for line in lines[1:-1]]
    assert steps == [
        "input check: SUCCEEDED",
        "generation: SUCCEEDED",
        "export weekly-2026-49-absolute-10000: SUCCEEDED",
        "Bedrock: SUCCEEDED",
    ]
    assert "job status ACTIVE" in lines[2]
    assert lines[-1].startswith("outcome: SUCCEEDED after ")
    assert "\x1b" not in followed.stdout  # no escape codes in plain mode


def test_tool_follow_block_exits_1_for_a_failed_run(session: Session) -> None:
    # GIVEN the run whose generation job failed (WHEN the block followed it)
    [followed] = session.printed["follow-a-run-to-its-end@failed"]
    lines = followed.stdout.splitlines()
    # THEN it ends with the outcome, the step and the service's message, and exits 1
    assert followed.exit_code == 1
    assert lines[0].startswith("run week-48-small-seed (manual) started ")
    assert lines[2].strip().startswith("generation: FAILED | job ")
    assert lines[-1].startswith("outcome: FAILED in step generation after ")
    assert lines[-1].endswith(FAILED_MESSAGE)


def test_tool_why_block_names_the_step_the_outcome_and_the_message(session: Session) -> None:
    # GIVEN the run whose generation job failed (WHEN the block asked why)
    [why] = _ok(session, "ask-why-a-run-failed")
    # THEN FAILED, the step, the service's own message and the console link
    assert why.stdout.splitlines() == [
        "run week-48-small-seed: FAILED",
        "step: generation",
        f"message: {FAILED_MESSAGE}",
        f"console: https://{REGION}.console.aws.amazon.com/states/home?region={REGION}"
        f"#/v2/executions/details/{session.runs['failed']}",
    ]


def test_tool_where_block_lists_the_s3_locations_and_the_end_event(session: Session) -> None:
    # GIVEN the run the skeleton block started (one export, a Bedrock step)
    [where] = _ok(session, "find-where-a-runs-results-are")
    lines = where.stdout.splitlines()
    found = {}
    for line in lines[1:-1]:
        what, uri, status = line.rsplit(maxsplit=2)
        found[what.strip()] = (uri, status)
    # THEN the generation job, the destination, the export's and Bedrock's s3:// locations
    [job] = [j for j in session.world.jobs.values() if j["name"] == "weekly-2026-49"]
    [export] = [
        e
        for e in session.world.exports
        if e["audienceGenerationJobArn"] == job["audienceGenerationJobArn"]
    ]
    # (the Bedrock step's: its batch inference run's folder and manifest, with the run's outcome)
    assert session.statuses["tool batch"] == "SUCCEEDED"
    batch_run = session.runs["tool batch"].rsplit(":", 1)[1]
    run_id = hashlib.sha256(batch_run.encode()).hexdigest()[:16]
    batch_folder = f"s3://{session.bucket}/batch-output/{run_id}/"
    assert found == {
        "generated audience (job)": (job["audienceGenerationJobArn"], "ACTIVE"),
        "audience destination": (f"s3://{session.bucket}/audiences/", "-"),
        "export weekly-2026-49-absolute-10000": (export["outputLocation"], "ACTIVE"),
        "Bedrock output": (batch_folder, "SUCCEEDED"),
        "Bedrock manifest": (f"{batch_folder}manifest.json", "SUCCEEDED"),
    }
    assert export["outputLocation"].startswith(f"s3://{session.bucket}/audiences/")
    # AND the end event it published
    assert lines[-1].startswith(
        "end event: cleanrooms-ml-cdk.audience-generation / Audience Generation Workflow "
        "Finished on "
    )
    assert lines[-1].endswith("outcome SUCCEEDED, step done")


def test_tool_training_block_shows_the_model_in_training(session: Session) -> None:
    # GIVEN the model in training (WHEN the block ran)
    [training] = _ok(session, "watch-training")
    [model] = session.world.models.values()
    lines = training.stdout.splitlines()
    # THEN its name, status and time in training, and its ARN
    assert lines[0].startswith(f"audience model {model['name']}: CREATE_IN_PROGRESS, training for ")
    assert lines[1].endswith(f"; model {model['audienceModelArn']}")


# ---- the translator ---------------------------------------------------------------------------


def _offline_cli() -> AwsCli:
    """A translator over real clients that are never called (the tests fail before a call)."""
    botocore_session = botocore.session.get_session()
    return AwsCli(
        lambda service: botocore_session.create_client(
            service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )
    )


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("aws stepfunctions describe-executions --execution-arn x", "invalid choice"),
        ("aws stepfunctonz describe-execution --execution-arn x", "invalid choice"),
    ],
)
def test_fails_if_a_command_names_an_unknown_service_or_operation(
    tmp_path: Path, command: str, message: str
) -> None:
    # GIVEN a misspelt service or operation WHEN it is translated THEN it fails as the CLI does
    with pytest.raises(AwsCliError, match=message):
        _offline_cli()(command.split(), tmp_path)


def test_fails_if_a_command_has_an_unknown_parameter(tmp_path: Path) -> None:
    # GIVEN a misspelt option WHEN it is translated THEN it fails, naming the known options
    with pytest.raises(AwsCliError, match=r"unknown option --execution-arm .*--execution-arn"):
        _offline_cli()(
            ["aws", "stepfunctions", "describe-execution", "--execution-arm", "x"], tmp_path
        )


def test_fails_if_a_paginated_command_uses_the_hidden_page_token(tmp_path: Path) -> None:
    # GIVEN the page token the CLI hides (it pages list-executions itself: --max-items,
    # --starting-token) THEN it is refused
    command = "aws stepfunctions list-executions --state-machine-arn x --next-token t"
    with pytest.raises(AwsCliError, match="unknown option --next-token"):
        _offline_cli()(command.split(), tmp_path)


def test_fails_if_a_structure_is_given_in_shorthand(tmp_path: Path) -> None:
    # GIVEN the CLI's shorthand for a structure (not rendered here) THEN it is refused
    command = (
        "aws cleanroomsml start-audience-export-job --name n --audience-generation-job-arn a "
        "--audience-size type=ABSOLUTE,value=10000"
    )
    with pytest.raises(AwsCliError, match="give JSON"):
        _offline_cli()(command.split(), tmp_path)


def test_fails_if_a_required_parameter_is_missing(tmp_path: Path) -> None:
    # GIVEN no --execution-arn THEN botocore's validation fails the command
    with pytest.raises(AwsCliError, match="executionArn"):
        _offline_cli()(["aws", "stepfunctions", "describe-execution"], tmp_path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("curl https://example.com", "'curl'"),
        ("aws stepfunctions describe-execution --execution-arn $NOT_SET", "NOT_SET: unbound"),
        ("aws s3 ls s3://b | grep x", "'grep'"),
        ('aws s3 ls "$(echo s3://b)"', "command substitution"),
        ("audiences runs", "'audiences'"),
    ],
)
def test_fails_if_a_block_holds_what_the_session_does_not_run(
    tmp_path: Path, line: str, message: str
) -> None:
    # GIVEN a line the session does not run (another program, an unset variable, a pipe to
    # something else than jq, a command substitution in an argument) THEN it is refused
    with pytest.raises(ShellError, match=message):
        Shell(_offline_cli(), tmp_path).run(line)


def test_fails_if_an_audiences_command_exits_non_zero(tmp_path: Path) -> None:
    # GIVEN an audiences command that prints a line, then exits 1 with an error
    def audiences(argv: list[str], cwd: Path) -> tuple[int, str, str]:
        return 1, "partial\n", "audiences: error: no run x\n"

    shell = Shell(_offline_cli(), tmp_path, audiences=audiences)
    block = "audiences why x\necho after"
    # WHEN a block runs it THEN the block fails, as bash -e would, with the error
    with pytest.raises(ShellError, match="exited 1: audiences: error: no run x"):
        shell.run(block)
    # AND a block allowed to fail ends there, the exit code and the output recorded
    steps = shell.run(block, may_fail=True)
    assert [(s.command, s.stdout, s.exit_code) for s in steps] == [
        ("audiences why x", "partial\n", 1)
    ]


def test_text_output_queries_each_page_as_the_cli_does(tmp_path: Path) -> None:
    # GIVEN three executions listed one per page
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="m",
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
        )["stateMachineArn"]
        for index in range(3):
            sfn.start_execution(stateMachineArn=machine, name=f"e{index}")
        cli = AwsCli(lambda service: boto3.client(service, region_name=REGION))
        query = f"aws stepfunctions list-executions --state-machine-arn {machine} --page-size 1"
        # WHEN "[0]" is queried in text and in JSON
        text = cli([*query.split(), "--query", "executions[0].name", "--output", "text"], tmp_path)
        whole = cli([*query.split(), "--query", "executions[0].name"], tmp_path)
        cut = cli([*query.split(), "--max-items", "1", "--query", "executions[0].name",
                   "--output", "text"], tmp_path)  # fmt: skip
    # THEN text applies it to each page (one line per page), JSON to the whole answer
    assert sorted(text.split()) == ["e0", "e1", "e2"]
    assert json.loads(whole) in ("e0", "e1", "e2")
    # AND to the resume token of a listing --max-items cut (the CLI's text formatter does)
    assert cut.split("\n")[1:] == ["None", ""]


def test_text_output_renders_tables_as_the_cli_does() -> None:
    # GIVEN an answer with a list of structures and a nested structure
    answer = {"Items": [{"b": 2, "a": "x", "nested": {"c": None}}], "Count": 1}
    # THEN scalars of a dict in key order, identifiers upper-cased, None as "None"
    assert render(answer, None, "text") == "1\nITEMS\tx\t2\nNESTED\tNone\n"
    assert render(answer, "Items[].[a, b]", "text") == "x\t2\n"
    assert render({}, None, "json") == ""
