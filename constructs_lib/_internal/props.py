"""Each property a user passes is of the type its construct declares, checked at synth time.

Python does not check type hints, so a number where a string is expected would otherwise reach
CDK or the service and fail there with a ``TypeError``, an ``AttributeError`` or a jsii error
that names no property. ``check_props`` reads the constructor's own type hints and reports the
first mismatch as a ``ConstructValidationError`` naming the property (and the field inside a value
class, e.g. ``output_config.role``). Interfaces (``iam.IRole``, ``IAudienceModel``...) cannot be
checked with ``isinstance``; a plain value (a string, number, list...) given for one is refused.
CDK tokens are accepted where their kind fits (a string token for a string, a number token for a
number, an encoded list token for a list).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import enum
import functools
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from aws_cdk import RemovalPolicy
from constructs import IConstruct

from .validation import fail, is_unresolved

#: Values that can never be an interface (a role, a key, a bucket...).
_PLAIN = (str, bytes, int, float, bool, list, tuple, dict, set, frozenset, type(None))
_UNION = (typing.Union, types.UnionType)
_SEQUENCES = (collections.abc.Sequence, list, tuple)
_MAPPINGS = (collections.abc.Mapping, dict)


def check_props(scope: IConstruct, function: Callable[..., Any], values: Mapping[str, Any]) -> None:
    """Check each of ``function``'s parameters present in ``values`` (its ``locals()``) against
    its type hint; the first mismatch raises, naming the property."""
    for name, hint in _hints(function).items():
        if name in values:
            problem = _mismatch(values[name], hint, name)
            if problem is not None:
                path, value, expected = problem
                raise fail(scope, path, value, f"must be {expected}")
    if values.get("removal_policy") is RemovalPolicy.SNAPSHOT:
        # The library's stateful resources (KMS keys, S3 buckets, custom resources) have no
        # snapshots: CloudFormation's Snapshot deletion policy does not apply to them.
        raise fail(
            scope,
            "removal_policy",
            "RemovalPolicy.SNAPSHOT",
            "must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY: the resources it applies "
            "to (keys, buckets, Clean Rooms ML and Bedrock objects) keep no snapshots",
        )


@functools.cache
def _hints(function: Callable[..., Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(function)
    return {k: v for k, v in hints.items() if k not in ("return", "scope", "construct_id")}


def _mismatch(value: Any, hint: Any, path: str) -> tuple[str, Any, str] | None:
    """None when ``value`` fits ``hint``; else the path, the value and what was expected."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is object:
        return None
    if origin in _UNION:
        return _union(value, args, path)
    if origin is typing.Literal:
        return None if value in args else (path, value, " or ".join(map(repr, args)))
    if origin in _SEQUENCES:
        return _sequence(value, args, path)
    if origin in _MAPPINGS:
        return _mapping(value, args, path)
    if origin is not None or not isinstance(hint, type):
        return None  # callables and other forms are left to the construct
    if _fits(value, hint):
        if dataclasses.is_dataclass(hint):
            return _fields(value, hint, path)
        return None
    return (path, value, describe(hint))


def _fits(value: Any, hint: type) -> bool:
    """``value`` is of the (non-generic) type ``hint``, tokens of the right kind included."""
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        if isinstance(value, float):
            return is_unresolved(value)
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if getattr(hint, "_is_protocol", False):
        return not isinstance(value, _PLAIN) and _has_members(value, _members(hint))
    return isinstance(value, hint)


@functools.cache
def _members(protocol: type) -> tuple[str, ...]:
    """The attributes an interface itself declares (``role_arn``, ``grant_pass_role``... of
    ``iam.IRole``): what an object must have to be one."""
    return tuple(n for n in vars(protocol) if not n.startswith("_"))


def _has_members(value: Any, names: tuple[str, ...]) -> bool:
    """``value`` has every one of ``names``, found without calling into jsii: in its class, or
    (for an object CDK returns as an interface, such as an imported role) in a delegate."""
    found = set(dir(value))
    delegates = vars(value).get("_delegates", ()) if hasattr(value, "__dict__") else ()
    for delegate in delegates:
        found.update(dir(delegate))
    return all(name in found for name in names)


def _union(value: Any, args: tuple[Any, ...], path: str) -> tuple[str, Any, str] | None:
    deeper = []
    for arg in args:
        problem = _mismatch(value, arg, path)
        if problem is None:
            return None
        if problem[0] != path:  # the value is of this kind, but a field inside is wrong
            deeper.append(problem)
    if len(deeper) == 1:
        return deeper[0]
    return (path, value, " or ".join(describe(arg) for arg in args if arg is not type(None)))


def _sequence(value: Any, args: tuple[Any, ...], path: str) -> tuple[str, Any, str] | None:
    item = args[0] if args else Any
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        return (path, value, f"a list of {describe(item)}")
    if len(value) == 1 and isinstance(value[0], str) and is_unresolved(value):
        # an encoded list token: its items are strings known at deploy time, so it stands only
        # for a list of strings (not of value classes the library reads at synth time)
        if item is Any or _mismatch("text", item, path) is None:
            return None
        return (path, value, f"a list of {describe(item)} (a list token holds only strings)")
    for index, element in enumerate(value):
        problem = _mismatch(element, item, f"{path}[{index}]")
        if problem is not None:
            return problem
    return None


def _mapping(value: Any, args: tuple[Any, ...], path: str) -> tuple[str, Any, str] | None:
    key_hint, value_hint = args if len(args) == 2 else (Any, Any)
    if not isinstance(value, Mapping):
        if not isinstance(value, _PLAIN) and is_unresolved(value):
            return None
        return (path, value, f"a mapping of {describe(key_hint)} to {describe(value_hint)}")
    for key, element in value.items():
        problem = _mismatch(key, key_hint, f"{path} key") or _mismatch(
            element, value_hint, f"{path}[{key!r}]"
        )
        if problem is not None:
            return problem
    return None


def _fields(value: Any, hint: type, path: str) -> tuple[str, Any, str] | None:
    hints = typing.get_type_hints(hint)
    for item in dataclasses.fields(hint):
        problem = _mismatch(getattr(value, item.name), hints[item.name], f"{path}.{item.name}")
        if problem is not None:
            return problem
    return None


def describe(hint: Any) -> str:
    """``hint`` in words: ``a string``, ``an iam.IRole``, ``a list of TrainingDataColumn``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in _UNION:
        return " or ".join(describe(a) for a in args if a is not type(None))
    if origin in _SEQUENCES:
        return f"a list of {describe(args[0]) if args else 'values'}"
    if origin in _MAPPINGS:
        return "a mapping" + (f" of {describe(args[0])} to {describe(args[1])}" if args else "")
    words = {
        str: "a string",
        int: "a whole number",
        float: "a number",
        bool: "True or False",
        type(None): "None",
        datetime.datetime: "a datetime",
    }
    if hint in words:
        return words[hint]
    if not isinstance(hint, type):
        return str(hint)
    if hint.__name__.startswith("Has") and getattr(hint, "_is_protocol", False):
        attribute = re.sub(r"(?<!^)(?=[A-Z])", "_", hint.__name__[3:]).lower()
        return f"a construct with {attribute}"
    module = hint.__module__.rsplit(".", 1)[-1].removeprefix("aws_")
    name = hint.__name__ if module.startswith(("_", "constructs")) else f"{module}.{hint.__name__}"
    if hint.__module__.startswith("constructs_lib"):
        name = hint.__name__
    if issubclass(hint, enum.Enum):
        first = next(iter(hint.__members__))
        return f"a {name} (e.g. {hint.__name__}.{first})"
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"
