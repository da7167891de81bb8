"""AWS CDK v2 constructs for lookalike-audience pipelines on AWS Clean Rooms ML and batch
inference on Amazon Bedrock.

The public API is what this module exports; import it from here (``from constructs_lib import
AudienceModel``). The folders are layers, each importing only those below it
(docs/architecture.md, "Layers"; ``tests/checks/test_layers.py`` holds the rule)::

    composition/    pipeline, monitoring
    workflows/      audience-generation and batch inference workflows, built from
                    state-machine fragments
    cleanrooms_ml/  training dataset, audience model, configured model (and its collaboration
                    association), generation job
    bedrock/        batch inference job
    tracking/       job-status tracker: fragments, job kinds, poll schedule (pure arithmetic)
    foundation/     key, seed bucket, service roles, compliance checks
    _internal/      provider, custom-resource plumbing, validation, shared defaults
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load on first use
    from ._internal.validation import ConstructValidationError
    from .bedrock.batch_inference_job import (
        BatchInferenceJob,
        BatchVpcConfig,
        ModelInvocationType,
        S3InputFormat,
    )
    from .bedrock.batch_limits import BatchLimits
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
    from .cleanrooms_ml.configured_audience_model_association import (
        ConfiguredAudienceModelAssociation,
    )
    from .cleanrooms_ml.training_dataset import ColumnType, TrainingDataColumn, TrainingDataset
    from .composition.monitoring import PipelineMonitoring
    from .composition.pipeline import (
        BatchInferenceSettings,
        LookalikeAudiencePipeline,
        TrainingData,
    )
    from .foundation.bedrock_role import BedrockBatchInferenceRole
    from .foundation.cleanrooms_ml_role import CleanRoomsMlServiceRole, GlueTrainingTable
    from .foundation.compliance import acknowledge_finding, add_compliance_checks
    from .foundation.encryption_key import AudienceEncryptionKey
    from .foundation.seed_bucket import SeedAudienceBucket
    from .tracking.job_status import JobStatusTracker
    from .workflows.audience_generation_workflow import (
        AudienceExportSize,
        AudienceGenerationWorkflow,
    )
    from .workflows.batch_inference_workflow import BatchInferenceWorkflow

__version__ = "0.1.0"

# The exported constants, declared (not assigned: they still load on first use) so that each has
# a docstring the API reference shows; pdoc reads variable docstrings only from this module.
EVENT_SOURCE: str
"""EventBridge ``source`` of the event the job-status tracker publishes when a tracked job ends."""
EVENT_DETAIL_TYPE: str
"""EventBridge ``detail-type`` of the event the job-status tracker publishes when a job ends."""
WORKFLOW_EVENT_SOURCE: str
"""EventBridge ``source`` of the event every audience-generation workflow execution ends with."""
WORKFLOW_EVENT_DETAIL_TYPE: str
"""EventBridge ``detail-type`` of the event every audience-generation workflow execution ends
with."""
INVALID_INPUT: str
"""Workflow outcome when the input was rejected before any call, besides the tracker's outcomes
(``SUCCEEDED``, ``FAILED``, ``TIMED_OUT``, ``UNKNOWN_STATUS``, ``CALL_FAILED``)."""

# Every public name and the module it lives in. Importing ``constructs_lib`` (or a stdlib-only
# module in it, such as ``foundation.compliance_summary`` or ``tracking.schedule``) loads no
# aws_cdk and starts no jsii process; a name's module is imported when the name is first used.
# tests/project/test_lazy_exports.py keeps this map, the imports above and ``__all__`` equal.
_EXPORTS: dict[str, str] = {
    "EVENT_DETAIL_TYPE": ".tracking.job_status",
    "EVENT_SOURCE": ".tracking.job_status",
    "INVALID_INPUT": ".workflows.audience_generation_workflow",
    "WORKFLOW_EVENT_DETAIL_TYPE": ".workflows.audience_generation_workflow",
    "WORKFLOW_EVENT_SOURCE": ".workflows.audience_generation_workflow",
    "AudienceEncryptionKey": ".foundation.encryption_key",
    "AudienceExportSize": ".workflows.audience_generation_workflow",
    "AudienceGenerationJob": ".cleanrooms_ml.audience_generation_job",
    "AudienceGenerationWorkflow": ".workflows.audience_generation_workflow",
    "AudienceModel": ".cleanrooms_ml.audience_model",
    "AudienceOutputConfig": ".cleanrooms_ml.configured_audience_model",
    "AudienceSizeConfig": ".cleanrooms_ml.configured_audience_model",
    "AudienceSizeType": ".cleanrooms_ml.configured_audience_model",
    "BatchInferenceJob": ".bedrock.batch_inference_job",
    "BatchInferenceWorkflow": ".workflows.batch_inference_workflow",
    "BatchLimits": ".bedrock.batch_limits",
    "BatchInferenceSettings": ".composition.pipeline",
    "BatchVpcConfig": ".bedrock.batch_inference_job",
    "BedrockBatchInferenceRole": ".foundation.bedrock_role",
    "CleanRoomsMlServiceRole": ".foundation.cleanrooms_ml_role",
    "ColumnType": ".cleanrooms_ml.training_dataset",
    "ConfiguredAudienceModel": ".cleanrooms_ml.configured_audience_model",
    "ConfiguredAudienceModelAssociation": ".cleanrooms_ml.configured_audience_model_association",
    "ConstructValidationError": "._internal.validation",
    "GlueTrainingTable": ".foundation.cleanrooms_ml_role",
    "IAudienceModel": ".cleanrooms_ml.audience_model",
    "IConfiguredAudienceModel": ".cleanrooms_ml.configured_audience_model",
    "JobStatusTracker": ".tracking.job_status",
    "LookalikeAudiencePipeline": ".composition.pipeline",
    "ModelInvocationType": ".bedrock.batch_inference_job",
    "PipelineMonitoring": ".composition.monitoring",
    "S3InputFormat": ".bedrock.batch_inference_job",
    "SeedAudience": ".cleanrooms_ml.audience_generation_job",
    "SeedAudienceBucket": ".foundation.seed_bucket",
    "SharedAudienceMetrics": ".cleanrooms_ml.configured_audience_model",
    "SqlParameters": ".cleanrooms_ml.audience_generation_job",
    "TagOnCreatePolicy": ".cleanrooms_ml.configured_audience_model",
    "TrainingData": ".composition.pipeline",
    "TrainingDataColumn": ".cleanrooms_ml.training_dataset",
    "TrainingDataset": ".cleanrooms_ml.training_dataset",
    "WorkerComputeConfiguration": ".cleanrooms_ml.audience_generation_job",
    "WorkerComputeType": ".cleanrooms_ml.audience_generation_job",
    "acknowledge_finding": ".foundation.compliance",
    "add_compliance_checks": ".foundation.compliance",
}

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
    "BatchInferenceWorkflow",
    "BatchLimits",
    "BatchVpcConfig",
    "BedrockBatchInferenceRole",
    "CleanRoomsMlServiceRole",
    "ColumnType",
    "ConfiguredAudienceModel",
    "ConfiguredAudienceModelAssociation",
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
