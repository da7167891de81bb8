"""Clean Rooms ML configured audience model (and its resource policy) as custom resources."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import CustomResource, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._internal import contract, defaults
from .._internal.custom_resource import (
    RoleLike,
    allow_handler,
    check_role_trusts,
    check_tags,
    default_name,
    new_custom_resource,
    role_arn_of,
    validate_fields,
)
from .._internal.props import check_props
from .._internal.validation import fail
from .audience_model import AudienceModel, IAudienceModel

_OPERATION = "CreateConfiguredAudienceModel"


class SharedAudienceMetrics(enum.Enum):
    """Whether audience metrics are shared with the model's users (``sharedAudienceMetrics``)."""

    ALL = "ALL"
    NONE = "NONE"


class AudienceSizeType(enum.Enum):
    """How audience size bins are expressed (``audienceSizeConfig.audienceSizeType``)."""

    ABSOLUTE = "ABSOLUTE"
    PERCENTAGE = "PERCENTAGE"


class TagOnCreatePolicy(enum.Enum):
    """Whether generation jobs inherit this model's tags (``childResourceTagOnCreatePolicy``)."""

    FROM_PARENT_RESOURCE = "FROM_PARENT_RESOURCE"
    NONE = "NONE"


@dataclass(frozen=True)
class AudienceOutputConfig:
    """Where generated audiences are written (``outputConfig``).

    :param destination_s3_uri:
        ``s3://bucket/prefix/`` (``destination.s3Destination.s3Uri``).
    :param role: role Clean Rooms ML assumes to write there (``roleArn``).
    """

    destination_s3_uri: str
    role: RoleLike


@dataclass(frozen=True)
class AudienceSizeConfig:
    """The audience sizes users may request (``audienceSizeConfig``): 1-25 bins."""

    audience_size_type: AudienceSizeType
    audience_size_bins: Sequence[int]


class IConfiguredAudienceModel(Protocol):
    """Anything with a configured audience model ARN."""

    @property
    def configured_audience_model_arn(self) -> str: ...


class ConfiguredAudienceModel(Construct):
    """A configured audience model: an audience model made usable for audience generation.

    A custom resource (child ``Resource``) calling ``CreateConfiguredAudienceModel``. Changes to
    ``output_config``, ``audience_model``, ``shared_audience_metrics``,
    ``min_matching_seed_size``, ``audience_size_config`` and ``description`` are applied in place
    with ``UpdateConfiguredAudienceModel``; a change of ``name`` or
    ``child_resource_tag_on_create_policy``, or removing an optional field, creates a new one.
    With ``policy``, a child ``Policy`` resource puts the resource policy that lets other accounts
    use the model (``PutConfiguredAudienceModelPolicy``).

    Given an ``AudienceModel`` of the same stack, it waits for ``audience_model.ready``: it is
    created only once the model is trained (ACTIVE), and a failed training fails the deploy with
    the service's message.

    Example::

        configured = ConfiguredAudienceModel(self, "Configured", audience_model=model,
            output_config=AudienceOutputConfig(seeds.s3_uri("audiences/"), cleanrooms_ml_role),
            audience_size_config=AudienceSizeConfig(AudienceSizeType.ABSOLUTE, [10_000, 50_000]))
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        audience_model: IAudienceModel | str,
        output_config: AudienceOutputConfig,
        shared_audience_metrics: Sequence[SharedAudienceMetrics] = (SharedAudienceMetrics.NONE,),
        name: str | None = None,
        min_matching_seed_size: int | None = None,
        audience_size_config: AudienceSizeConfig | None = None,
        child_resource_tag_on_create_policy: TagOnCreatePolicy | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        policy: iam.PolicyDocument | None = None,
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        """
        :param audience_model: the ``AudienceModel`` (or its ARN) to configure.
        :param output_config: S3 destination and the role that writes there.
        :param shared_audience_metrics:
            exactly one value. Default: ``[NONE]`` (share no
            metrics: the privacy-preserving choice).
        :param name:
            1-63 characters. Default: derived from the construct path plus a hash of
            the fields whose change replaces the object.
        :param min_matching_seed_size:
            25-500000 seed users that must match. Default: the
            service's default.
        :param audience_size_config:
            sizes users may request. Default: none.
        :param child_resource_tag_on_create_policy:
            Default: the service's default (``NONE``).
        :param description:
            up to 255 characters. Default: none.
        :param tags:
            at most 49 tags, updated in place. Default: none.
        :param policy: resource policy for other accounts (e.g. to allow
            ``cleanrooms-ml:StartAudienceGenerationJob``). Default: none.
        :param removal_policy:
            Default: ``RemovalPolicy.DESTROY``.
        """
        super().__init__(scope, construct_id)
        check_props(self, ConfiguredAudienceModel.__init__, locals())
        model_arn = (
            audience_model if isinstance(audience_model, str) else audience_model.audience_model_arn
        )
        check_role_trusts(
            self, "output_config.role", output_config.role, defaults.CLEAN_ROOMS_ML_PRINCIPAL
        )
        role_arn = role_arn_of(output_config.role)
        fixed = {"childResourceTagOnCreatePolicy": child_resource_tag_on_create_policy}
        name = name or default_name(self, fixed)
        request = {
            "name": name,
            "audienceModelArn": model_arn,
            "outputConfig": {
                "destination": {"s3Destination": {"s3Uri": output_config.destination_s3_uri}},
                "roleArn": role_arn,
            },
            "sharedAudienceMetrics": list(shared_audience_metrics),
            "minMatchingSeedSize": min_matching_seed_size,
            "audienceSizeConfig": None
            if audience_size_config is None
            else {
                "audienceSizeType": audience_size_config.audience_size_type,
                "audienceSizeBins": list(audience_size_config.audience_size_bins),
            },
            **fixed,
            "description": description,
        }
        validate_fields(
            self,
            _OPERATION,
            [
                ("name", "name", name),
                ("audience_model", "audienceModelArn", model_arn),
                ("output_config", "outputConfig", request["outputConfig"]),
                (
                    "shared_audience_metrics",
                    "sharedAudienceMetrics",
                    request["sharedAudienceMetrics"],
                ),
                ("min_matching_seed_size", "minMatchingSeedSize", min_matching_seed_size),
                ("audience_size_config", "audienceSizeConfig", request["audienceSizeConfig"]),
                (
                    "child_resource_tag_on_create_policy",
                    "childResourceTagOnCreatePolicy",
                    child_resource_tag_on_create_policy,
                ),
                ("description", "description", description),
            ],
        )
        check_tags(self, tags, _OPERATION)

        provider = allow_handler(
            self,
            [
                "CreateConfiguredAudienceModel",
                "UpdateConfiguredAudienceModel",
                "GetConfiguredAudienceModel",
                "DeleteConfiguredAudienceModel",
            ],
            ["configured-audience-model", "audience-model"],
            list_action="ListConfiguredAudienceModels",
        )
        provider.allow_pass_role(role_arn, defaults.CLEAN_ROOMS_ML_PRINCIPAL)
        self.resource = new_custom_resource(
            self,
            resource_type=contract.CONFIGURED_AUDIENCE_MODEL,
            request=request,
            tags=tags,
            removal_policy=removal_policy,
            depends_on=(audience_model, output_config.role),
        )
        if isinstance(audience_model, AudienceModel):
            # Created only once the model is trained (ACTIVE); a failed training fails the deploy.
            self.resource.node.add_dependency(audience_model.ready)
        self.configured_audience_model_name = name
        #: The size configuration the model was created with (None: the service's default).
        self.audience_size_config = audience_size_config
        self.policy: CustomResource | None = None
        if policy is not None:
            self.policy = self._put_policy(policy)

    @property
    def configured_audience_model_arn(self) -> str:
        """The configured model's ARN (the custom resource's physical id)."""
        return self.resource.get_att_string("ConfiguredAudienceModelArn")

    def _put_policy(self, document: iam.PolicyDocument) -> CustomResource:
        allow_handler(
            self,
            [
                "PutConfiguredAudienceModelPolicy",
                "GetConfiguredAudienceModelPolicy",
                "DeleteConfiguredAudienceModelPolicy",
            ],
            ["configured-audience-model"],
            taggable=False,
        )
        if not isinstance(document, iam.PolicyDocument):
            raise fail(self, "policy", document, "must be an iam.PolicyDocument")
        # A resource policy names who may use the model: "You must use the Principal element in
        # resource-based policies." ("AWS JSON policy elements: Principal", IAM User Guide,
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html)
        problems = list(document.validate_for_resource_policy())
        if document.is_empty:
            problems.append("the document has no statements")
        if problems:
            raise fail(self, "policy", Stack.of(self).resolve(document), "; ".join(problems))
        policy_json = Stack.of(self).to_json_string(document)
        validate_fields(
            self,
            "PutConfiguredAudienceModelPolicy",
            [("policy", "configuredAudienceModelPolicy", policy_json)],
        )
        scope = Construct(self, "Policy")
        return new_custom_resource(
            scope,
            resource_type=contract.CONFIGURED_AUDIENCE_MODEL_POLICY,
            request={
                "configuredAudienceModelArn": self.configured_audience_model_arn,
                "configuredAudienceModelPolicy": policy_json,
            },
            tags=None,
            removal_policy=RemovalPolicy.DESTROY,
        )
