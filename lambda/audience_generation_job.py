"""Custom::CleanRoomsMLAudienceGenerationJob -> StartAudienceGenerationJob /
DeleteAudienceGenerationJob.

A job is immutable: any change but tags starts a new one. The handler returns once the start
call is accepted; the job's progress is tracked elsewhere.
"""

from __future__ import annotations

from typing import Any

import lifecycle
import tracking
from lifecycle import Kind, Props, Result

RESOURCE_TYPE = "Custom::CleanRoomsMLAudienceGenerationJob"
SERVICE = "cleanroomsml"
CREATE_OPERATION = "StartAudienceGenerationJob"

KIND = Kind(
    data_key="AudienceGenerationJobArn",
    noun="audience generation job",
    create_operation=CREATE_OPERATION,
    list_operation="ListAudienceGenerationJobs",
    list_key="audienceGenerationJobs",
    arn_key="audienceGenerationJobArn",
    delete_operation="DeleteAudienceGenerationJob",
    tracked_kind=tracking.KIND_AUDIENCE_GENERATION_JOB,
    arn_marker="audience-generation-job",
    list_filter=lambda props: {
        "configuredAudienceModelArn": props.request["configuredAudienceModelArn"]
    },
)


def on_create(props: Props, client: Any, tracker: Any = None) -> Result:
    return lifecycle.create(KIND, props, client, tracker)


def on_update(
    props: Props, old: Props, physical_id: str, client: Any, tracker: Any = None
) -> Result:
    return lifecycle.update_immutable(KIND, props, old, physical_id, client, tracker)


def on_delete(physical_id: str, client: Any) -> Result:
    return lifecycle.delete(client, KIND, physical_id)
