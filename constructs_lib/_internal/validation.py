"""Synth-time validation shared by every construct.

Errors are ``ValueError`` whose message names the construct path, the property, the value
received and the rule it broke, so a failing ``cdk synth`` points straight at the fix.
Limits for AWS API fields come from botocore's own service models (never hand-copied),
and values that are still unresolved CDK tokens are skipped: they are only known at deploy
time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import botocore.session
from aws_cdk import Duration, Token
from botocore.model import Shape
from constructs import IConstruct

from .rules import has_rule, rule_for


class ConstructValidationError(ValueError):
    """A construct property failed a synth-time rule.

    Attributes mirror the message so that callers and tests can inspect them.
    """

    def __init__(self, path: str, prop: str, value: object, rule: str) -> None:
        self.path = path
        self.prop = prop
        self.value = value
        self.rule = rule
        super().__init__(f"{path}: invalid {prop}={value!r}: {rule}")


def fail(scope: IConstruct, prop: str, value: object, rule: str) -> ConstructValidationError:
    """Build the error for ``prop`` of ``scope``; the caller raises it."""
    return ConstructValidationError(scope.node.path, prop, value, rule)


#: Markers CDK encodes string and list tokens with; a string without one is a plain value, so
#: the (comparatively slow) jsii round trip is only made when one appears.
_TOKEN_MARKERS = ("${Token[", "#{Token[")
#: CDK encodes number tokens as huge negative doubles (around -1.888e+289).
_NUMBER_TOKEN_BOUND = 1e280


def is_unresolved(value: object) -> bool:
    """True when ``value`` (or anything inside it) is a CDK token known only at deploy time."""
    if isinstance(value, str):
        if not any(marker in value for marker in _TOKEN_MARKERS):
            return False
        # a string token, or one element of an encoded list token (CDK tests those as a list)
        return bool(Token.is_unresolved(value) or Token.is_unresolved([value]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return abs(value) > _NUMBER_TOKEN_BOUND and Token.is_unresolved(value)
    if isinstance(value, Mapping):
        return any(is_unresolved(k) or is_unresolved(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(is_unresolved(v) for v in value)
    return False


def check_int_range(
    scope: IConstruct,
    prop: str,
    value: int | None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> None:
    """Reject an integer outside ``[minimum, maximum]`` (either bound optional)."""
    if value is None or is_unresolved(value):
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(scope, prop, value, "must be an integer")
    if minimum is not None and value < minimum:
        raise fail(scope, prop, value, f"must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise fail(scope, prop, value, f"must be <= {maximum}")


def seconds_of(
    scope: IConstruct, prop: str, duration: Duration, *, unit: int = 1, unit_name: str = "seconds"
) -> int:
    """A Duration the library computes with at synth time, in whole seconds: it must be a
    literal (not a token known only at deploy time) and a whole number of ``unit`` seconds."""
    if duration.is_unresolved():
        raise fail(
            scope,
            prop,
            duration.to_human_string(),
            "must be a literal Duration (e.g. Duration.minutes(5)): the library computes with it "
            "at synth time",
        )
    milliseconds = duration.to_milliseconds()
    if milliseconds % (unit * 1000):
        raise fail(
            scope, prop, duration.to_human_string(), f"must be a whole number of {unit_name}"
        )
    return int(milliseconds // 1000)


def check_prefix(scope: IConstruct, prop: str, prefix: str) -> None:
    """An S3 object-key prefix as the library uses it: ``""`` (the whole bucket) or a folder
    such as ``seeds/``: ending in ``/`` (else ``seeds`` would also cover ``seeds-old/``), not
    starting with ``/``, and without ``*`` or ``?`` (IAM and EventBridge add their own
    wildcards; a prefix with one matches nothing or too much)."""
    if is_unresolved(prefix):
        return
    if not isinstance(prefix, str):
        raise fail(scope, prop, prefix, "must be a string such as 'seeds/'")
    if prefix == "":
        return
    if prefix.startswith("/"):
        raise fail(scope, prop, prefix, "object key prefixes must not start with '/'")
    if "*" in prefix or "?" in prefix:
        raise fail(
            scope, prop, prefix, "must be a plain folder such as 'seeds/', without '*' or '?'"
        )
    if not prefix.endswith("/"):
        raise fail(
            scope,
            prop,
            prefix,
            f"must end with '/' (e.g. {prefix + '/'!r}): without it the prefix also covers "
            f"keys such as {prefix + '-old/x'!r}",
        )


def check_disjoint_prefixes(
    scope: IConstruct, locations: Sequence[tuple[str, object, str]]
) -> None:
    """Reject two ``(prop, bucket, prefix)`` locations of one bucket where one prefix holds the
    other (an output written under the seed prefix would start a run)."""
    for index, (prop, bucket, prefix) in enumerate(locations):
        for other_prop, other_bucket, other_prefix in locations[index + 1 :]:
            if bucket is not other_bucket or is_unresolved([prefix, other_prefix]):
                continue
            if prefix.startswith(other_prefix) or other_prefix.startswith(prefix):
                raise fail(
                    scope,
                    prop,
                    prefix,
                    f"overlaps {other_prop}={other_prefix!r} in the same bucket: give each its "
                    "own folder (e.g. 'seeds/', 'audiences/', 'batch-input/', 'batch-output/')",
                )


@functools.cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def api_shape(service: str, operation: str, member_path: str) -> Shape:
    """The botocore shape of ``member_path`` (dot-separated) in ``operation``'s input.

    >>> api_shape("kms", "CreateAlias", "AliasName").metadata["max"]
    256
    """
    shape: Shape = _service_model(service).operation_model(operation).input_shape
    for part in member_path.split("."):
        while shape.type_name == "list":
            shape = shape.member
        shape = shape.members[part]
    return shape


def check_api_value(
    scope: IConstruct,
    prop: str,
    value: object,
    *,
    service: str,
    operation: str,
    member: str,
) -> None:
    """Check ``value`` against the limits the service model declares for an API field.

    Strings: length (``min``/``max``), ``pattern`` (matched whole, as the service does) and
    ``enum``. Numbers: ``min``/``max``. Lists and maps: element count, then each element.
    Structures: each known member. ``None`` and unresolved tokens are skipped.
    """
    _check_shape(scope, prop, value, api_shape(service, operation, member), service)


def _check_shape(scope: IConstruct, prop: str, value: object, shape: Shape, service: str) -> None:
    if value is None:
        return
    if is_unresolved(value) and not _holds_literals(value):
        return
    meta = shape.metadata
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            raise fail(scope, prop, value, "must be a string")
        pattern = meta.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        breaks_pattern = compiled is not None and compiled.fullmatch(value) is None
        if breaks_pattern and has_rule(service, shape.name):
            # the rule in words says more than "at least 20 characters" would
            raise fail(scope, prop, value, rule_for(service, shape.name, pattern, value))
        _check_length(scope, prop, value, len(value), meta, "characters")
        enum = getattr(shape, "enum", None) or []
        if enum and value not in enum:
            raise fail(scope, prop, value, f"must be one of {', '.join(enum)}")
        if breaks_pattern:
            raise fail(scope, prop, value, rule_for(service, shape.name, pattern, value))
    elif kind in ("integer", "long", "double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail(scope, prop, value, "must be a number")
        if "min" in meta and value < meta["min"]:
            raise fail(scope, prop, value, f"must be >= {meta['min']}")
        if "max" in meta and value > meta["max"]:
            raise fail(scope, prop, value, f"must be <= {meta['max']}")
    elif kind == "list":
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise fail(scope, prop, value, "must be a list")
        _check_length(scope, prop, value, len(value), meta, "items")
        for i, item in enumerate(value):
            _check_shape(scope, f"{prop}[{i}]", item, shape.member, service)
    elif kind == "map":
        if not isinstance(value, Mapping):
            raise fail(scope, prop, value, "must be a mapping")
        _check_length(scope, prop, value, len(value), meta, "entries")
        for key, item in value.items():
            _check_shape(scope, f"{prop} key", key, shape.key, service)
            _check_shape(scope, f"{prop}[{key!r}]", item, shape.value, service)
    elif kind == "structure":
        if not isinstance(value, Mapping):
            raise fail(scope, prop, value, "must be a mapping")
        members = shape.members
        for key, item in value.items():
            if key not in members:
                raise fail(scope, prop, value, f"has no field {key!r}; known: {', '.join(members)}")
            _check_shape(scope, f"{prop}.{key}", item, members[key], service)
        for required in shape.required_members:
            if required not in value:
                raise fail(scope, prop, value, f"is missing the required field {required!r}")
    elif kind == "boolean" and not isinstance(value, bool):
        raise fail(scope, prop, value, "must be a boolean")


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The model's pattern as Python reads it; None for the few Python cannot (IAM's tag
    patterns use ``\\p{L}`` classes): those fields keep their length and enum checks."""
    try:
        # The models' patterns are Java regular expressions, whose \\w, \\d and \\s match ASCII
        # only (java.util.regex.Pattern); Python's match any Unicode letter without re.ASCII.
        return re.compile(pattern, flags=re.DOTALL | re.ASCII)
    except re.error:
        return None


def _holds_literals(value: object) -> bool:
    """True for a list or mapping whose own fields can be checked although some are tokens
    (a structure holding a role's token ARN still has a literal S3 URI to check). A list that is
    one encoded list token is not: its length is known only at deploy time."""
    if isinstance(value, Mapping):
        return True
    if isinstance(value, (list, tuple)):
        return not (len(value) == 1 and isinstance(value[0], str) and is_unresolved(value[0]))
    return False


def _check_length(
    scope: IConstruct, prop: str, value: object, length: int, meta: Mapping[str, Any], unit: str
) -> None:
    if "min" in meta and length < meta["min"]:
        raise fail(scope, prop, value, f"must have at least {meta['min']} {unit} (has {length})")
    if "max" in meta and length > meta["max"]:
        raise fail(scope, prop, value, f"must have at most {meta['max']} {unit} (has {length})")
