"""Errors the handler reports to CloudFormation: the service's own message plus what to check."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

_HINTS = {
    "AccessDeniedException": (
        "Check the custom-resource handler role's permissions for this action, iam:PassRole for "
        "every role the request passes, and the key policy of any KMS key it names."
    ),
    "ValidationException": "Check the construct's properties against the API's rules.",
    "ConflictException": (
        "Another object or operation holds this name or resource; wait for it to finish or "
        "choose another name."
    ),
    "ResourceNotFoundException": (
        "An ARN in the request does not exist (yet) in this account and region; check the "
        "referenced resource and the stack's dependency order."
    ),
    "ServiceQuotaExceededException": (
        "A service quota was reached; delete unused objects or request a quota increase."
    ),
    "ThrottlingException": "The request was throttled after every retry; deploy again later.",
}


class HandlerError(Exception):
    """A failure reported to CloudFormation as the resource's FAILED reason."""


def error_code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code


def describe(operation: str, error: ClientError, **context: Any) -> HandlerError:
    """A ``HandlerError`` for ``error`` raised by ``operation``: service message + what to check."""
    code = error_code(error)
    message = error.response.get("Error", {}).get("Message", str(error))
    where = "".join(f" {key}={value}" for key, value in context.items() if value)
    hint = _HINTS.get(code, "")
    return HandlerError(f"{operation} failed ({code}){where}: {message}. {hint}".strip())
