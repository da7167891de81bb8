"""Key-policy statements the library needs on a KMS key, added where the app owns the key and
reported (never dropped silently) where it does not.

A key's policy belongs to the stack that defines the key. For an ``AudienceEncryptionKey`` or a
``kms.Key`` of this app the statements are added to it; for an imported ``kms.IKey``
(``kms.Key.from_key_arn``...) CDK's ``add_to_resource_policy`` does nothing, so a synth warning
(``cleanrooms-ml-cdk:imported-key-policy``) names the construct and prop and lists, as JSON, the
exact statements to add to that key's policy.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import IConstruct

from .._internal import defaults
from .._internal.permissions import KMS_SERVICE_USE

#: Warning id of an imported key that misses the library's statements.
IMPORTED_KEY_WARNING = "cleanrooms-ml-cdk:imported-key-policy"

#: Sids the library added (or reported, for an imported key) per key construct path, kept on
#: the app (the construct tree's root): jsii proxies of imported keys take no Python attributes.
_SIDS_ATTRIBUTE = "_cleanrooms_ml_cdk_key_sids"

CLEAN_ROOMS_ML_SID = "AllowCleanRoomsML"
BEDROCK_SID = "AllowBedrock"
CLOUDWATCH_ALARMS_SID = "AllowCloudWatchAlarms"


def service_key_statement(
    scope: IConstruct, sid: str, principal: str, arn_service: str
) -> iam.PolicyStatement:
    """Let ``principal`` use the key only for this account (``aws:SourceAccount``) and only for
    that service's resources in this account and Region (``aws:SourceArn``)."""
    stack = Stack.of(scope)
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(principal)],
        actions=KMS_SERVICE_USE,
        resources=["*"],
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service=arn_service, resource="*", arn_format=ArnFormat.NO_RESOURCE_NAME
                )
            },
        },
    )


def audience_key_statements(
    scope: IConstruct, *, clean_rooms_ml: bool = True, bedrock: bool = True
) -> list[iam.PolicyStatement]:
    """The Clean Rooms ML and Bedrock service statements of an audience-data key (one
    definition for ``AudienceEncryptionKey`` and for keys passed to the pipeline)."""
    statements = []
    if clean_rooms_ml:
        statements.append(
            service_key_statement(
                scope,
                CLEAN_ROOMS_ML_SID,
                defaults.CLEAN_ROOMS_ML_PRINCIPAL,
                defaults.CLEAN_ROOMS_ML_ARN_SERVICE,
            )
        )
    if bedrock:
        statements.append(
            service_key_statement(
                scope, BEDROCK_SID, defaults.BEDROCK_PRINCIPAL, defaults.BEDROCK_ARN_SERVICE
            )
        )
    return statements


def cloudwatch_alarms_key_statement(scope: IConstruct) -> iam.PolicyStatement:
    """Let CloudWatch alarms publish into an SNS topic encrypted with the key.

    Amazon SNS Developer Guide, "Enable compatibility between event sources from AWS services and
    encrypted topics"
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services):
    the service principal needs ``kms:Decrypt`` and ``kms:GenerateDataKey*`` on the topic's key.
    """
    return iam.PolicyStatement(
        sid=CLOUDWATCH_ALARMS_SID,
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        resources=["*"],
        conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}},
    )


def require_key_statements(
    scope: IConstruct,
    key: Any,
    statements: Sequence[iam.PolicyStatement],
    prop: str,
    purpose: str,
) -> None:
    """Make sure ``key``'s policy holds ``statements`` (each with a sid).

    ``key`` is an ``AudienceEncryptionKey`` or a ``kms.IKey``. A key this app defines gets each
    statement whose sid it does not hold yet. An imported key gets a synth warning on ``scope``
    naming ``prop`` and listing, as JSON, the statements not reported for that key yet.
    """
    target = _own_key(key)
    owner = target if target is not None else key
    registry = _registry(owner)
    done = registry.get(owner.node.path, set())
    missing = [s for s in statements if s.sid not in done]
    if not missing:
        return
    if target is not None:
        for statement in missing:
            target.add_to_resource_policy(statement)
    else:
        key_arn = render(scope, key.key_arn)
        Annotations.of(scope).add_warning_v2(
            IMPORTED_KEY_WARNING,
            f"{scope.node.path}: {prop} ({key_arn}) is a KMS key this app does not define, so "
            f"its key policy cannot be changed here; {purpose}. Add these statements to that "
            f"key's policy: {statements_json(scope, missing)}",
        )
    registry[owner.node.path] = done | {str(s.sid) for s in missing}


def _registry(key: IConstruct) -> dict[str, set[str]]:
    """The app's record of statements handled per key (a fresh one if the root takes none)."""
    root = key.node.root
    registry: dict[str, set[str]] | None = getattr(root, _SIDS_ATTRIBUTE, None)
    if registry is None:
        registry = {}
        with contextlib.suppress(AttributeError):
            setattr(root, _SIDS_ATTRIBUTE, registry)
    return registry


def _own_key(key: Any) -> kms.Key | None:
    """The ``kms.Key`` construct behind ``key`` when this app defines it, else None."""
    from .encryption_key import AudienceEncryptionKey

    if isinstance(key, AudienceEncryptionKey):
        return key.key
    return key if isinstance(key, kms.Key) else None


def statements_json(scope: IConstruct, statements: Sequence[iam.PolicyStatement]) -> str:
    """``statements`` as one JSON array: values resolved, CloudFormation references shown as
    ``${AWS::AccountId}``-style placeholders (what to replace before pasting)."""
    return json.dumps(
        [_readable(Stack.of(scope).resolve(s.to_statement_json())) for s in statements],
        sort_keys=True,
    )


def render(scope: IConstruct, value: Any) -> str:
    """One value, resolved, as readable text (``arn:${AWS::Partition}:...``)."""
    readable = _readable(Stack.of(scope).resolve(value))
    return readable if isinstance(readable, str) else json.dumps(readable, sort_keys=True)


def _readable(value: Any) -> Any:
    if isinstance(value, list):
        return [_readable(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return f"${{{value['Ref']}}}"
        if set(value) == {"Fn::GetAtt"}:
            resource, attribute = value["Fn::GetAtt"]
            return f"${{{resource}.{attribute}}}"
        if set(value) == {"Fn::Join"}:
            delimiter, items = value["Fn::Join"]
            parts = [_readable(v) for v in items]
            if all(isinstance(p, str) for p in parts):
                return str(delimiter).join(parts)
        return {k: _readable(v) for k, v in value.items()}
    return value
