"""KMS key for audience data (seed files, training data, generated audiences, batch output)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from .._internal import defaults
from .._internal.props import check_props
from .._internal.validation import check_api_value, fail, is_unresolved, seconds_of
from ._key_policy import audience_key_statements, require_key_statements


def check_alias(scope: IConstruct, prop: str, alias: str | None) -> None:
    """A KMS alias name: ``alias/<name>``, not under the ``alias/aws/`` prefix AWS reserves,
    within ``CreateAlias``'s limits."""
    if alias is None or is_unresolved(alias):
        return
    if not alias.startswith("alias/") or alias == "alias/":
        raise fail(scope, prop, alias, "must start with 'alias/' followed by a name")
    if alias.startswith("alias/aws/"):
        raise fail(scope, prop, alias, "the prefix 'alias/aws/' is reserved for AWS")
    check_api_value(scope, prop, alias, service="kms", operation="CreateAlias", member="AliasName")


class AudienceEncryptionKey(Construct):
    """A customer-managed KMS key for audience data, with rotation and a narrow key policy.

    Besides the account's own IAM principals (CDK's default key policy), the key policy lets
    the Clean Rooms ML and Bedrock service principals use the key, each only on behalf of this
    account (``aws:SourceAccount``) and only for that service's resources in this account and
    region (``aws:SourceArn``).

    Example::

        key = AudienceEncryptionKey(self, "Key", alias="alias/audience-data")
        key.grant_encrypt_decrypt(my_role)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str | None = None,
        description: str | None = None,
        rotation_period: Duration | None = None,
        pending_window: Duration | None = None,
        removal_policy: RemovalPolicy | None = None,
        allow_clean_rooms_ml: bool = True,
        allow_bedrock: bool = True,
    ) -> None:
        """
        :param alias:
            alias to create, ``alias/<name>``. Rule: the KMS ``CreateAlias``
            ``AliasName`` limits, and not the reserved ``alias/aws/`` prefix.
            Default: no alias.
        :param description:
            key description. Default: "Audience data for Clean Rooms ML and
            Bedrock (<construct path>)".
        :param rotation_period: automatic rotation period, 90 to 2560 days. Rotation is always
            on. Default: 365 days.
        :param pending_window: waiting period before a scheduled deletion, 7 to 30 days.
            Default: 30 days.
        :param removal_policy: what happens to the key when it leaves the stack.
            Default: ``RemovalPolicy.RETAIN``.
        :param allow_clean_rooms_ml: add the key-policy statement for
            ``cleanrooms-ml.amazonaws.com``. Default: True.
        :param allow_bedrock: add the key-policy statement for ``bedrock.amazonaws.com``.
            Default: True.
        """
        super().__init__(scope, construct_id)
        check_props(self, AudienceEncryptionKey.__init__, locals())
        check_alias(self, "alias", alias)
        check_api_value(
            self,
            "description",
            description,
            service="kms",
            operation="CreateKey",
            member="Description",
        )
        rotation = rotation_period or defaults.KEY_ROTATION_PERIOD
        days = seconds_of(self, "rotation_period", rotation, unit=86400, unit_name="days") // 86400
        if not 90 <= days <= 2560:
            raise fail(
                self,
                "rotation_period",
                f"{days} days",
                "must be between 90 and 2560 days (KMS RotationPeriodInDays)",
            )
        window = pending_window or defaults.KEY_PENDING_WINDOW
        days = seconds_of(self, "pending_window", window, unit=86400, unit_name="days") // 86400
        if not 7 <= days <= 30:
            raise fail(
                self,
                "pending_window",
                f"{days} days",
                "must be between 7 and 30 days (KMS PendingWindowInDays)",
            )

        self.key = kms.Key(
            self,
            "Resource",
            alias=alias,
            description=description
            or f"Audience data for Clean Rooms ML and Bedrock ({self.node.path})",
            enable_key_rotation=True,
            rotation_period=rotation,
            pending_window=window,
            removal_policy=removal_policy or defaults.STATEFUL_REMOVAL_POLICY,
        )
        require_key_statements(
            self,
            self,
            audience_key_statements(
                self, clean_rooms_ml=allow_clean_rooms_ml, bedrock=allow_bedrock
            ),
            "key",
            "Clean Rooms ML and Bedrock use it for audience data",
        )

    @property
    def key_arn(self) -> str:
        """The key's ARN."""
        return self.key.key_arn

    @property
    def key_id(self) -> str:
        """The key's id."""
        return self.key.key_id

    def grant_encrypt_decrypt(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` encrypt and decrypt with the key."""
        return self.key.grant_encrypt_decrypt(grantee)

    def grant_decrypt(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` decrypt with the key."""
        return self.key.grant_decrypt(grantee)


def as_kms_key(key: kms.IKey | AudienceEncryptionKey | None) -> kms.IKey | None:
    """The ``kms.IKey`` behind ``key`` (an ``AudienceEncryptionKey`` or a key), or None."""
    return key.key if isinstance(key, AudienceEncryptionKey) else key


def key_parts(
    key: kms.IKey | AudienceEncryptionKey | str | None,
) -> tuple[str | None, kms.IKey | None]:
    """A key given as a construct or as an id/ARN string: ``(the id to put in a request, the
    key to grant use of)``; a string key has nothing this stack can grant."""
    if isinstance(key, str):
        return key, None
    found = as_kms_key(key)
    return (None if found is None else found.key_arn), found
