"""Custom::CleanRoomsMLAudienceModel -> CreateAudienceModel / DeleteAudienceModel.

An audience model cannot be updated: any change but tags creates a new one (a new physical id,
so CloudFormation deletes the old one after). The handler returns as soon as the create call
is accepted; training is tracked elsewhere.
"""

from __future__ import annotations

from typing import Any

import lifecycle
import tracking
from lifecycle import Kind, Props, Result

RESOURCE_TYPE = "Custom::CleanRoomsMLAudienceModel"
SERVICE = "cleanroomsml"
CREATE_OPERATION = "CreateAudienceModel"

KIND = Kind(
    data_key="AudienceModelArn",
    noun="audience model",
    create_operation=CREATE_OPERATION,
    list_operation="ListAudienceModels",
    list_key="audienceModels",
    arn_key="audienceModelArn",
    delete_operation="DeleteAudienceModel",
    tracked_kind=tracking.KIND_AUDIENCE_MODEL,
    arn_marker="audience-model",
)


def on_create(props: Props, client: Any, tracker: Any = None) -> Result:
    return lifecycle.create(KIND, props, client, tracker)


def on_update(
    props: Props, old: Props, physical_id: str, client: Any, tracker: Any = None
) -> Result:
    return lifecycle.update_immutable(KIND, props, old, physical_id, client, tracker)


def on_delete(physical_id: str, client: Any) -> Result:
    return lifecycle.delete(client, KIND, physical_id)
