"""ConfiguredAudienceModelAssociation: the request it sends, its synth-time rules (from the
``cleanrooms`` service model), the handler's grants, and the pipeline's ``collaboration``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import lifecycle
import pytest
from aws_cdk import aws_cleanrooms as cleanrooms
from aws_cdk import aws_iam as iam

from constructs_lib import (
    AudienceGenerationJob,
    AudienceOutputConfig,
    ConfiguredAudienceModel,
    ConfiguredAudienceModelAssociation,
    ConstructValidationError,
    LookalikeAudiencePipeline,
    SeedAudience,
    SqlParameters,
)
from constructs_lib._internal import contract
from tests.conftest import assert_cfn_lint_clean, synth_stack

MEMBERSHIP = "0f8fad5b-d9cb-469f-a165-70867728950e"
CAM_ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:configured-audience-model/c-1"
MODEL_ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:audience-model/m-1"
ROLE_ARN = "arn:aws:iam::111122223333:role/CleanRoomsMl"


def _associations(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in raw["Resources"].items()
        if resource["Type"] == contract.CONFIGURED_AUDIENCE_MODEL_ASSOCIATION
    }


def _handler_statements(raw: dict[str, Any]) -> list[dict[str, Any]]:
    [policy] = [
        r
        for logical_id, r in raw["Resources"].items()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        and logical_id.startswith("CleanRoomsMlCustomResourceProviderPolicy")
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_a_membership_of_the_app_and_a_configured_model_make_one_association(
    tmp_path: Path,
) -> None:
    # GIVEN a membership (the L1) and a configured model of the same stack
    def build(stack: cdk.Stack) -> None:
        membership = cleanrooms.CfnMembership(
            stack,
            "Membership",
            collaboration_identifier="2b3c4d5e-1111-2222-3333-444455556666",
            query_log_status="ENABLED",
        )
        configured = ConfiguredAudienceModel(
            stack,
            "Configured",
            audience_model=MODEL_ARN,
            output_config=AudienceOutputConfig("s3://out/audiences/", ROLE_ARN),
        )
        association = ConfiguredAudienceModelAssociation(
            stack,
            "Association",
            membership_identifier=membership.attr_membership_identifier,
            configured_audience_model=configured,
            description="lookalikes for the partner",
            tags={"team": "ads"},
        )
        assert association.manage_resource_policies is True
        assert association.configured_audience_model_association_name.startswith(
            "TestStack-Association-"
        )

    # WHEN synthesized (the four packs as a gate)
    synthesized = synth_stack(tmp_path, build)
    # THEN the request names the membership and the model by reference, Clean Rooms manages the
    # model's policy, and the tags travel beside it
    [resource] = _associations(synthesized.raw).values()
    request = resource["Properties"]["Request"]
    assert request["membershipIdentifier"] == {
        "Fn::GetAtt": [
            _logical_id(synthesized.raw, "AWS::CleanRooms::Membership"),
            "MembershipIdentifier",
        ]
    }
    assert request["configuredAudienceModelArn"]["Fn::GetAtt"][1] == "ConfiguredAudienceModelArn"
    assert request["manageResourcePolicies"] is True
    assert request["description"] == "lookalikes for the partner"
    assert resource["Properties"]["Tags"] == {"team": "ads"}
    assert resource["DeletionPolicy"] == "Delete"
    # AND the handler may manage the model's policy (the create's and delete's dependent actions)
    actions = {
        action
        for statement in _handler_statements(synthesized.raw)
        for action in statement["Action"]
    }
    assert {
        "cleanrooms:CreateConfiguredAudienceModelAssociation",
        "cleanrooms:ListConfiguredAudienceModelAssociations",
        "cleanrooms:GetConfiguredAudienceModelAssociation",
        "cleanrooms:UpdateConfiguredAudienceModelAssociation",
        "cleanrooms:DeleteConfiguredAudienceModelAssociation",
        "cleanrooms:TagResource",
        "cleanrooms-ml:GetConfiguredAudienceModel",
        "cleanrooms-ml:PutConfiguredAudienceModelPolicy",
        "cleanrooms-ml:DeleteConfiguredAudienceModelPolicy",
    } <= actions
    assert_cfn_lint_clean(tmp_path)


def _logical_id(raw: dict[str, Any], resource_type: str) -> str:
    [found] = [k for k, r in raw["Resources"].items() if r["Type"] == resource_type]
    return found


def test_without_managed_policies_the_handler_may_still_delete_a_managed_one(
    tmp_path: Path,
) -> None:
    # GIVEN an association whose policy the model owner manages (perhaps replacing one that
    # Clean Rooms managed: CloudFormation deletes the old one after the update)
    def build(stack: cdk.Stack) -> None:
        ConfiguredAudienceModelAssociation(
            stack,
            "Association",
            membership_identifier=MEMBERSHIP,
            configured_audience_model=CAM_ARN,
            manage_resource_policies=False,
            name="partner-lookalikes",
        )

    synthesized = synth_stack(tmp_path, build)
    [resource] = _associations(synthesized.raw).values()
    request = resource["Properties"]["Request"]
    assert request["manageResourcePolicies"] is False
    assert request["configuredAudienceModelAssociationName"] == "partner-lookalikes"
    actions = str(_handler_statements(synthesized.raw))
    # THEN the handler keeps the policy actions the old association's delete needs ("Setting this
    # to TRUE requires you to have permissions to create, update, and delete the resource policy
    # [...] when you call the DeleteConfiguredAudienceModelAssociation resource")
    assert "cleanrooms-ml:DeleteConfiguredAudienceModelPolicy" in actions
    # AND the membership's associations only: the membership ARN and the ones inside it
    assert f"membership/{MEMBERSHIP}/configuredaudiencemodelassociation/*" in actions


def test_the_default_name_changes_with_what_replaces_the_association() -> None:
    # GIVEN two associations of the same path that differ in an immutable field
    names = []
    for manage in (True, False):
        stack = cdk.Stack(cdk.App(), "S")
        names.append(
            ConfiguredAudienceModelAssociation(
                stack,
                "A",
                membership_identifier=MEMBERSHIP,
                configured_audience_model=CAM_ARN,
                manage_resource_policies=manage,
            ).configured_audience_model_association_name
        )
    # THEN the replacement gets a new name (so the handler's name lookup never meets the old one)
    assert names[0] != names[1]
    assert names[0].rsplit("-", 1)[0] == names[1].rsplit("-", 1)[0]


@pytest.mark.parametrize(
    ("props", "prop", "says"),
    [
        (
            {"membership_identifier": "0F8FAD5B-D9CB-469F-A165-70867728950E"},
            "membership_identifier",
            "lowercase hexadecimal",
        ),
        ({"membership_identifier": "my-membership"}, "membership_identifier", "membership id"),
        (
            {"configured_audience_model": "lookalike-config"},
            "configured_audience_model",
            "got a name?",
        ),
        ({"name": " "}, "name", "not blank"),
        ({"name": "n" * 101}, "name", "at most 100 characters"),
        ({"description": "d" * 256}, "description", "at most 255 characters"),
        ({"tags": {"aws:team": "x"}}, "tags", "reserved"),
        ({"tags": {f"k{i}": "v" for i in range(50)}}, "tags", "at most 49 tags"),
        ({"manage_resource_policies": "yes"}, "manage_resource_policies", "must be"),
    ],
)
def test_fails_if_a_prop_breaks_the_service_models_rule(
    stack: cdk.Stack, props: dict[str, Any], prop: str, says: str
) -> None:
    given: dict[str, Any] = {
        "membership_identifier": MEMBERSHIP,
        "configured_audience_model": CAM_ARN,
        **props,
    }
    with pytest.raises(ConstructValidationError) as refused:
        ConfiguredAudienceModelAssociation(stack, "Association", **given)
    assert refused.value.path == "Scratch/Association"
    assert refused.value.prop == prop
    assert says in str(refused.value)


def test_fails_if_the_model_has_its_own_policy_and_clean_rooms_would_manage_it(
    stack: cdk.Stack,
) -> None:
    # GIVEN a configured model with a resource policy of its own
    configured = ConfiguredAudienceModel(
        stack,
        "Configured",
        audience_model=MODEL_ARN,
        output_config=AudienceOutputConfig("s3://out/audiences/", ROLE_ARN),
        policy=iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    principals=[iam.AccountPrincipal("444455556666")],
                    actions=["cleanrooms-ml:StartAudienceGenerationJob"],
                    resources=["*"],
                )
            ]
        ),
    )
    # WHEN Clean Rooms is also asked to manage it THEN the rule says to choose one
    with pytest.raises(ConstructValidationError) as refused:
        ConfiguredAudienceModelAssociation(
            stack,
            "Association",
            membership_identifier=MEMBERSHIP,
            configured_audience_model=configured,
        )
    assert refused.value.prop == "manage_resource_policies"
    assert "Scratch/Configured has a policy of its own" in refused.value.rule
    # AND with manage_resource_policies=False it is accepted
    ConfiguredAudienceModelAssociation(
        stack,
        "Kept",
        membership_identifier=MEMBERSHIP,
        configured_audience_model=configured,
        manage_resource_policies=False,
    )


def test_a_pipeline_with_a_collaboration_associates_its_configured_model(tmp_path: Path) -> None:
    # GIVEN a pipeline over an existing configured model, in a collaboration
    def build(stack: cdk.Stack) -> None:
        pipeline = LookalikeAudiencePipeline(
            stack,
            "Lookalikes",
            configured_audience_model=CAM_ARN,
            collaboration=MEMBERSHIP,
            tags={"team": "ads"},
        )
        assert pipeline.association is not None
        assert pipeline.association.node.path == "TestStack/Lookalikes/CollaborationAssociation"

    synthesized = synth_stack(tmp_path, build)
    # THEN one association of that model, from that membership, with the pipeline's tags
    [resource] = _associations(synthesized.raw).values()
    assert resource["Properties"]["Request"]["membershipIdentifier"] == MEMBERSHIP
    assert resource["Properties"]["Request"]["configuredAudienceModelArn"] == CAM_ARN
    assert resource["Properties"]["Tags"] == {"team": "ads"}
    # AND its ARN and collaboration are stack outputs
    outputs = synthesized.raw["Outputs"]
    assert "LookalikesConfiguredAudienceModelAssociationArn" in outputs
    assert outputs["LookalikesCollaborationId"]["Value"]["Fn::GetAtt"][1] == "CollaborationId"


def test_a_pipeline_without_a_collaboration_has_no_association(stack: cdk.Stack) -> None:
    pipeline = LookalikeAudiencePipeline(stack, "Lookalikes", configured_audience_model=CAM_ARN)
    assert pipeline.association is None
    assert pipeline.node.try_find_child("CollaborationAssociation") is None


def test_contract_names_the_handlers_resource_type() -> None:
    import configured_audience_model_association as handler_module

    assert contract.CONFIGURED_AUDIENCE_MODEL_ASSOCIATION == handler_module.RESOURCE_TYPE
    assert lifecycle.OWNER_TAG == contract.OWNER_TAG


def test_a_deploy_time_sql_job_on_another_accounts_model_gets_what_it_needs(
    tmp_path: Path,
) -> None:
    # GIVEN a deploy-time job with a SQL seed, in a collaboration, on the model owner's model
    owner_model = "arn:aws:cleanrooms-ml:us-east-1:444455556666:configured-audience-model/o-1"
    collaboration = "2b3c4d5e-1111-2222-3333-444455556666"

    def build(stack: cdk.Stack) -> None:
        AudienceGenerationJob(
            stack,
            "Job",
            configured_audience_model=owner_model,
            seed_audience=SeedAudience(
                ROLE_ARN, sql_parameters=SqlParameters(query_string="SELECT user_id FROM buyers")
            ),
            collaboration_id=collaboration,
        )

    # WHEN synthesized
    statements = _handler_statements(synth_stack(tmp_path, build).raw)
    # THEN the handler may start it on the owner's model and the owner's account's jobs
    start = [s for s in statements if "cleanrooms-ml:StartAudienceGenerationJob" in s["Action"]]
    resources = str([s["Resource"] for s in start])
    assert owner_model in resources
    assert "arn:aws:cleanrooms-ml:us-east-1:444455556666:audience-generation-job/*" in resources
    # AND Clean Rooms ML may check the collaboration's members for it, only through itself
    [members] = [s for s in statements if s["Action"] == "cleanrooms:ListMembers"]
    assert f":*:collaboration/{collaboration}" in str(members["Resource"])
    assert members["Condition"] == {
        "ForAnyValue:StringEquals": {"aws:CalledVia": ["cleanrooms-ml.amazonaws.com"]}
    }
