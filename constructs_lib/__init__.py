"""AWS CDK v2 constructs for lookalike-audience pipelines on AWS Clean Rooms ML and batch
inference on Amazon Bedrock.

The public API is what this module exports; import it from here (``from constructs_lib import
AudienceModel``). The folders are layers, each importing only those below it (README, "Layout";
``tests/checks/test_layers.py`` holds the rule)::

    composition/    pipeline, monitoring
    workflows/      audience-generation workflow, built from state-machine fragments
    cleanrooms_ml/  training dataset, audience model, configured model, generation job
    bedrock/        batch inference job
    tracking/       job-status tracker: fragments, job kinds, poll schedule (pure arithmetic)
    foundation/     key, seed bucket, service roles, compliance checks
    _internal/      provider, custom-resource plumbing, validation, shared defaults
"""

from __future__ import annotations

from ._internal.validation import ConstructValidationError
from .bedrock.batch_inference_job import (
    BatchInferenceJob,
    BatchVpcConfig,
    ModelInvocationType,
    S3InputFormat,
)
from .cleanrooms_ml.audience_generation_job import (
    AudienceGenerationJob,
    SeedAudience,
    SqlParameters,
    WorkerComputeConfiguration,
    WorkerComputeType,
)
from .cleanrooms_ml.audience_model import AudienceModel, IAudienceModel
from .cleanrooms_ml.configured_audience_model import (
    AudienceOutputConfig,
    AudienceSizeConfig,
    AudienceSizeType,
    ConfiguredAudienceModel,
    IConfiguredAudienceModel,
    SharedAudienceMetrics,
    TagOnCreatePolicy,
)
from .cleanrooms_ml.training_dataset import ColumnType, TrainingDataColumn, TrainingDataset
from .composition.monitoring import PipelineMonitoring
from .composition.pipeline import BatchInferenceSettings, LookalikeAudiencePipeline, TrainingData
from .foundation.bedrock_role import BedrockBatchInferenceRole
from .foundation.cleanrooms_ml_role import CleanRoomsMlServiceRole, GlueTrainingTable
from .foundation.compliance import acknowledge_finding, add_compliance_checks
from .foundation.encryption_key import AudienceEncryptionKey
from .foundation.seed_bucket import SeedAudienceBucket
from .tracking.job_status import EVENT_DETAIL_TYPE, EVENT_SOURCE, JobStatusTracker
from .workflows.audience_generation_workflow import (
    INVALID_INPUT,
    WORKFLOW_EVENT_DETAIL_TYPE,
    WORKFLOW_EVENT_SOURCE,
    AudienceExportSize,
    AudienceGenerationWorkflow,
    BatchInferenceStep,
)

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
    "acknowledge_finding",
    "add_compliance_checks",
]

__version__ = "0.1.0"
