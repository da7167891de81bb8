"""AWS access for the CLI: one botocore session (``--profile`` / ``--region`` as the AWS CLI
takes them, else the usual environment and config files) and clients created on first use.

botocore only: boto3 is not a dependency of the library. ``explain`` turns the errors a user
can fix (no credentials, no region, unknown profile, access denied, no network) into one line.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

#: Error codes AWS answers when the caller's identity may not do something.
ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "AuthorizationError",
    }
)
#: Error codes AWS answers when the credentials themselves are not accepted.
BAD_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
    }
)
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 5},
    user_agent_extra="cleanrooms-ml-cdk-constructs-cli",
)


class CliError(Exception):
    """A failure the CLI reports as one line (its message) and ends with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class AwsSetupError(CliError):
    """The session cannot be used as asked (unknown profile, no region)."""


class Clients:
    """The clients a command needs, each created on first use from one session.

    :param profile: a profile of the AWS config files (``--profile``), else the default chain.
    :param region: the region (``--region``), else the profile's or ``AWS_REGION`` /
        ``AWS_DEFAULT_REGION``.
    """

    def __init__(self, *, profile: str | None = None, region: str | None = None) -> None:
        self.profile = profile
        self._region = region
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    @property
    def session(self) -> Any:
        """The botocore session (created on first use)."""
        if self._session is None:
            try:
                self._session = botocore.session.Session(profile=self.profile)
                self._session.get_scoped_config()  # an unknown profile fails here, not later
            except ProfileNotFound as error:
                raise AwsSetupError(
                    f"the profile {self.profile!r} is not in the AWS config files ({error})"
                ) from None
        return self._session

    @property
    def region(self) -> str:
        """The region every client uses: ``--region``, else the session's."""
        region = self._region or self.session.get_config_variable("region")
        if not region:
            raise AwsSetupError(
                "no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or set "
                "a region in the profile"
            )
        return str(region)

    def client(self, service: str) -> Any:
        """The client of ``service`` (one per service)."""
        if service not in self._clients:
            self._clients[service] = self.session.create_client(
                service, region_name=self.region, config=CLIENT_CONFIG
            )
        return self._clients[service]

    @property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    @property
    def cfn(self) -> Any:
        return self.client("cloudformation")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def cleanroomsml(self) -> Any:
        return self.client("cleanroomsml")


def explain(error: BaseException) -> str | None:
    """One line saying what went wrong with AWS and what to do, or None when ``error`` is not
    an AWS error the CLI knows."""
    if isinstance(error, AwsSetupError):
        return str(error)
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return (
            "no AWS credentials found: pass --profile, set AWS_PROFILE, or configure "
            "credentials as for the AWS CLI (aws configure / aws sso login)"
        )
    if isinstance(error, NoRegionError):
        return "no AWS region: pass --region or set AWS_REGION"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach AWS: {error}"
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code, message = str(info.get("Code", "")), str(info.get("Message", ""))
        operation = error.operation_name
        if code in ACCESS_DENIED:
            return f"access denied to {operation}: {message or code}"
        if code in BAD_CREDENTIALS:
            return f"the AWS credentials were refused ({code}): {message}"
        return f"{operation} failed ({code}): {message}"
    if isinstance(error, BotoCoreError):
        return str(error)
    return None
