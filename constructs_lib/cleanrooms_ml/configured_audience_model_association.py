"""A configured audience model associated with an AWS Clean Rooms collaboration (custom resource).

CloudFormation has no type for it (the ``cleanrooms`` API's
``CreateConfiguredAudienceModelAssociation``); this is the library's custom resource on the
stack's one provider.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from constructs import Construct

from .._internal import contract
from .._internal.custom_resource import (
    allow_handler,
    check_tags,
    default_name,
    new_custom_resource,
    validate_fields,
)
from .._internal.props import check_props
from .._internal.provider import CustomResourceProvider
from .._internal.validation import fail
from .configured_audience_model import ConfiguredAudienceModel, IConfiguredAudienceModel

SERVICE = "cleanrooms"
_OPERATION = "CreateConfiguredAudienceModelAssociation"
_ASSOCIATION_IDS = (
    "AWS Clean Rooms assigns association ids at create time; the handler is limited to the "
    "associations of this one membership."
)


class ConfiguredAudienceModelAssociation(Construct):
    """A configured audience model associated with a collaboration, so its members can generate
    lookalike audiences with it.

    A custom resource (child ``Resource``) calling the AWS Clean Rooms API's
    ``CreateConfiguredAudienceModelAssociation`` from this account's membership in the
    collaboration. ``name`` and ``description`` are updated in place; a change of
    ``membership_identifier``, ``configured_audience_model`` or ``manage_resource_policies``
    creates a new association (and CloudFormation deletes the old one). Tags are updated in place.

    With ``manage_resource_policies`` (the default), AWS Clean Rooms writes the configured
    model's resource policy for the collaboration, so the model must not also be given a
    ``policy`` of its own.

    Example::

        association = ConfiguredAudienceModelAssociation(self, "Association",
            membership_identifier="0f8fad5b-d9cb-469f-a165-70867728950e",
            configured_audience_model=configured)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        membership_identifier: str,
        configured_audience_model: IConfiguredAudienceModel | str,
        name: str | None = None,
        manage_resource_policies: bool = True,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        """
        :param membership_identifier:
            this account's membership id in the collaboration (a UUID;
            ``CfnMembership.attr_membership_identifier`` for a membership of the same app).
        :param configured_audience_model:
            the ``ConfiguredAudienceModel`` (or its ARN) to associate.
        :param name:
            1-100 characters. Default: derived from the construct path plus a hash of the
            fields whose change replaces the association.
        :param manage_resource_policies:
            let AWS Clean Rooms write the configured model's resource policy for the
            collaboration (``manageResourcePolicies``). Default: ``True``.
        :param description:
            up to 255 characters. Default: none.
        :param tags:
            at most 49 tags, updated in place. Default: none.
        :param removal_policy:
            Default: ``RemovalPolicy.DESTROY`` (the association only links objects; deleting
            it deletes no data).
        """
        super().__init__(scope, construct_id)
        check_props(self, ConfiguredAudienceModelAssociation.__init__, locals())
        model_arn = (
            configured_audience_model
            if isinstance(configured_audience_model, str)
            else configured_audience_model.configured_audience_model_arn
        )
        if (
            manage_resource_policies
            and isinstance(configured_audience_model, ConfiguredAudienceModel)
            and configured_audience_model.policy is not None
        ):
            raise fail(
                self,
                "manage_resource_policies",
                True,
                f"the configured audience model {configured_audience_model.node.path} has a "
                "policy of its own; AWS Clean Rooms would overwrite it: either pass "
                "manage_resource_policies=False and keep the policy, or drop the model's policy",
            )
        fixed = {
            "membershipIdentifier": membership_identifier,
            "configuredAudienceModelArn": model_arn,
            "manageResourcePolicies": manage_resource_policies,
        }
        name = name or default_name(self, fixed)
        request = {**fixed, "configuredAudienceModelAssociationName": name}
        request["description"] = description
        validate_fields(
            self,
            _OPERATION,
            [
                ("membership_identifier", "membershipIdentifier", membership_identifier),
                ("configured_audience_model", "configuredAudienceModelArn", model_arn),
                ("name", "configuredAudienceModelAssociationName", name),
                ("description", "description", description),
            ],
            service=SERVICE,
        )
        check_tags(self, tags, _OPERATION, service=SERVICE)
        self._allow_handler(membership_identifier)
        self.resource = new_custom_resource(
            self,
            resource_type=contract.CONFIGURED_AUDIENCE_MODEL_ASSOCIATION,
            request=request,
            tags=tags,
            removal_policy=removal_policy,
            depends_on=(configured_audience_model,),
        )
        #: This account's membership id in the collaboration, as given.
        self.membership_identifier = membership_identifier
        #: The association's name (given, or the derived default).
        self.configured_audience_model_association_name = name
        #: Whether AWS Clean Rooms manages the configured model's resource policy.
        self.manage_resource_policies = manage_resource_policies

    @property
    def configured_audience_model_association_arn(self) -> str:
        """The association's ARN (the custom resource's physical id)."""
        return self.resource.get_att_string("ConfiguredAudienceModelAssociationArn")

    @property
    def configured_audience_model_association_id(self) -> str:
        """The association's id (a UUID)."""
        return self.resource.get_att_string("ConfiguredAudienceModelAssociationId")

    @property
    def collaboration_id(self) -> str:
        """The id of the collaboration the membership belongs to: the ``collaborationId`` of
        the audience generation jobs run with this model in it."""
        return self.resource.get_att_string("CollaborationId")

    @property
    def collaboration_arn(self) -> str:
        """The ARN of the collaboration the membership belongs to."""
        return self.resource.get_att_string("CollaborationArn")

    def _allow_handler(self, membership: str) -> None:
        """What the Service Authorization Reference requires for the handler's calls
        (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscleanrooms.html):
        CreateConfiguredAudienceModelAssociation and ListConfiguredAudienceModelAssociations on
        the membership and the association, the other association calls and tagging on the
        association; the create's dependent actions cleanrooms-ml:GetConfiguredAudienceModel,
        Get/PutConfiguredAudienceModelPolicy and the delete's DeleteConfiguredAudienceModelPolicy
        on the configured model (the policy ones always: an association Clean Rooms managed may be
        deleted after a replacement that does not)."""
        provider = CustomResourceProvider.of(self)
        stack = Stack.of(self)
        membership_arn = stack.format_arn(
            service=SERVICE,
            resource="membership",
            resource_name=membership,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        associations = f"{membership_arn}/configuredaudiencemodelassociation/*"
        provider.allow(
            [
                "cleanrooms:CreateConfiguredAudienceModelAssociation",
                "cleanrooms:ListConfiguredAudienceModelAssociations",
            ],
            [membership_arn, associations],
            wildcard_reason=_ASSOCIATION_IDS,
        )
        provider.allow(
            [
                "cleanrooms:GetConfiguredAudienceModelAssociation",
                "cleanrooms:UpdateConfiguredAudienceModelAssociation",
                "cleanrooms:DeleteConfiguredAudienceModelAssociation",
                "cleanrooms:TagResource",
                "cleanrooms:UntagResource",
                "cleanrooms:ListTagsForResource",
            ],
            [associations],
            wildcard_reason=_ASSOCIATION_IDS,
        )
        # Always, whatever manage_policies is now: deleting the association a replacement leaves
        # (one that Clean Rooms managed) needs them, and CloudFormation deletes it after the
        # policy of the new version is in place.
        model_actions = [
            "GetConfiguredAudienceModel",
            "GetConfiguredAudienceModelPolicy",
            "PutConfiguredAudienceModelPolicy",
            "DeleteConfiguredAudienceModelPolicy",
        ]
        # This account's configured models (configured-audience-model/*): the model's own ARN
        # would make the handler's policy wait for the model, which waits for the policy.
        allow_handler(self, model_actions, ["configured-audience-model"], taggable=False)
