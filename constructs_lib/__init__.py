"""AWS CDK v2 constructs for lookalike-audience pipelines on AWS Clean Rooms ML and batch
inference on Amazon Bedrock."""

from __future__ import annotations

from ._validation import ConstructValidationError
from .audience_generation_job import (
    AudienceGenerationJob,
    SeedAudience,
    SqlParameters,
    WorkerComputeConfiguration,
    WorkerComputeType,
)
from .audience_generation_workflow import (
    INVALID_INPUT,
    WORKFLOW_EVENT_DETAIL_TYPE,
    WORKFLOW_EVENT_SOURCE,
    AudienceExportSize,
    AudienceGenerationWorkflow,
    BatchInferenceStep,
)
from .audience_model import AudienceModel, IAudienceModel
from .batch_inference_job import (
    BatchInferenceJob,
    BatchVpcConfig,
    ModelInvocationType,
    S3InputFormat,
)
from .bedrock_role import BedrockBatchInferenceRole
from .cleanrooms_ml_role import CleanRoomsMlServiceRole, GlueTrainingTable
from .compliance import add_compliance_checks
from .configured_audience_model import (
    AudienceOutputConfig,
    AudienceSizeConfig,
    AudienceSizeType,
    ConfiguredAudienceModel,
    IConfiguredAudienceModel,
    SharedAudienceMetrics,
    TagOnCreatePolicy,
)
from .encryption_key import AudienceEncryptionKey
from .job_status import EVENT_DETAIL_TYPE, EVENT_SOURCE, JobStatusTracker
from .monitoring import PipelineMonitoring
from .pipeline import BatchInferenceSettings, LookalikeAudiencePipeline, TrainingData
from .seed_bucket import SeedAudienceBucket
from .training_dataset import ColumnType, TrainingDataColumn, TrainingDataset

__all__ = [
    "EVENT_DETAIL_TYPE",
    "EVENT_SOURCE",
    "INVALID_INPUT",
    "WORKFLOW_EVENT_DETAIL_TYPE",
    "WORKFLOW_EVENT_SOURCE",
    "AudienceEncryptionKey",
    "AudienceExportSize",
    "AudienceGenerationJob",
    "AudienceGenerationWorkflow",
    "AudienceModel",
    "AudienceOutputConfig",
    "AudienceSizeConfig",
    "AudienceSizeType",
    "BatchInferenceJob",
    "BatchInferenceSettings",
    "BatchInferenceStep",
    "BatchVpcConfig",
    "BedrockBatchInferenceRole",
    "CleanRoomsMlServiceRole",
    "ColumnType",
    "ConfiguredAudienceModel",
    "ConstructValidationError",
    "GlueTrainingTable",
    "IAudienceModel",
    "IConfiguredAudienceModel",
    "JobStatusTracker",
    "LookalikeAudiencePipeline",
    "ModelInvocationType",
    "PipelineMonitoring",
    "S3InputFormat",
    "SeedAudience",
    "SeedAudienceBucket",
    "SharedAudienceMetrics",
    "SqlParameters",
    "TagOnCreatePolicy",
    "TrainingData",
    "TrainingDataColumn",
    "TrainingDataset",
    "WorkerComputeConfiguration",
    "WorkerComputeType",
    "add_compliance_checks",
]

__version__ = "0.1.0"
