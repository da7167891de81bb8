"""What every Clean Rooms ML custom-resource construct shares: the request sent to the handler,
its synth-time validation, default names, tag rules and the handler's permissions."""

from __future__ import annotations

import datetime
import enum
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from aws_cdk import ArnFormat, CustomResource, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from . import contract, defaults
from .provider import CustomResourceProvider
from .validation import check_api_value, fail, is_unresolved

SERVICE = "cleanroomsml"
#: CloudFormation fails the resource if the handler has not answered by then (<= 1 h allowed).
SERVICE_TIMEOUT = Duration.minutes(10)
#: Objects carry at most 50 tags; the handler adds its owner tag.
MAX_USER_TAGS = 50 - 1
NAME_HASH_LENGTH = 8
SERVICE_ASSIGNED_IDS = (
    "Clean Rooms ML assigns object ids at create time; the handler is limited to this account's "
    "and region's objects of the types it manages."
)
LIST_HAS_NO_RESOURCE = (
    "Clean Rooms ML List* actions support no resource-level permissions; the handler lists only "
    "to find an object by name before creating it (retried creates)."
)


class HasRoleArn(Protocol):
    @property
    def role_arn(self) -> str: ...


RoleLike = iam.IRole | HasRoleArn | str


def role_arn_of(role: RoleLike) -> str:
    """The ARN of a role given as an ``iam.IRole``, a library role construct, or an ARN."""
    return role if isinstance(role, str) else role.role_arn


def trusted_services(role: RoleLike) -> frozenset[str] | None:
    """The service principals a role defined in this app trusts; None when that cannot be read
    (an imported role, an ARN, or a trust policy with tokens)."""
    inner = getattr(role, "role", role)
    if not isinstance(inner, iam.Role) or inner.assume_role_policy is None:
        return None
    document = Stack.of(inner).resolve(inner.assume_role_policy)
    services: set[str] = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        found = principal.get("Service", []) if isinstance(principal, Mapping) else []
        for service in [found] if isinstance(found, str) else found:
            if not isinstance(service, str):
                return None
            services.add(service)
    return frozenset(services)


def check_role_trusts(scope: IConstruct, prop: str, role: RoleLike, principal: str) -> None:
    """Reject a role defined in this app that the service it is passed to cannot assume (say a
    Bedrock role given where Clean Rooms ML assumes it); imported roles and ARNs are taken as
    they are."""
    if isinstance(role, str) and not is_unresolved(role) and ("*" in role or "?" in role):
        raise fail(
            scope,
            prop,
            role,
            "must name one role, without '*' or '?': it is passed to the service "
            "(iam:PassRole), which takes one role",
        )
    services = trusted_services(role)
    if services is None or principal in services:
        return
    trusted = ", ".join(sorted(services)) or "no service"
    raise fail(
        scope,
        prop,
        _path_of(role),
        f"the role trusts {trusted}, but {principal} must assume it: pass a role whose trust "
        f"policy allows {principal} (for example the library's "
        f"{_ROLE_CONSTRUCTS.get(principal, 'service role construct')})",
    )


def _path_of(role: RoleLike) -> str:
    inner = getattr(role, "role", role)
    return inner.node.path if isinstance(inner, iam.Role) else str(role)


_ROLE_CONSTRUCTS = {
    defaults.CLEAN_ROOMS_ML_PRINCIPAL: "CleanRoomsMlServiceRole",
    defaults.BEDROCK_PRINCIPAL: "BedrockBatchInferenceRole",
}


def to_request_value(value: Any) -> Any:
    """A construct value as the handler expects it: enums by value, timestamps in ISO 8601 UTC,
    ``None`` members dropped."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {k: to_request_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [to_request_value(v) for v in value]
    return value


def validate_fields(
    scope: IConstruct,
    operation: str,
    fields: Sequence[tuple[str, str, Any]],
    *,
    service: str = SERVICE,
) -> None:
    """Check each ``(prop, API member, value)`` against ``operation``'s service model."""
    for prop, member, value in fields:
        check_api_value(
            scope,
            prop,
            to_request_value(value),
            service=service,
            operation=operation,
            member=member,
        )


def check_tags(
    scope: IConstruct,
    tags: Mapping[str, str] | None,
    operation: str,
    *,
    service: str = SERVICE,
    tag_shape: Callable[[dict[str, str]], Any] = dict,
) -> None:
    """The documented tag rules: at most 50 per object (one is the handler's), keys of 1-128
    and values of 0-256 characters, no ``aws:`` prefix; plus the service model's limits."""
    if not tags:
        return
    if not isinstance(tags, Mapping):
        raise fail(scope, "tags", tags, "must be a mapping of tag keys to values")
    if len(tags) > MAX_USER_TAGS:
        raise fail(
            scope,
            "tags",
            f"{len(tags)} tags",
            f"at most {MAX_USER_TAGS} tags (50 per object, one is the handler's owner tag)",
        )
    for key, value in tags.items():
        if not isinstance(key, str):
            raise fail(scope, "tags", key, "tag keys must be strings")
        if not is_unresolved(key) and key.lower().startswith("aws:"):
            raise fail(scope, "tags", key, "tag keys must not start with 'aws:' (reserved)")
        if key == contract.OWNER_TAG:
            raise fail(scope, "tags", key, "this tag key is reserved for the handler")
        if not isinstance(value, str):
            raise fail(scope, f"tags[{key!r}]", value, "tag values must be strings")
    # The literal entries are checked even when others are tokens (known at deploy time).
    # The service model's own limits, on the tags as the API takes them (``tag_shape``).
    check_api_value(
        scope, "tags", tag_shape(dict(tags)), service=service, operation=operation, member="tags"
    )


def identity_digest(scope: IConstruct, identity: Mapping[str, Any]) -> str:
    """A stable hash of ``identity`` (tokens in their resolved CloudFormation form)."""
    value = to_request_value(dict(identity))
    resolved = Stack.of(scope).resolve(value) if is_unresolved(value) else value
    return hashlib.sha256(json.dumps(resolved, sort_keys=True, default=str).encode()).hexdigest()


def default_name(scope: IConstruct, identity: Mapping[str, Any]) -> str:
    """A name unique in the app, ending in a hash of the fields whose change replaces the object,
    so a replacement gets a new name (names are unique per account and region)."""
    base = Names.unique_resource_name(scope, max_length=63 - NAME_HASH_LENGTH - 1, separator="-")
    return f"{base}-{identity_digest(scope, identity)[:NAME_HASH_LENGTH]}"


def cleanrooms_ml_arn(scope: IConstruct, resource: str) -> str:
    """``arn:<partition>:cleanrooms-ml:<region>:<account>:<resource>/*``."""
    return Stack.of(scope).format_arn(
        service=defaults.CLEAN_ROOMS_ML_ARN_SERVICE,
        resource=resource,
        resource_name="*",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def allow_handler(
    scope: IConstruct,
    actions: Sequence[str],
    resource_types: Sequence[str],
    list_action: str | None = None,
    *,
    taggable: bool = True,
) -> CustomResourceProvider:
    """Let the stack's handler run ``actions`` (plus, for ``taggable`` objects, the tagging
    calls) on this account's objects of ``resource_types``, and ``list_action`` on ``*``.
    A stack of N resources asks N times; the grant is built once."""
    provider = CustomResourceProvider.of(scope)
    key = (tuple(actions), tuple(resource_types), list_action, taggable)
    if key in provider.handler_grants:
        return provider
    provider.handler_grants.add(key)
    tagging = ["TagResource", "UntagResource", "ListTagsForResource"] if taggable else []
    provider.allow(
        [f"cleanrooms-ml:{a}" for a in [*actions, *tagging]],
        [cleanrooms_ml_arn(provider, t) for t in resource_types],
        wildcard_reason=SERVICE_ASSIGNED_IDS,
    )
    if list_action:
        provider.allow(
            [f"cleanrooms-ml:{list_action}"], ["*"], wildcard_reason=LIST_HAS_NO_RESOURCE
        )
    return provider


def new_custom_resource(
    scope: Construct,
    *,
    resource_type: str,
    request: Mapping[str, Any],
    tags: Mapping[str, str] | None,
    removal_policy: RemovalPolicy | None,
    depends_on: Sequence[object] = (),
) -> CustomResource:
    """The ``Resource`` child: a custom resource served by the stack's single provider, created
    after every construct in ``depends_on`` (ARNs given as plain strings are skipped)."""
    provider = CustomResourceProvider.of(scope)
    resource = CustomResource(
        scope,
        "Resource",
        service_token=provider.service_token,
        resource_type=resource_type,
        properties={
            contract.REQUEST_PROPERTY: to_request_value(dict(request)),
            contract.TAGS_PROPERTY: dict(tags or {}),
        },
        service_timeout=SERVICE_TIMEOUT,
        removal_policy=removal_policy or RemovalPolicy.DESTROY,
    )
    # The handler's permissions must exist before CloudFormation calls it.
    resource.node.add_dependency(provider.permissions.require_policy())
    for dependency in depends_on:
        if isinstance(dependency, Construct):
            resource.node.add_dependency(dependency)
    return resource
