"""Which Bedrock resources a batch inference job's ``modelId`` names, for IAM.

Pure helpers (no construct of their own) shared by the batch job construct, the Bedrock role
and the audience-generation workflow:

- ``model_resource_arns``: the ARN(s) ``bedrock:CreateModelInvocationJob`` must be allowed on
  for a model, besides the job ARN.
- ``invoke_model_statements``: what the Bedrock *service role* (assumed by
  ``bedrock.amazonaws.com`` for the job) needs to invoke the model.

AWS facts relied on:

- Service Authorization Reference, "Actions, resources, and condition keys for Amazon Bedrock"
  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html):
  ``CreateModelInvocationJob`` lists the ``foundation-model``, ``custom-model`` and
  ``model-invocation-job`` resource types; foundation-model ARNs have no account
  (``arn:${Partition}:bedrock:${Region}::foundation-model/${ResourceId}``), inference-profile
  ARNs do (``arn:${Partition}:bedrock:${Region}:${Account}:inference-profile/${ResourceId}``);
  ``InvokeModel`` takes the ``bedrock:InferenceProfileArn`` condition key (type ARN).
- Amazon Bedrock User Guide, "Required permissions for batch inference"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-permissions.html): the
  example scopes ``bedrock:CreateModelInvocationJob`` to
  ``arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0`` and
  ``arn:aws:bedrock:us-west-2:123456789012:model-invocation-job/*``.
- Amazon Bedrock User Guide, "Create a custom service role for batch inference"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-iam-sr.html): the service role
  needs S3 access (required), key use (optional) and, only "to run batch inference with an
  inference profile", "permissions to invoke the inference profile in an AWS Region, in addition
  to the model in each Region in the inference profile" (``bedrock:InvokeModel`` on the profile
  and on ``foundation-model/<id>`` ARNs; for an application inference profile, the
  ``application-inference-profile/<id>`` ARN and the foundation models). A plain foundation model
  needs no ``bedrock:InvokeModel`` on the service role.
- Amazon Bedrock User Guide, "Prerequisites for inference profiles"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html): "When
  you specify an inference profile in the Resource field ..., you must also specify the
  foundation model in each Region associated with it"; "To restrict user access such that they
  can invoke a foundation model only through an inference profile, add a Condition field and use
  the [bedrock:]InferenceProfileArn condition key ... in a statement that scopes to the
  foundation-model resources."
- Amazon Bedrock User Guide, "Supported Regions and models for inference profiles"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html):
  cross-Region (system-defined) profiles route to destination Regions of their geography, and
  "The destination Regions for Global cross-Region inference profiles include all commercial
  Regions"; the Region set is documented per model and grows over time.
- AWS CDK API reference, "CrossRegionInferenceProfileRegion"
  (https://docs.aws.amazon.com/cdk/api/v2/docs/@aws-cdk_aws-bedrock-alpha.CrossRegionInferenceProfileRegion.html):
  the geographies of system-defined profiles: GLOBAL, US, US_GOV, EU, APAC, JP, AU (profile ids
  ``global.``, ``us.``, ``us-gov.``, ``eu.``, ``apac.``, ``jp.``, ``au.``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from .validation import is_unresolved

#: Geography prefixes of system-defined (cross-Region) inference profile ids, e.g.
#: ``us.anthropic.claude-3-haiku-20240307-v1:0`` (CDK "CrossRegionInferenceProfileRegion",
#: https://docs.aws.amazon.com/cdk/api/v2/docs/@aws-cdk_aws-bedrock-alpha.CrossRegionInferenceProfileRegion.html).
#: A profile of a geography not listed here can always be given by its ARN.
GEOGRAPHY_PREFIXES: tuple[str, ...] = ("global", "us", "us-gov", "eu", "apac", "jp", "au")

#: Resource types whose ARNs carry this account (everything a ``modelId`` may be but a
#: foundation model), per the Service Authorization Reference's Bedrock resource types.
ACCOUNT_MODEL_TYPES: tuple[str, ...] = (
    "inference-profile",
    "application-inference-profile",
    "custom-model",
    "provisioned-model",
    "imported-model",
)

#: The cdk-nag acknowledgment of the model wildcards these helpers produce.
MODEL_WILDCARD_REASON = (
    "Bedrock model ARNs derived from the job's modelId: a cross-Region inference profile routes "
    "to its foundation model in Regions Bedrock chooses (the model id is fixed, the Region is "
    "'*'); an unresolved modelId is limited to this account's and Region's model kinds and to "
    "foundation models invoked through an inference profile."
)

_INVOKE = ["bedrock:InvokeModel"]


@dataclass(frozen=True)
class ModelGrant:
    """One IAM permission on Bedrock models: ``actions`` on ``resources`` under ``conditions``."""

    actions: Sequence[str]
    resources: Sequence[str]
    conditions: Mapping[str, Any] = field(default_factory=dict)

    def to_statement(self) -> iam.PolicyStatement:
        """The grant as an identity-policy statement."""
        return iam.PolicyStatement(
            actions=list(self.actions),
            resources=list(self.resources),
            conditions=dict(self.conditions) or None,
        )


@dataclass(frozen=True)
class _Parsed:
    """A ``modelId`` split into its resource type and name (``kind`` is ``"unresolved"`` for a
    token whose value is only known at deploy time)."""

    kind: str
    name: str
    arn: str | None


def _parse(model_id: str) -> _Parsed:
    if model_id.startswith("arn:"):
        # arn:partition:service:region:account:type/name (token strings hold no ':')
        parts = model_id.split(":", 5)
        resource = parts[5] if len(parts) == 6 else ""
        kind, _, name = resource.partition("/")
        return _Parsed(kind or "arn", name, model_id)
    if is_unresolved(model_id):
        return _Parsed("unresolved", model_id, None)
    if geography_of(model_id) is not None:
        return _Parsed("inference-profile", model_id, None)
    return _Parsed("foundation-model", model_id, None)


def geography_of(profile_id: str) -> str | None:
    """The geography prefix of a system-defined inference profile id (``"us"`` for
    ``us.anthropic...``), or None for anything else."""
    head, dot, rest = profile_id.partition(".")
    return head if dot and rest and head in GEOGRAPHY_PREFIXES else None


def foundation_model_behind(profile_id: str) -> str | None:
    """The foundation model id a system-defined inference profile id routes to:
    ``us.anthropic.claude-3-haiku-20240307-v1:0`` -> ``anthropic.claude-3-haiku-20240307-v1:0``.
    """
    if is_unresolved(profile_id) or geography_of(profile_id) is None:
        return None
    return profile_id.partition(".")[2]


def is_inference_profile(model_id: str) -> bool:
    """Whether ``model_id`` is a system-defined or application inference profile (id or ARN)."""
    return _parse(model_id).kind in ("inference-profile", "application-inference-profile")


def _arn(scope: IConstruct, kind: str, name: str, *, region: str | None = None) -> str:
    stack = Stack.of(scope)
    return stack.format_arn(
        service="bedrock",
        region=region,
        # Foundation-model ARNs carry no account (Service Authorization Reference).
        account="" if kind == "foundation-model" else None,
        resource=kind,
        resource_name=name,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def _any_region_foundation_model(scope: IConstruct, model: str) -> str:
    return _arn(scope, "foundation-model", model, region="*")


def model_resource_arns(scope: IConstruct, model_id: str) -> list[str]:
    """The model ARN(s) ``bedrock:CreateModelInvocationJob`` must be allowed on for
    ``model_id`` (the job ARN ``model-invocation-job/*`` is granted separately).

    - foundation-model id -> ``arn:<partition>:bedrock:<region>::foundation-model/<id>``;
    - system-defined inference profile id (``us.``, ``eu.``, ``apac.``, ``global.``...) -> its
      ARN in this account and Region, plus ``foundation-model/<id behind it>`` in any Region
      (the Service Authorization Reference lists foundation-model, not inference-profile, as the
      action's model resource type, so both are allowed);
    - an ARN of any kind -> the ARN as is (plus the foundation model behind a system-defined
      profile's ARN);
    - an unresolved token -> a documented fallback: every kind of model a ``modelId`` can name in
      this account and Region, and foundation models in any Region (a profile routes to them).
    """
    parsed = _parse(model_id)
    if parsed.kind == "unresolved":
        return [
            _any_region_foundation_model(scope, "*"),
            *(_arn(scope, kind, "*") for kind in ACCOUNT_MODEL_TYPES),
        ]
    if parsed.arn is not None:
        arns = [parsed.arn]
        is_profile = parsed.kind == "inference-profile"
        behind = foundation_model_behind(parsed.name) if is_profile else None
        if behind is not None:
            arns.append(_any_region_foundation_model(scope, behind))
        elif parsed.kind == "application-inference-profile":
            # Its model is not known at synth, yet the model is the action's required resource:
            # foundation models in any Region the profile may route to.
            arns.append(_any_region_foundation_model(scope, "*"))
        return arns
    if parsed.kind == "inference-profile":
        behind = foundation_model_behind(model_id)
        assert behind is not None  # a known geography prefix was found
        return [
            _arn(scope, "inference-profile", model_id),
            _any_region_foundation_model(scope, behind),
        ]
    return [_arn(scope, "foundation-model", model_id)]


def invoke_model_grants(scope: IConstruct, model_id: str) -> list[ModelGrant]:
    """What the Bedrock service role needs to invoke ``model_id`` in a batch job.

    - foundation model, custom / provisioned / imported model: nothing (Bedrock's "Create a
      custom service role for batch inference" lists ``bedrock:InvokeModel`` only for inference
      profiles);
    - system-defined inference profile: ``bedrock:InvokeModel`` on the profile and on
      ``foundation-model/<id behind it>`` in any Region (the documented template lists the model
      "in each Region in the inference profile"; that Region set is per model and grows, so the
      Region is ``*`` while the model id is fixed);
    - application inference profile: ``bedrock:InvokeModel`` on it, and on foundation models in
      any Region only when invoked through it (``bedrock:InferenceProfileArn``): the model behind
      it is not known at synth time;
    - unresolved token: the same as an application profile, for this account's and Region's
      profiles of both kinds.
    """
    parsed = _parse(model_id)
    if parsed.kind == "inference-profile":
        profile = parsed.arn or _arn(scope, "inference-profile", model_id)
        behind = foundation_model_behind(parsed.name)
        if behind is None:
            # A profile ARN of a geography not listed: its model is not known at synth time.
            return _through_profiles(scope, [profile])
        return [ModelGrant(_INVOKE, [profile, _any_region_foundation_model(scope, behind)])]
    if parsed.kind == "application-inference-profile":
        return _through_profiles(scope, [model_id])
    if parsed.kind == "unresolved":
        return _through_profiles(
            scope,
            [
                _arn(scope, "inference-profile", "*"),
                _arn(scope, "application-inference-profile", "*"),
            ],
        )
    return []


def _through_profiles(scope: IConstruct, profiles: list[str]) -> list[ModelGrant]:
    return [
        ModelGrant(_INVOKE, profiles),
        ModelGrant(
            _INVOKE,
            [_any_region_foundation_model(scope, "*")],
            {"ArnLike": {"bedrock:InferenceProfileArn": profiles}},
        ),
    ]


def invoke_model_statements(scope: IConstruct, model_id: str) -> list[iam.PolicyStatement]:
    """``invoke_model_grants`` as identity-policy statements (empty when none are needed)."""
    return [grant.to_statement() for grant in invoke_model_grants(scope, model_id)]
