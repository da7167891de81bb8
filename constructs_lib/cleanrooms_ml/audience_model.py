"""Clean Rooms ML audience model: ``CreateAudienceModel`` as a custom resource."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Protocol

from aws_cdk import (
    CfnResource,
    CfnWaitCondition,
    CfnWaitConditionHandle,
    Duration,
    RemovalPolicy,
    Token,
)
from aws_cdk import aws_kms as kms
from constructs import Construct

from .._internal import contract
from .._internal.custom_resource import (
    allow_handler,
    check_tags,
    default_name,
    identity_digest,
    new_custom_resource,
    to_request_value,
    validate_fields,
)
from .._internal.props import check_props
from .._internal.validation import check_int_range, fail, is_unresolved, seconds_of
from ..foundation._key_policy import audience_key_statements, require_key_statements
from ..foundation.encryption_key import AudienceEncryptionKey, as_kms_key
from ..tracking.job_status import JobStatusTracker
from ._training_queue import TrainingQueue

_OPERATION = "CreateAudienceModel"
_KMS_ACTIONS = ["kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt"]
#: "AWS::CloudFormation::WaitCondition", property Timeout: "The maximum time that can be specified
#: for this property is 12 hours (43200 seconds). Updates aren't supported."
#: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-waitcondition.html
_MAX_READY_TIMEOUT_SECONDS = 43200
_DEFAULT_READY_TIMEOUT = Duration.seconds(_MAX_READY_TIMEOUT_SECONDS)


class IAudienceModel(Protocol):
    """Anything with an audience model ARN: an ``AudienceModel`` or an imported one."""

    @property
    def audience_model_arn(self) -> str: ...


class HasTrainingDatasetArn(Protocol):
    @property
    def training_dataset_arn(self) -> str: ...


Timestamp = datetime.datetime | str


class AudienceModel(Construct):
    """An audience (lookalike) model trained on a training dataset.

    A custom resource (child ``Resource``) whose handler calls ``CreateAudienceModel`` and
    returns as soon as the service accepts it: training (up to 24 hours) is not awaited by
    CloudFormation. The physical id is the model's ARN. Every field but ``tags`` is fixed at
    creation, so changing one creates a new model (with a new default name) and deletes the old
    one; tags are updated in place. Deleting the resource calls ``DeleteAudienceModel``.

    Training quota: Clean Rooms ML allows 2 audience models per account and Region in training
    at once by default ("AWS Clean Rooms ML quotas", "Pending/in progress audience models per
    customer", https://docs.aws.amazon.com/clean-rooms/latest/userguide/clean-rooms-ml-quotas.html).
    So the audience models of a stack queue: in declaration order, a model is created only once
    the model declared ``N`` places before it is trained (its ``ready`` WaitCondition completed),
    so at most ``N`` train at once (``N`` = 2, see ``set_max_concurrent_training``). A queued
    model therefore waits up to that earlier model's ``ready_timeout`` (at most 12 hours, the
    WaitCondition maximum): if the earlier model's training outlasts it, or fails, the deploy
    fails. A stack of ``M`` models takes about ``ceil(M / N)`` training times to deploy. The queue
    is per stack: models of other stacks, or created outside CloudFormation, still share the
    account's quota. Imported models (``from_audience_model_arn``) do not queue.

    Example::

        model = AudienceModel(self, "Model", training_dataset=dataset,
            training_data_start_time=datetime.datetime(2024, 1, 1),
            training_data_end_time=datetime.datetime(2024, 6, 30),
            kms_key=key)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        training_dataset: HasTrainingDatasetArn | str,
        name: str | None = None,
        training_data_start_time: Timestamp | None = None,
        training_data_end_time: Timestamp | None = None,
        kms_key: kms.IKey | AudienceEncryptionKey | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy | None = None,
        ready_timeout: Duration | None = None,
    ) -> None:
        """
        :param training_dataset: the ``TrainingDataset`` (or its ARN) to train on
            (``trainingDatasetArn``).
        :param name:
            1-63 characters, unique per account and region (``name``). Default:
            derived from the construct path plus a hash of the fields, so a replacement gets a
            new name.
        :param training_data_start_time: first moment of training data to use; a
            ``datetime`` (naive means UTC) or an ISO 8601 string. Default: the dataset's start.
        :param training_data_end_time: last moment of training data to use; after the start.
            Default: the dataset's end.
        :param kms_key: key Clean Rooms ML encrypts the model with (``kmsKeyArn``).
            Default: an AWS owned key.
        :param description:
            up to 255 characters. Default: none.
        :param tags:
            at most 49 tags, updated in place. Default: none.
        :param removal_policy: what happens to the model when it leaves the stack.
            Default: ``RemovalPolicy.DESTROY`` (a model is derived data; retrain to recreate).
        :param ready_timeout: how long ``ready`` waits for training, 1 minute to 12 hours (the
            WaitCondition maximum), known at synth (not a token). Changing it replaces the
            WaitCondition and its handle (CloudFormation cannot update a WaitCondition's
            ``Timeout``). It also bounds how long the models queued behind this one wait (see
            the class docstring). Default: 12 hours.
        """
        super().__init__(scope, construct_id)
        check_props(self, AudienceModel.__init__, locals())
        dataset_arn = (
            training_dataset
            if isinstance(training_dataset, str)
            else training_dataset.training_dataset_arn
        )
        key = as_kms_key(kms_key)
        start = _timestamp(self, "training_data_start_time", training_data_start_time)
        end = _timestamp(self, "training_data_end_time", training_data_end_time)
        if (
            isinstance(start, datetime.datetime)
            and isinstance(end, datetime.datetime)
            and not start < end
        ):
            raise fail(
                self,
                "training_data_end_time",
                to_request_value(end),
                f"must be after training_data_start_time ({to_request_value(start)})",
            )
        identity = {
            "trainingDatasetArn": dataset_arn,
            "trainingDataStartTime": start,
            "trainingDataEndTime": end,
            "kmsKeyArn": key.key_arn if key else None,
            "description": description,
        }
        name = name or default_name(self, identity)
        request = {"name": name, **identity}
        validate_fields(
            self,
            _OPERATION,
            [
                ("name", "name", name),
                ("training_dataset", "trainingDatasetArn", dataset_arn),
                ("kms_key", "kmsKeyArn", request["kmsKeyArn"]),
                ("description", "description", description),
            ],
        )
        check_tags(self, tags, _OPERATION)

        self._ready_timeout = ready_timeout or _DEFAULT_READY_TIMEOUT
        if self._ready_timeout.is_unresolved():
            # The WaitCondition's ids derive from the timeout (see ``ready``): a token would give
            # a Timeout that changes without replacing the condition.
            raise fail(
                self,
                "ready_timeout",
                self._ready_timeout.to_string(),
                "must be known at synth, not a token: a changed timeout replaces the WaitCondition",
            )
        check_int_range(
            self,
            "ready_timeout (seconds)",
            seconds_of(self, "ready_timeout", self._ready_timeout),
            minimum=60,
            maximum=_MAX_READY_TIMEOUT_SECONDS,
        )
        self._identity = identity
        self._ready: CfnWaitCondition | None = None
        JobStatusTracker.of(self)
        provider = allow_handler(
            self,
            [
                "CreateAudienceModel",
                "GetAudienceModel",
                "DeleteAudienceModel",
            ],
            ["audience-model", "training-dataset"],
            list_action="ListAudienceModels",
        )
        if key is not None:
            provider.allow(_KMS_ACTIONS, [key.key_arn])
            # Clean Rooms ML encrypts the model with the key: its key policy must let the service
            # use it (added to a key of this app, a synth warning for an imported one).
            require_key_statements(
                self,
                key,
                audience_key_statements(self, bedrock=False),
                "kms_key",
                "Clean Rooms ML encrypts the audience model with it",
            )
        self.resource = new_custom_resource(
            self,
            resource_type=contract.AUDIENCE_MODEL,
            request=request,
            tags=tags,
            removal_policy=removal_policy,
            depends_on=(training_dataset,),
        )
        self.audience_model_name = name
        TrainingQueue.of(self).enqueue(self)

    @classmethod
    def set_max_concurrent_training(cls, scope: Construct, max_concurrent: int) -> None:
        """Let at most ``max_concurrent`` audience models of ``scope``'s stack train at once.

        Call it before the stack's first ``AudienceModel`` (or ``LookalikeAudiencePipeline``)
        is declared. Default: 2, Clean Rooms ML's default quota of audience models in training
        per account and Region ("AWS Clean Rooms ML quotas",
        https://docs.aws.amazon.com/clean-rooms/latest/userguide/clean-rooms-ml-quotas.html).
        A value above 2 assumes a raised quota (a synth warning says so); 1 trains the stack's
        models one after the other.

        :param scope: any construct of the stack.
        :param max_concurrent: an integer >= 1.
        """
        TrainingQueue.of(scope).configure(max_concurrent)

    @property
    def audience_model_arn(self) -> str:
        """The model's ARN (the custom resource's physical id)."""
        return self.resource.get_att_string("AudienceModelArn")

    @property
    def ready(self) -> CfnWaitCondition:
        """A CloudFormation WaitCondition that completes when training ends: it succeeds when the
        model is ACTIVE and fails, with the service's message, when training fails (so the
        deploy fails). Depend on it to create things only once the model is trained; a
        ``ConfiguredAudienceModel`` of this model does so by itself.

        Its ids derive from the fields that replace the model, so a replaced model re-arms the
        wait with a new handle, and from ``ready_timeout``, so a changed timeout replaces the
        condition and its handle: CloudFormation does not update a WaitCondition's ``Timeout``
        ("Updates aren't supported") and wants a new handle for every wait condition added in an
        update ("AWS::CloudFormation::WaitCondition",
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-waitcondition.html).
        The default timeout keeps the ids of earlier releases, so upgrading does not replace it.
        """
        if self._ready is None:
            seconds = int(self._ready_timeout.to_seconds())
            suffix = "" if seconds == _MAX_READY_TIMEOUT_SECONDS else f"T{seconds}"
            digest = identity_digest(self, self._identity)[:8] + suffix
            handle = CfnWaitConditionHandle(self, f"ReadyHandle{digest}")
            cfn = self.resource.node.default_child
            assert isinstance(cfn, CfnResource)
            cfn.add_property_override(contract.SIGNAL_URL_PROPERTY, handle.ref)
            self._ready = CfnWaitCondition(
                self,
                f"Ready{digest}",
                handle=handle.ref,
                count=1,
                timeout=str(seconds),
            )
            self._ready.node.add_dependency(self.resource)
        return self._ready

    @classmethod
    def from_audience_model_arn(
        cls, scope: Construct, construct_id: str, audience_model_arn: str
    ) -> IAudienceModel:
        """Refer to an audience model created elsewhere."""
        return _ImportedAudienceModel(scope, construct_id, audience_model_arn)


class _ImportedAudienceModel(Construct):
    def __init__(self, scope: Construct, construct_id: str, arn: str) -> None:
        super().__init__(scope, construct_id)
        if not Token.is_unresolved(arn):
            validate_fields(
                self, "GetAudienceModel", [("audience_model_arn", "audienceModelArn", arn)]
            )
        self._arn = arn

    @property
    def audience_model_arn(self) -> str:
        return self._arn


def _timestamp(scope: Construct, prop: str, value: Timestamp | None) -> Timestamp | None:
    """``value`` as an aware datetime (naive means UTC); tokens pass through."""
    if value is None or is_unresolved(value):
        return value
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise fail(scope, prop, value, "must be a datetime or an ISO 8601 timestamp") from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
