"""The two-party example (examples/collaboration/): both apps synthesize offline through the
four cdk-nag packs and cfn-lint, wire the collaboration as its README says, and the README's
settings and commands are the ones the apps read and this module runs."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import handler
import pytest
import workflow_input

from tests.conftest import ROOT, assert_cfn_lint_clean
from tests.docs_support import fences

EXAMPLE = ROOT / "examples" / "collaboration"
README = EXAMPLE / "README.md"
PACKS = {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"}
APPS = {"model owner": "model_owner", "seed provider": "seed_provider"}
OWNER_ACCOUNT = "444455556666"
#: Commands of the README that need an AWS account, and why no test runs them.
NEEDS_AN_ACCOUNT = {
    "npx cdk deploy": "deploys into an AWS account",
    "npx cdk destroy": "deletes a deployed stack",
    "aws cloudformation describe-stacks": "reads a deployed stack's outputs",
    "aws s3 cp": "uploads a seed file to a deployed bucket",
    "aws stepfunctions start-execution": "starts a run of a deployed workflow",
    "python -m constructs_lib.cli": "starts a run of a deployed workflow",
}
#: The README's synth lines, each with the folder it runs in; this module's fixtures
#: synthesize exactly these (cdk.json's context plus each line's `-c key=value`s).
SYNTH = "npx cdk synth --quiet"
OWNER_WITH_MEMBERSHIP = f"{SYNTH} -c membershipId=11111111-2222-4333-8444-555555555555"
SEEDS_WITHOUT_MODEL = f"{SYNTH} -c configuredAudienceModelArn="
SYNTHESIZED = {
    ("model_owner", SYNTH),
    ("model_owner", OWNER_WITH_MEMBERSHIP),
    ("seed_provider", SYNTH),
    ("seed_provider", SEEDS_WITHOUT_MODEL),
}
#: Set-up lines of the synth block: they prepare the shell the `npx cdk synth` lines run in.
SETUP = ("source .venv/bin/activate", 'export PYTHONPATH="$PWD"', "cd ")


def _load(folder: str) -> ModuleType:
    """examples/collaboration/<folder>/app.py under a module name of its own (both are app.py)."""
    spec = importlib.util.spec_from_file_location(
        f"collaboration_{folder}_app", EXAMPLE / folder / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cdk_json_context(folder: str) -> dict[str, Any]:
    context: dict[str, Any] = json.loads((EXAMPLE / folder / "cdk.json").read_text())["context"]
    return context


def _context_of(command: str) -> dict[str, str]:
    """The `-c key=value`s of a `cdk` command line."""
    words = shlex.split(command)
    pairs = [words[i + 1].partition("=") for i, word in enumerate(words) if word == "-c"]
    return {key: value for key, _, value in pairs}


def _synth(folder: str, outdir: Path, **overrides: str) -> Path:
    context = {**_cdk_json_context(folder), **overrides}
    _load(folder).build_app(cdk.App(outdir=str(outdir), context=context)).synth()
    return outdir


def _template(outdir: Path, stack: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((outdir / f"{stack}.template.json").read_text())
    return loaded


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def _resources(statement: dict[str, Any]) -> list[Any]:
    found = statement["Resource"]
    return found if isinstance(found, list) else [found]


def _allows(template: dict[str, Any], action: str) -> list[Any]:
    """Every resource a statement of the template allows ``action`` on."""
    return [
        resource
        for s in _statements(template)
        if action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        for resource in _resources(s)
    ]


@pytest.fixture(scope="module")
def owner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synth("model_owner", tmp_path_factory.mktemp("owner"))


@pytest.fixture(scope="module")
def owner_with_membership(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synth(
        "model_owner",
        tmp_path_factory.mktemp("owner-membership"),
        **_context_of(OWNER_WITH_MEMBERSHIP),
    )


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synth("seed_provider", tmp_path_factory.mktemp("seeds"))


@pytest.fixture(scope="module")
def seeds_without_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synth(
        "seed_provider",
        tmp_path_factory.mktemp("seeds-no-model"),
        **_context_of(SEEDS_WITHOUT_MODEL),
    )


def _assert_packs_pass(outdir: Path) -> None:
    reports = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    assert {r["pluginName"] for r in reports} == PACKS
    for report in reports:
        assert report["conclusion"] == "success", report["pluginName"]
        assert report["violations"] == []


def test_both_apps_pass_the_four_nag_packs_and_cfn_lint(owner: Path, seeds: Path) -> None:
    # GIVEN both apps synthesized with their cdk.json placeholders, no account or credentials
    # WHEN the gates' reports are read THEN every pack ran and concluded success, and cfn-lint
    # reports nothing
    for outdir in (owner, seeds):
        _assert_packs_pass(outdir)
        assert_cfn_lint_clean(outdir)


def test_the_other_variants_pass_the_four_nag_packs(
    owner_with_membership: Path, seeds_without_model: Path
) -> None:
    # GIVEN the model owner with an existing membership and the seed provider without the
    # model's ARN THEN the gates pass there too
    for outdir in (owner_with_membership, seeds_without_model):
        _assert_packs_pass(outdir)


def test_the_model_owner_joins_and_associates_its_configured_model(owner: Path) -> None:
    # GIVEN the model owner synthesized with collaborationId
    template = _template(owner, "LookalikeModelOwner")
    collaboration_id = _cdk_json_context("model_owner")["collaborationId"]
    # THEN it has one membership of that collaboration, which pays for nothing (it cannot query)
    [(membership_id, membership)] = _of_type(template, "AWS::CleanRooms::Membership").items()
    assert membership["Properties"] == {
        "CollaborationIdentifier": collaboration_id,
        "QueryLogStatus": "ENABLED",
        "PaymentConfiguration": {
            "QueryCompute": {"IsResponsible": False},
            "MachineLearning": {
                "ModelTraining": {"IsResponsible": False},
                "ModelInference": {"IsResponsible": False},
            },
        },
    }
    # AND the association is made from that membership, of the configured model it trains
    [association] = _of_type(
        template, "Custom::CleanRoomsConfiguredAudienceModelAssociation"
    ).values()
    request = association["Properties"]["Request"]
    assert request["membershipIdentifier"] == {
        "Fn::GetAtt": [membership_id, "MembershipIdentifier"]
    }
    [configured] = _of_type(template, "Custom::CleanRoomsMLConfiguredAudienceModel")
    assert request["configuredAudienceModelArn"] == {
        "Fn::GetAtt": [configured, "ConfiguredAudienceModelArn"]
    }
    assert request["manageResourcePolicies"] is True
    # AND the ARN the seed provider needs is a stack output of the name the README gives
    assert "ModelOwnerConfiguredAudienceModelArn" in template["Outputs"]
    assert "ModelOwnerConfiguredAudienceModelArn" in README.read_text()


def test_the_model_owner_uses_an_existing_membership_when_given(
    owner_with_membership: Path,
) -> None:
    # GIVEN the model owner synthesized with membershipId (cdk.json's collaborationId still set)
    template = _template(owner_with_membership, "LookalikeModelOwner")
    # THEN it creates no membership, and associates from the given one
    assert _of_type(template, "AWS::CleanRooms::Membership") == {}
    [association] = _of_type(
        template, "Custom::CleanRoomsConfiguredAudienceModelAssociation"
    ).values()
    given = _context_of(OWNER_WITH_MEMBERSHIP)["membershipId"]
    assert association["Properties"]["Request"]["membershipIdentifier"] == given


def test_the_seed_provider_can_query_and_generate_from_the_owners_model(seeds: Path) -> None:
    # GIVEN the seed provider synthesized with collaborationId and the owner's model ARN
    template = _template(seeds, "LookalikeSeedProvider")
    context = _cdk_json_context("seed_provider")
    model_arn = context["configuredAudienceModelArn"]
    assert f":{OWNER_ACCOUNT}:configured-audience-model/" in model_arn
    # THEN its membership pays for query compute and model inference (the member who can query)
    [(membership_id, membership)] = _of_type(template, "AWS::CleanRooms::Membership").items()
    properties = membership["Properties"]
    assert properties["CollaborationIdentifier"] == context["collaborationId"]
    assert properties["PaymentConfiguration"]["QueryCompute"] == {"IsResponsible": True}
    assert properties["PaymentConfiguration"]["MachineLearning"] == {
        "ModelInference": {"IsResponsible": True}
    }
    # AND the seed role runs and reads SQL seeds' protected queries as that membership
    membership_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":cleanrooms:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":membership/",
                {"Fn::GetAtt": [membership_id, "MembershipIdentifier"]},
            ],
        ]
    }
    assert _allows(template, "cleanrooms:GetProtectedQuery") == [membership_arn]
    assert _allows(template, "cleanrooms:UpdateProtectedQuery") == [membership_arn]
    # (StartProtectedQuery on "*", as AWS's example policy has it: ml-roles.html)
    assert "*" in _allows(template, "cleanrooms:StartProtectedQuery")
    # AND the workflow may start jobs on the owner's model and the owner's job ARNs
    started_on = _allows(template, "cleanrooms-ml:StartAudienceGenerationJob")
    assert model_arn in started_on
    owner_jobs = model_arn.split(":configured-audience-model/")[0] + ":audience-generation-job/*"
    assert owner_jobs in started_on
    # AND its input check is deployed with the collaboration (runs may leave collaborationId out)
    [machine] = [
        r
        for r in _of_type(template, "AWS::StepFunctions::StateMachine").values()
        if "PrepareAudienceGeneration" in json.dumps(r["Properties"]["DefinitionString"])
    ]
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert f'\\"collaborationId\\":\\"{context["collaborationId"]}\\"' in definition
    assert {"MembershipId", "SeedBucketName", "LookalikesWorkflowArn"} <= set(template["Outputs"])


def _input_check_settings(template: dict[str, Any]) -> dict[str, Any]:
    """The ``Settings`` the workflow's input check is deployed with, its tokens replaced by
    stand-ins (an ARN for a ``GetAtt ... Arn``, the logical id for a ``Ref``)."""
    [machine] = [
        r
        for r in _of_type(template, "AWS::StepFunctions::StateMachine").values()
        if workflow_input.PREPARE_ACTION in json.dumps(r["Properties"]["DefinitionString"])
    ]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(
        part
        if isinstance(part, str)
        else "aws"
        if part == {"Ref": "AWS::Partition"}
        else f"arn:aws:iam::111122223333:role/{part['Fn::GetAtt'][0]}"
        if "Fn::GetAtt" in part
        else str(part.get("Ref", "token")).lower()
        for part in parts
    )
    found = [
        state["Parameters"]["Payload"]["Settings"]
        for state in _states(json.loads(text))
        if state.get("Parameters", {}).get("Payload", {}).get("Action")
        == workflow_input.PREPARE_ACTION
    ]
    assert len(found) == 1
    settings: dict[str, Any] = found[0]
    return settings


def _states(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state of a definition, those of Parallel branches and Map iterators included."""
    found = []
    for state in definition.get("States", {}).values():
        found.append(state)
        for inner in (
            *state.get("Branches", []),
            state.get("Iterator"),
            state.get("ItemProcessor"),
        ):
            if inner:
                found += _states(inner)
    return found


def _readme_run_input() -> dict[str, Any]:
    [block] = [f for f in fences(README.read_text()) if f.language == "json"]
    given: dict[str, Any] = json.loads(block.code)
    return given


def _check(given: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    plan: dict[str, Any] = handler.on_event(
        {
            "Action": workflow_input.PREPARE_ACTION,
            "Input": given,
            "ExecutionName": "run-1",
            "Settings": settings,
        }
    )
    return plan


def test_the_readmes_sql_seed_input_passes_the_deployed_input_check(seeds: Path) -> None:
    # GIVEN the README's SQL-seed run input (no collaborationId) and the seed provider's
    # deployed input-check settings
    settings = _input_check_settings(_template(seeds, "LookalikeSeedProvider"))
    collaboration_id = _cdk_json_context("seed_provider")["collaborationId"]
    assert settings["collaborationId"] == collaboration_id
    # WHEN the workflow's own check prepares the run (no AWS call)
    plan = _check(_readme_run_input(), settings)
    # THEN the job is a SQL seed in the collaboration, on the owner's model, as the seed role
    request = plan["request"]
    assert request["CollaborationId"] == collaboration_id
    assert request["ConfiguredAudienceModelArn"] == settings["configuredAudienceModelArn"]
    assert request["SeedAudience"]["RoleArn"] == settings["roleArn"]
    assert "QueryString" in request["SeedAudience"]["SqlParameters"]
    assert request["SeedAudience"]["SqlComputeConfiguration"]["Worker"]["Type"] == "CR.1X"


def test_fails_if_the_sql_seed_input_has_compute_but_no_query(seeds: Path) -> None:
    # GIVEN the README's input without its sqlParameters
    settings = _input_check_settings(_template(seeds, "LookalikeSeedProvider"))
    given = _readme_run_input()
    del given["seedAudience"]["sqlParameters"]
    # WHEN checked THEN it is refused with the rule it breaks
    with pytest.raises(workflow_input.WorkflowInputError, match="give sqlParameters too"):
        _check(given, settings)


def test_the_seed_provider_builds_no_workflow_without_the_models_arn(
    seeds_without_model: Path,
) -> None:
    # GIVEN the seed provider synthesized with configuredAudienceModelArn empty
    template = _template(seeds_without_model, "LookalikeSeedProvider")
    # THEN it holds the membership, the bucket and the seed role, and no state machine
    assert _of_type(template, "AWS::StepFunctions::StateMachine") == {}
    assert len(_of_type(template, "AWS::CleanRooms::Membership")) == 1
    assert _allows(template, "cleanrooms:StartProtectedQuery")
    assert not _allows(template, "cleanrooms-ml:StartAudienceGenerationJob")


def test_fails_if_the_model_owner_has_neither_collaboration_nor_membership(tmp_path: Path) -> None:
    # GIVEN the model owner with collaborationId emptied and no membershipId
    # WHEN synthesized THEN it says what to give
    with pytest.raises(ValueError, match="collaborationId=<id> or -c membershipId"):
        _synth("model_owner", tmp_path, collaborationId="")


def test_fails_if_the_seed_provider_has_no_collaboration(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="collaborationId"):
        _synth("seed_provider", tmp_path, collaborationId="")


# ---------------------------------------------------------------------------------------------
# The README against the apps


def _documented_keys(text: str) -> dict[str, set[str]]:
    """{app: its context keys} from the README's settings table (rows `| app | `key` | ... |`)."""
    keys: dict[str, set[str]] = {name: set() for name in APPS}
    for match in re.finditer(r"^\| (model owner|seed provider) \| `(\w+)` \|", text, re.M):
        keys[match.group(1)].add(match.group(2))
    return keys


def test_the_readme_lists_the_context_keys_the_apps_read() -> None:
    # GIVEN the README's settings table WHEN read THEN each app's keys are the ones it reads,
    # and each cdk.json sets only keys the app reads
    documented = _documented_keys(README.read_text())
    for name, folder in APPS.items():
        read = set(_load(folder).CONTEXT_KEYS)
        assert documented[name] == read, name
        assert set(_cdk_json_context(folder)) - {"cli-telemetry"} <= read, folder


def test_fails_if_the_readme_lists_a_key_no_app_reads() -> None:
    # GIVEN a settings table with a misspelt key WHEN read THEN the key set differs
    text = "| model owner | `collaborationID` | ... |\n| seed provider | `collaborationId` | x |\n"
    documented = _documented_keys(text)
    assert documented["model owner"] != set(_load("model_owner").CONTEXT_KEYS)
    assert documented["seed provider"] == {"collaborationId"}


def _commands(text: str) -> list[tuple[str, str]]:
    """(folder, command) of every line of the README's bash blocks; the folder follows the
    block's `cd` lines (``""`` before any)."""
    found = []
    for fence in fences(text):
        if fence.language != "bash":
            continue
        folder = ""
        for line in fence.code.splitlines():
            command = line.strip()
            if command.startswith("cd "):
                folder = Path(command[3:]).name
            if command:
                found.append((folder, command))
    return found


def _unaccounted(commands: list[tuple[str, str]]) -> list[str]:
    """Commands that are neither set-up, nor a synth this module's fixtures run in that folder,
    nor listed as needing an AWS account."""
    return [
        command
        for folder, command in commands
        if not command.startswith((*SETUP, *NEEDS_AN_ACCOUNT))
        and (folder, command) not in SYNTHESIZED
    ]


def test_every_readme_command_is_synthesized_here_or_needs_an_account() -> None:
    # GIVEN every command in the README's bash blocks WHEN each is looked up THEN it is set-up,
    # a synth line this module's fixtures run (same folder, same context), or one that needs
    # an AWS account
    commands = _commands(README.read_text())
    assert len(commands) >= 10
    assert not _unaccounted(commands)
    # AND every synth line the fixtures run is shown
    assert {c for c in commands if c[1].startswith(SYNTH)} == SYNTHESIZED
    # AND every -c key of a deploy line is one the apps read
    keys = set(_load("model_owner").CONTEXT_KEYS) | set(_load("seed_provider").CONTEXT_KEYS)
    deploys = [c for _, c in commands if c.startswith("npx cdk deploy")]
    assert deploys
    for command in deploys:
        assert set(_context_of(command)) <= keys, command


def test_fails_if_a_readme_command_is_unaccounted_for() -> None:
    # GIVEN a synth line with other context, a synth in the wrong folder and an unknown command
    # WHEN looked up THEN those three are reported, and the deploy line is not
    commands = [
        ("model_owner", f"{SYNTH} -c collaborationId=x"),
        ("seed_provider", OWNER_WITH_MEMBERSHIP),
        ("", "make deploy"),
        ("model_owner", "npx cdk deploy -c collaborationId=x"),
    ]
    assert _unaccounted(commands) == [
        f"{SYNTH} -c collaborationId=x",
        OWNER_WITH_MEMBERSHIP,
        "make deploy",
    ]
