"""Custom::CleanRoomsConfiguredAudienceModelAssociation -> the ``cleanrooms`` API's
Create/Update/DeleteConfiguredAudienceModelAssociation.

Associates a configured audience model with an AWS Clean Rooms collaboration, from this account's
membership in it. ``name`` and ``description`` are updated in place
(UpdateConfiguredAudienceModelAssociation takes only those); a change of the membership, the
configured model or ``manageResourcePolicies`` creates a new association (CloudFormation then
deletes the old one). Retried creates adopt the association this request made (owner tag, as for
every object the handler creates); deleting one that is gone, or whose membership is gone,
succeeds.

The association's ARN holds both identifiers the update and delete calls take:
``arn:aws:cleanrooms:<region>:<account>:membership/<membership id>/
configuredaudiencemodelassociation/<association id>`` (the Service Authorization Reference's
``configuredaudiencemodelassociation`` resource type).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import lifecycle
from lifecycle import Kind, Props, Result

RESOURCE_TYPE = "Custom::CleanRoomsConfiguredAudienceModelAssociation"
SERVICE = "cleanrooms"
CREATE_OPERATION = "CreateConfiguredAudienceModelAssociation"
NAME = "configuredAudienceModelAssociationName"
#: Request fields UpdateConfiguredAudienceModelAssociation takes (under the create's names).
UPDATABLE = frozenset({NAME, "description"})

_ARN = re.compile(
    r"arn:[^:]+:cleanrooms:[^:]*:\d{12}:membership/(?P<membership>[^/]+)"
    r"/configuredaudiencemodelassociation/(?P<association>[^/]+)"
)


def identifiers(arn: str) -> dict[str, str]:
    """The membership and association ids an association ARN holds (empty if it is none)."""
    match = _ARN.fullmatch(arn)
    if match is None:
        return {}
    return {
        "membershipIdentifier": match["membership"],
        "configuredAudienceModelAssociationIdentifier": match["association"],
    }


#: Associations this invocation created, by ARN: the create answer holds every attribute, so
#: no read follows a create (a read that failed there would leave the new association unknown to
#: CloudFormation, which deletes only what a create reported).
_CREATED: dict[str, Mapping[str, Any]] = {}


def _created_arn(response: Mapping[str, Any]) -> str:
    association = response["configuredAudienceModelAssociation"]
    arn: str = association["arn"]
    _CREATED[arn] = association
    return arn


KIND = Kind(
    data_key="ConfiguredAudienceModelAssociationArn",
    noun="configured audience model association",
    create_operation=CREATE_OPERATION,
    list_operation="ListConfiguredAudienceModelAssociations",
    list_key="configuredAudienceModelAssociationSummaries",
    arn_key="arn",
    delete_operation="DeleteConfiguredAudienceModelAssociation",
    arn_marker="membership",
    list_filter=lambda props: {"membershipIdentifier": props.request["membershipIdentifier"]},
    name_field=NAME,
    created_arn=_created_arn,
    delete_request=identifiers,
)


def on_create(props: Props, client: Any, tracker: Any = None) -> Result:
    arn = lifecycle.create_or_adopt(client, KIND, props)
    return _result(client, arn)


def on_update(
    props: Props, old: Props, physical_id: str, client: Any, tracker: Any = None
) -> Result:
    changed = lifecycle.changed_fields(old.request, props.request)
    if changed - UPDATABLE or not identifiers(physical_id):
        return on_create(props, client)
    if changed:
        # The API cannot unset a description; an empty one (0-255 characters) clears it.
        update = {
            "name" if key == NAME else key: props.request.get(key, "") for key in sorted(changed)
        }
        lifecycle.call(
            client, "UpdateConfiguredAudienceModelAssociation", **identifiers(physical_id), **update
        )
    lifecycle.update_tags(client, physical_id, old.tags, props.tags)
    return _result(client, physical_id)


def on_delete(physical_id: str, client: Any) -> Result:
    if not identifiers(physical_id):
        # a create that failed before the association existed left no ARN: nothing to delete
        return {"PhysicalResourceId": physical_id}
    return lifecycle.delete(client, KIND, physical_id)


def _result(client: Any, arn: str) -> Result:
    """The ARN as physical id; the association's ids and its collaboration as attributes (from
    the create answer, or read for an adopted or updated association)."""
    association = _CREATED.pop(arn, None)
    if association is None:
        found = lifecycle.call(client, "GetConfiguredAudienceModelAssociation", **identifiers(arn))
        association = found["configuredAudienceModelAssociation"]
    return {
        "PhysicalResourceId": arn,
        "Data": {
            KIND.data_key: arn,
            "ConfiguredAudienceModelAssociationId": association["id"],
            "Name": association["name"],
            "MembershipId": association["membershipId"],
            "CollaborationId": association["collaborationId"],
            "CollaborationArn": association["collaborationArn"],
        },
    }
