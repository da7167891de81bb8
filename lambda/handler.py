"""Entry point of the per-stack custom-resource handler, invoked by the CDK provider framework.

The framework owns the CloudFormation protocol (responses, timeouts, retries of its own); this
module routes each event to the resource type's ``on_create`` / ``on_update`` / ``on_delete``,
with props parsed from CloudFormation's strings and a client that knows the current API. An
exception becomes the resource's FAILED reason. The ResponseURL is never logged.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import audience_generation_job
import audience_model
import batch_input
import bedrock_batch_job
import clients
import configured_audience_model
import configured_audience_model_association
import configured_audience_model_policy
import tracking
import workflow_input
from errors import HandlerError
from lifecycle import Result, owner_tag_value, parse_props

LOGGER = logging.getLogger()
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

RESOURCES: dict[str, ModuleType] = {
    module.RESOURCE_TYPE: module
    for module in (
        audience_model,
        configured_audience_model,
        configured_audience_model_policy,
        configured_audience_model_association,
        audience_generation_job,
        bedrock_batch_job,
    )
}

#: Event fields that are safe and useful to log (never ResponseURL or the properties' values).
_LOGGED_FIELDS = (
    "Action",
    "RequestType",
    "ResourceType",
    "LogicalResourceId",
    "PhysicalResourceId",
    "RequestId",
    "StackId",
)


def on_event(event: Mapping[str, Any], context: Any = None) -> Result:
    """Handle one CloudFormation custom-resource event."""
    started = time.monotonic()
    summary = {key: event.get(key) for key in _LOGGED_FIELDS if key in event}
    _log("INFO", "event received", **summary)
    try:
        result = _dispatch(event, context)
    except (
        HandlerError,
        workflow_input.WorkflowInputError,
        batch_input.BatchInputError,
    ) as error:
        _log("ERROR", "event failed", error=str(error), errorType=type(error).__name__, **summary)
        raise
    _log(
        "INFO",
        "event handled",
        physicalResourceId=result.get("PhysicalResourceId"),
        durationMs=round((time.monotonic() - started) * 1000),
        **summary,
    )
    return result


def _dispatch(event: Mapping[str, Any], context: Any = None) -> Result:
    if event.get("Action") == tracking.SIGNAL_ACTION:
        return tracking.signal_wait_condition(event)
    if event.get("Action") == workflow_input.PREPARE_ACTION:
        return workflow_input.prepare(event)
    if event.get("Action") == batch_input.PREPARE_ACTION:
        return batch_input.prepare(event)
    if event.get("Action") == batch_input.SPLIT_ACTION:
        return batch_input.split(event, context)
    if event.get("Action") == batch_input.COLLECT_ACTION:
        return batch_input.collect(event)
    resource_type = str(event.get("ResourceType", ""))
    module = RESOURCES.get(resource_type)
    if module is None:
        raise HandlerError(
            f"unsupported resource type {resource_type!r}; this handler serves {sorted(RESOURCES)}"
        )
    client = clients.client(module.SERVICE)
    request_type = event.get("RequestType")
    if request_type == "Delete":
        result: Result = module.on_delete(str(event.get("PhysicalResourceId", "")), client)
        return result
    owner = owner_tag_value(event)
    request_id = str(event.get("RequestId", ""))
    props = parse_props(
        client, module.CREATE_OPERATION, event.get("ResourceProperties", {}), owner, request_id
    )
    tracker = clients.client("stepfunctions")
    if request_type == "Create":
        result = module.on_create(props, client, tracker)
        return result
    if request_type == "Update":
        old = parse_props(
            client, module.CREATE_OPERATION, event.get("OldResourceProperties", {}), owner
        )
        result = module.on_update(
            props, old, str(event.get("PhysicalResourceId", "")), client, tracker
        )
        return result
    raise HandlerError(f"unsupported request type {request_type!r}")


def _log(level: str, message: str, **fields: Any) -> None:
    """One structured record: with the function's JSON log format, Lambda writes the message,
    level, timestamp, request id and every field here as one JSON object."""
    LOGGER.log(getattr(logging, level), message, extra=fields)
