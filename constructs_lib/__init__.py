"""AWS CDK v2 constructs for lookalike-audience pipelines on AWS Clean Rooms ML and batch
inference on Amazon Bedrock."""

from __future__ import annotations

from ._validation import ConstructValidationError
from .bedrock_role import BedrockBatchInferenceRole
from .cleanrooms_ml_role import CleanRoomsMlServiceRole, GlueTrainingTable
from .compliance import add_compliance_checks
from .encryption_key import AudienceEncryptionKey
from .seed_bucket import SeedAudienceBucket

__all__ = [
    "AudienceEncryptionKey",
    "BedrockBatchInferenceRole",
    "CleanRoomsMlServiceRole",
    "ConstructValidationError",
    "GlueTrainingTable",
    "SeedAudienceBucket",
    "add_compliance_checks",
]

__version__ = "0.1.0"
