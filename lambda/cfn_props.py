"""Turn the strings CloudFormation sends into the types the API expects.

CloudFormation passes every custom-resource property as a string ("25", "true",
"2024-01-01T00:00:00Z"). Each value is converted by the type botocore's service model declares
for that field, so the same model that validates the request also parses it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from errors import HandlerError

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def parse_value(shape: Any, value: Any, path: str) -> Any:
    """``value`` converted to the Python type of botocore ``shape``; ``path`` names it in errors."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            raise HandlerError(f"property {path} must be an object, got {value!r}")
        members = shape.members
        unknown = sorted(set(value) - set(members))
        if unknown:
            raise HandlerError(
                f"property {path} has unknown fields {unknown}; known: {list(members)}"
            )
        return {
            key: parse_value(members[key], item, f"{path}.{key}") for key, item in value.items()
        }
    if kind == "list":
        if not isinstance(value, list):
            raise HandlerError(f"property {path} must be a list, got {value!r}")
        return [parse_value(shape.member, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, Mapping):
            raise HandlerError(f"property {path} must be an object, got {value!r}")
        return {str(k): parse_value(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    if kind in ("integer", "long"):
        return _number(int, value, path)
    if kind in ("double", "float"):
        return _number(float, value, path)
    if kind == "boolean":
        return _boolean(value, path)
    if kind == "timestamp":
        return _timestamp(value, path)
    return value if isinstance(value, str) else str(value)


def parse_request(operation_model: Any, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The request for ``operation_model`` from CloudFormation's string properties."""
    parsed: dict[str, Any] = parse_value(operation_model.input_shape, raw, operation_model.name)
    return parsed


def _number(kind: type[int] | type[float], value: Any, path: str) -> int | float:
    if isinstance(value, bool):
        raise HandlerError(f"property {path} must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        return kind(value)
    try:
        return kind(str(value).strip())
    except ValueError:
        raise HandlerError(f"property {path} must be a number, got {value!r}") from None


def _boolean(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise HandlerError(f"property {path} must be true or false, got {value!r}")


def _timestamp(value: Any, path: str) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise HandlerError(
                f"property {path} must be an ISO 8601 timestamp, got {value!r}"
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
