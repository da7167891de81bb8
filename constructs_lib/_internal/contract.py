"""Names shared by the constructs and the handler in lambda/ (which cannot import this package).

A test checks that both sides agree, so a rename on one side fails the suite.
"""

from __future__ import annotations

#: Custom-resource properties: the API request (API field names) and the user's tags.
REQUEST_PROPERTY = "Request"
TAGS_PROPERTY = "Tags"

#: Tag the handler adds to every object it creates (one of the service's 50 per object).
OWNER_TAG = "cleanrooms-ml-cdk:owner"

AUDIENCE_MODEL = "Custom::CleanRoomsMLAudienceModel"
CONFIGURED_AUDIENCE_MODEL = "Custom::CleanRoomsMLConfiguredAudienceModel"
CONFIGURED_AUDIENCE_MODEL_POLICY = "Custom::CleanRoomsMLConfiguredAudienceModelPolicy"
AUDIENCE_GENERATION_JOB = "Custom::CleanRoomsMLAudienceGenerationJob"
CONFIGURED_AUDIENCE_MODEL_ASSOCIATION = "Custom::CleanRoomsConfiguredAudienceModelAssociation"

#: Entry point of the handler asset.
HANDLER = "handler.on_event"

#: Property carrying the WaitCondition handle URL the tracker signals when training ends.
SIGNAL_URL_PROPERTY = "SignalUrl"

#: Job-status state machine input: {"kind": <KIND_*>, "arn": <ARN>, "signalUrl": <optional>}.
KIND_AUDIENCE_MODEL = "AUDIENCE_MODEL"
KIND_AUDIENCE_GENERATION_JOB = "AUDIENCE_GENERATION_JOB"
KIND_BEDROCK_BATCH_INFERENCE_JOB = "BEDROCK_BATCH_INFERENCE_JOB"

#: Handler environment variable naming the stack's job-status state machine.
STATE_MACHINE_ENV = "JOB_STATUS_STATE_MACHINE_ARN"
#: Handler event (from the state machine) that signals a WaitCondition handle.
SIGNAL_ACTION = "SignalWaitCondition"
#: Export jobs have no Get call: tracked by listing the generation job's exports and finding
#: ``exportName`` ({"kind": KIND_AUDIENCE_EXPORT_JOB, "arn": <generation job ARN>,
#: "exportName": <name>}).
KIND_AUDIENCE_EXPORT_JOB = "AUDIENCE_EXPORT_JOB"

BEDROCK_BATCH_INFERENCE_JOB = "Custom::BedrockBatchInferenceJob"

#: Handler event (from the audience-generation workflow) that checks and completes a run's input.
PREPARE_ACTION = "PrepareAudienceGeneration"
#: Error name of a rejected workflow input (the handler's exception class).
WORKFLOW_INPUT_ERROR = "WorkflowInputError"
#: Tag on every job the workflow starts: the execution that started it.
EXECUTION_TAG = "cleanrooms-ml-cdk:execution"

#: Handler events of the batch inference workflow (checked input, split into shards, collected
#: results) and the error name of a refused input.
PREPARE_BATCH_ACTION = "PrepareBatchInference"
SPLIT_BATCH_ACTION = "SplitBatchInput"
COLLECT_BATCH_ACTION = "CollectBatchResults"
BATCH_INPUT_ERROR = "BatchInputError"
