"""Least-privilege building blocks shared by grants and service roles: the exact actions each
kind of access needs, and object-prefix resources."""

from __future__ import annotations

import json
from typing import Any

from constructs import IConstruct

from .validation import check_prefix

#: Read the objects under a prefix.
S3_READ_OBJECTS = ["s3:GetObject"]
#: Write objects under a prefix (multipart uploads included).
S3_WRITE_OBJECTS = ["s3:PutObject", "s3:AbortMultipartUpload"]
#: Find and list the bucket the objects are in.
S3_BUCKET = ["s3:ListBucket", "s3:GetBucketLocation"]
#: Read what a key encrypted.
KMS_DECRYPT = ["kms:Decrypt", "kms:DescribeKey"]
#: Encrypt new objects (S3 asks for a data key) and read them back.
KMS_ENCRYPT = ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"]
#: What a service principal needs, in a key policy, to read and write data under the key.
KMS_SERVICE_USE = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
]


def object_pattern(scope: IConstruct, prop: str, prefix: str) -> str:
    """The object-key pattern for ``prefix`` (``"seeds/"`` -> ``"seeds/*"``)."""
    check_prefix(scope, prop, prefix)
    return f"{prefix}*"


def nag_resource_name(resolved: Any) -> str:
    """A resolved CloudFormation value flattened the way cdk-nag names IAM5 findings
    (``{"Fn::GetAtt": ["Bucket", "Arn"]}`` -> ``<Bucket.Arn>``)."""
    if resolved is None:
        return ""
    if isinstance(resolved, str):
        return resolved.replace("${", "<").replace("}", ">")
    if isinstance(resolved, dict):
        if "Fn::Join" in resolved:
            delimiter, items = resolved["Fn::Join"]
            return str(delimiter).join(nag_resource_name(item) for item in items)
        if "Fn::Sub" in resolved:
            return nag_resource_name(resolved["Fn::Sub"])
        if "Fn::GetAtt" in resolved:
            resource, attribute = resolved["Fn::GetAtt"]
            return f"<{nag_resource_name(resource)}.{nag_resource_name(attribute)}>"
        if "Fn::ImportValue" in resolved:
            return nag_resource_name(resolved["Fn::ImportValue"])
        if "Ref" in resolved:
            return f"<{nag_resource_name(resolved['Ref'])}>"
    return json.dumps(resolved, separators=(",", ":"))
