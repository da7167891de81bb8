"""Secure defaults, defined once and shared by every construct."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_logs as logs

#: Stateful resources (keys, buckets) outlive the stack unless the user says otherwise.
STATEFUL_REMOVAL_POLICY = RemovalPolicy.RETAIN

#: KMS keys rotate yearly (the AWS default period once rotation is on).
KEY_ROTATION_PERIOD = Duration.days(365)

#: Waiting period before a scheduled key deletion takes effect (the KMS maximum).
KEY_PENDING_WINDOW = Duration.days(30)

#: Noncurrent object versions in the seed bucket expire after this many days.
NONCURRENT_VERSION_EXPIRATION_DAYS = 90

#: Server access logs are kept this many days before they expire.
ACCESS_LOG_EXPIRATION_DAYS = 365

#: Incomplete multipart uploads are aborted after this many days.
ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS = 7

#: Retention for log groups the library creates.
LOG_RETENTION = logs.RetentionDays.ONE_YEAR

#: Service principals.
CLEAN_ROOMS_ML_PRINCIPAL = "cleanrooms-ml.amazonaws.com"
BEDROCK_PRINCIPAL = "bedrock.amazonaws.com"

#: ARN service namespaces (IAM says ``cleanrooms-ml`` where the SDK says ``cleanroomsml``).
CLEAN_ROOMS_ML_ARN_SERVICE = "cleanrooms-ml"
BEDROCK_ARN_SERVICE = "bedrock"
