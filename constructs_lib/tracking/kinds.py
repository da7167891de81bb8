"""What the job-status tracker tracks and how tracking ends: the job kinds (which call reads a
job's status, and which statuses mean running, succeeded or failed), the outcomes, and the
EventBridge names of the outcome event.

Pure data (no CDK): the state-machine fragments, the grants and the Bedrock event rule read it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from .._internal import contract

#: EventBridge ``source`` and ``detail-type`` of the event published when a tracked job ends.
EVENT_SOURCE = "cleanrooms-ml-cdk.job-status"
EVENT_DETAIL_TYPE = "Tracked Job Finished"

#: Outcomes (the event's ``detail.outcome``; the failed execution's error name).
SUCCEEDED = "SUCCEEDED"
SUCCEEDED_WITH_WARNINGS = "SUCCEEDED_WITH_WARNINGS"
FAILED = "FAILED"
UNKNOWN_STATUS = "UNKNOWN_STATUS"
TIMED_OUT = "TIMED_OUT"
CALL_FAILED = "CALL_FAILED"


@dataclass(frozen=True)
class Kind:
    """A kind of tracked job: the ``kind`` of the tracker's input, the SDK call that reads its
    status (``service``/``action``, the job ARN passed as ``arn_parameter``), and the statuses
    of ``$.result.Status`` that mean running, succeeded, failed or succeeded with warnings."""

    name: str
    service: str
    action: str
    iam_action: str
    arn_parameter: str
    in_progress: Sequence[str]
    succeeded: Sequence[str]
    failed: Sequence[str]
    warning: Sequence[str] = ()
    message_path: str = "$.result.StatusDetails.Message"


_CLEAN_ROOMS_ML_IN_PROGRESS = ("CREATE_PENDING", "CREATE_IN_PROGRESS")
_CLEAN_ROOMS_ML_FAILED = ("CREATE_FAILED", "DELETE_PENDING", "DELETE_IN_PROGRESS", "DELETE_FAILED")

BEDROCK_KIND = Kind(
    contract.KIND_BEDROCK_BATCH_INFERENCE_JOB,
    "bedrock",
    "getModelInvocationJob",
    "bedrock:GetModelInvocationJob",
    "JobIdentifier",
    ("Submitted", "Validating", "Scheduled", "InProgress", "Stopping"),
    ("Completed",),
    ("Failed", "Stopped", "Expired"),
    warning=("PartiallyCompleted",),
    message_path="$.result.Message",
)

#: The kinds read with a ``Get*`` call, in the order the tracker routes them.
KINDS = (
    Kind(
        contract.KIND_AUDIENCE_MODEL,
        "cleanroomsml",
        "getAudienceModel",
        "cleanrooms-ml:GetAudienceModel",
        "AudienceModelArn",
        _CLEAN_ROOMS_ML_IN_PROGRESS,
        ("ACTIVE",),
        _CLEAN_ROOMS_ML_FAILED,
    ),
    Kind(
        contract.KIND_AUDIENCE_GENERATION_JOB,
        "cleanroomsml",
        "getAudienceGenerationJob",
        "cleanrooms-ml:GetAudienceGenerationJob",
        "AudienceGenerationJobArn",
        _CLEAN_ROOMS_ML_IN_PROGRESS,
        ("ACTIVE",),
        _CLEAN_ROOMS_ML_FAILED,
    ),
    BEDROCK_KIND,
)

#: Export jobs have no Get call: the tracker lists the generation job's exports.
EXPORT_KIND = Kind(
    contract.KIND_AUDIENCE_EXPORT_JOB,
    "cleanroomsml",
    "listAudienceExportJobs",
    "cleanrooms-ml:ListAudienceExportJobs",
    "AudienceGenerationJobArn",
    _CLEAN_ROOMS_ML_IN_PROGRESS,
    ("ACTIVE",),
    ("CREATE_FAILED",),
)

#: The event path checks a Bedrock job's status like the poller, under its own state names.
EVENT_KIND = dataclasses.replace(BEDROCK_KIND, name="EVENT_" + BEDROCK_KIND.name)
