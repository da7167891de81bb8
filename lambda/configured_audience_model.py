"""Custom::CleanRoomsMLConfiguredAudienceModel -> Create/Update/DeleteConfiguredAudienceModel.

Fields UpdateConfiguredAudienceModel accepts are updated in place; a change to ``name`` or
``childResourceTagOnCreatePolicy``, or removing an optional field (the API cannot unset one),
creates a new configured audience model.
"""

from __future__ import annotations

from typing import Any

import lifecycle
from lifecycle import Kind, Props, Result

RESOURCE_TYPE = "Custom::CleanRoomsMLConfiguredAudienceModel"
SERVICE = "cleanroomsml"
CREATE_OPERATION = "CreateConfiguredAudienceModel"
UPDATABLE = frozenset(
    {
        "outputConfig",
        "audienceModelArn",
        "sharedAudienceMetrics",
        "minMatchingSeedSize",
        "audienceSizeConfig",
        "description",
    }
)

KIND = Kind(
    data_key="ConfiguredAudienceModelArn",
    noun="configured audience model",
    create_operation=CREATE_OPERATION,
    list_operation="ListConfiguredAudienceModels",
    list_key="configuredAudienceModels",
    arn_key="configuredAudienceModelArn",
    delete_operation="DeleteConfiguredAudienceModel",
    arn_marker="configured-audience-model",
)


def on_create(props: Props, client: Any, tracker: Any = None) -> Result:
    return lifecycle.create(KIND, props, client)


def on_update(
    props: Props, old: Props, physical_id: str, client: Any, tracker: Any = None
) -> Result:
    changed = lifecycle.changed_fields(old.request, props.request)
    removed = {key for key in changed if key not in props.request}
    if changed - UPDATABLE or removed:
        return on_create(props, client)
    if changed:
        lifecycle.call(
            client,
            "UpdateConfiguredAudienceModel",
            configuredAudienceModelArn=physical_id,
            **{key: props.request[key] for key in sorted(changed)},
        )
    lifecycle.update_tags(client, physical_id, old.tags, props.tags)
    return lifecycle.result(KIND, physical_id, props)


def on_delete(physical_id: str, client: Any) -> Result:
    return lifecycle.delete(client, KIND, physical_id)
