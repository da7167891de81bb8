"""What every Clean Rooms ML custom resource shares: typed props, create-or-adopt by name,
tag updates, and deletes that treat "already gone" as done.

Retried creates never make a second object: each object is created with an owner tag naming
the stack, the logical resource and the CloudFormation request. A create first looks the name
up; an object carrying this request's tag is adopted, anything else with that name is an error
that says what to change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError
from cfn_props import parse_request
from errors import HandlerError, describe, error_code
from tracking import start_tracking

#: Tag the handler adds to every object it creates (not counted as a user tag on updates).
OWNER_TAG = "cleanrooms-ml-cdk:owner"
#: Property names shared with constructs_lib/_contract.py.
REQUEST_PROPERTY = "Request"
TAGS_PROPERTY = "Tags"
SIGNAL_URL_PROPERTY = "SignalUrl"

Result = dict[str, Any]


@dataclass(frozen=True)
class Props:
    """One resource's desired state: the API request (parsed to API types) and its tags."""

    request: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    owner: str = ""
    request_id: str = ""
    signal_url: str | None = None

    @property
    def owner_prefix(self) -> str:
        """The owner tag's stack-and-logical-id part (shared by every version of the resource)."""
        return self.owner.split("/", 1)[0]


def owner_tag_value(event: Mapping[str, Any]) -> str:
    """``<hash of stack id + logical id>/<request id>``: names the resource and the request."""
    resource = f"{event.get('StackId', '')}/{event.get('LogicalResourceId', '')}"
    digest = hashlib.sha256(resource.encode()).hexdigest()[:16]
    return f"{digest}/{event.get('RequestId', '')}"


def parse_props(
    client: Any,
    operation: str,
    properties: Mapping[str, Any],
    owner: str = "",
    request_id: str = "",
) -> Props:
    """Props from CloudFormation's (string) resource properties, typed by ``operation``'s model."""
    model = client.meta.service_model.operation_model(operation)
    request = parse_request(model, properties.get(REQUEST_PROPERTY, {}))
    tags = {str(k): str(v) for k, v in (properties.get(TAGS_PROPERTY) or {}).items()}
    signal_url = properties.get(SIGNAL_URL_PROPERTY) or None
    return Props(
        request=request,
        tags=tags,
        owner=owner,
        request_id=request_id,
        signal_url=str(signal_url) if signal_url else None,
    )


@dataclass(frozen=True)
class Kind:
    """How one Clean Rooms ML object type is found, created and deleted."""

    noun: str
    data_key: str
    create_operation: str
    list_operation: str
    list_key: str
    arn_key: str
    delete_operation: str
    arn_marker: str
    list_filter: Callable[[Props], dict[str, Any]] = lambda _: {}
    #: Job-status state machine kind; None for objects that are ready once created.
    tracked_kind: str | None = None
    #: The request field holding the object's name (the list answers call it ``name``).
    name_field: str = "name"
    #: The new object's ARN in the create answer; default: its ``arn_key`` member.
    created_arn: Callable[[Mapping[str, Any]], str] | None = None
    #: The delete request for an ARN; default: ``{arn_key: arn}``.
    delete_request: Callable[[str], dict[str, Any]] | None = None

    def is_arn(self, physical_id: str) -> bool:
        """True for an ARN of this kind (a failed create leaves a non-ARN physical id)."""
        return physical_id.startswith("arn:") and f":{self.arn_marker}/" in physical_id


def call(client: Any, operation: str, **request: Any) -> Any:
    """Call ``operation``; a client error becomes a ``HandlerError`` with what to check."""
    method = getattr(client, xform_name(operation))
    try:
        return method(**request)
    except ClientError as error:
        raise describe(operation, error, name=request.get("name")) from None


def create_or_adopt(client: Any, kind: Kind, props: Props) -> str:
    """Create the object (tagged with the owner tag), or adopt it if this request created it."""
    name = props.request[kind.name_field]
    existing = find_by_name(client, kind, name, props)
    if existing is not None:
        owner = tags_of(client, existing).get(OWNER_TAG, "")
        if owner == props.owner:
            return existing
        if owner.split("/", 1)[0] == props.owner_prefix:
            why = (
                "it is the previous version of this resource; CloudFormation creates the "
                "replacement before deleting it, so a change that replaces the object needs a new "
                "`name`"
            )
        else:
            why = "it was not created by this stack resource; choose another `name` or delete it"
        raise HandlerError(f"A {kind.noun} named {name!r} already exists ({existing}): {why}.")
    response = call(
        client, kind.create_operation, **props.request, tags={**props.tags, OWNER_TAG: props.owner}
    )
    if kind.created_arn is not None:
        return kind.created_arn(response)
    arn: str = response[kind.arn_key]
    return arn


def find_by_name(client: Any, kind: Kind, name: str, props: Props) -> str | None:
    """The ARN of the object of this kind named ``name``, if any."""
    for item in _list_all(client, kind, props):
        if item.get("name") == name:
            arn: str = item[kind.arn_key]
            return arn
    return None


def _list_all(client: Any, kind: Kind, props: Props) -> Iterator[Mapping[str, Any]]:
    request: dict[str, Any] = {"maxResults": 100, **kind.list_filter(props)}
    while True:
        page = call(client, kind.list_operation, **request)
        yield from page.get(kind.list_key, [])
        token = page.get("nextToken")
        if not token:
            return
        request["nextToken"] = token


def tags_of(client: Any, arn: str) -> dict[str, str]:
    tags: dict[str, str] = call(client, "ListTagsForResource", resourceArn=arn).get("tags", {})
    return tags


def update_tags(
    client: Any,
    arn: str,
    old: Mapping[str, str],
    new: Mapping[str, str],
    *,
    arn_parameter: str = "resourceArn",
    tag_shape: Callable[[dict[str, str]], Any] = dict,
) -> None:
    """Bring the user tags of ``arn`` from ``old`` to ``new`` in place (owner tag untouched).

    ``arn_parameter`` and ``tag_shape`` adapt the calls to a service's spelling (Bedrock says
    ``resourceARN`` and takes a list of ``{"key", "value"}``)."""
    removed = sorted(key for key in old if key not in new and key != OWNER_TAG)
    changed = {key: value for key, value in new.items() if old.get(key) != value}
    if removed:
        call(client, "UntagResource", **{arn_parameter: arn}, tagKeys=removed)
    if changed:
        call(client, "TagResource", **{arn_parameter: arn}, tags=tag_shape(changed))


def result(kind: Kind, arn: str, props: Props) -> Result:
    """The provider-framework answer: the ARN as physical id and as attributes."""
    return {
        "PhysicalResourceId": arn,
        "Data": {kind.data_key: arn, "Name": props.request[kind.name_field]},
    }


def create(kind: Kind, props: Props, client: Any, tracker: Any = None) -> Result:
    """on_create of every named Clean Rooms ML object; asynchronous ones are handed to the
    job-status state machine (``tracker`` is its Step Functions client)."""
    arn = create_or_adopt(client, kind, props)
    answer = result(kind, arn, props)
    if kind.tracked_kind and tracker is not None:
        execution = start_tracking(
            tracker, kind.tracked_kind, arn, props.request_id, props.signal_url
        )
        if execution:
            answer["Data"]["TrackingExecutionArn"] = execution
    return answer


def update_immutable(
    kind: Kind, props: Props, old: Props, physical_id: str, client: Any, tracker: Any = None
) -> Result:
    """on_update of an object the API cannot change: retag in place, or create a replacement."""
    if changed_fields(old.request, props.request):
        return create(kind, props, client, tracker)
    update_tags(client, physical_id, old.tags, props.tags)
    answer = result(kind, physical_id, props)
    new_signal = props.signal_url and props.signal_url != old.signal_url
    if kind.tracked_kind and tracker is not None and new_signal:
        # A new WaitCondition handle on a kept object (a replaced readiness gate, or a model now
        # queued behind): track it again so the new condition is signalled (at once if ACTIVE).
        execution = start_tracking(
            tracker, kind.tracked_kind, physical_id, props.request_id, props.signal_url
        )
        if execution:
            answer["Data"]["TrackingExecutionArn"] = execution
    return answer


def delete(client: Any, kind: Kind, physical_id: str) -> Result:
    """Delete the object; one that was never created or is already gone counts as deleted."""
    if not kind.is_arn(physical_id):
        return {"PhysicalResourceId": physical_id}
    method = getattr(client, xform_name(kind.delete_operation))
    request = (
        kind.delete_request(physical_id) if kind.delete_request else {kind.arn_key: physical_id}
    )
    try:
        method(**request)
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise describe(kind.delete_operation, error, arn=physical_id) from None
    return {"PhysicalResourceId": physical_id}


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    """Request fields whose value differs between ``old`` and ``new`` (added or removed too)."""
    return {key for key in set(old) | set(new) if old.get(key) != new.get(key)}
