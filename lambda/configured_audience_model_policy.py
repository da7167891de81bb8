"""Custom::CleanRoomsMLConfiguredAudienceModelPolicy -> Put/DeleteConfiguredAudienceModelPolicy.

The resource policy that lets other accounts use a configured audience model. Putting a policy
is idempotent, so creates and updates both put; the physical id is ``<model ARN>/policy``.
"""

from __future__ import annotations

from typing import Any

import lifecycle
from botocore.exceptions import ClientError
from errors import describe, error_code
from lifecycle import Props, Result

RESOURCE_TYPE = "Custom::CleanRoomsMLConfiguredAudienceModelPolicy"
SERVICE = "cleanroomsml"
CREATE_OPERATION = "PutConfiguredAudienceModelPolicy"
SUFFIX = "/policy"


def on_create(props: Props, client: Any, tracker: Any = None) -> Result:
    response = lifecycle.call(client, CREATE_OPERATION, **props.request)
    model_arn = props.request["configuredAudienceModelArn"]
    return {
        "PhysicalResourceId": model_arn + SUFFIX,
        "Data": {"PolicyHash": response["policyHash"], "ConfiguredAudienceModelArn": model_arn},
    }


def on_update(
    props: Props, old: Props, physical_id: str, client: Any, tracker: Any = None
) -> Result:
    return on_create(props, client)


def on_delete(physical_id: str, client: Any) -> Result:
    model_arn = physical_id.removesuffix(SUFFIX)
    if not (physical_id.endswith(SUFFIX) and ":configured-audience-model/" in model_arn):
        return {"PhysicalResourceId": physical_id}
    try:
        client.delete_configured_audience_model_policy(configuredAudienceModelArn=model_arn)
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise describe("DeleteConfiguredAudienceModelPolicy", error, arn=model_arn) from None
    return {"PhysicalResourceId": physical_id}
