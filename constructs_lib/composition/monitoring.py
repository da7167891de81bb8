"""What an operator sees and is told: a CloudWatch dashboard and alarms for the pipeline."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Annotations, ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .._internal.props import check_props
from .._internal.provider import CustomResourceProvider
from .._internal.state_machines import any_occurrence_alarm
from .._internal.validation import fail, is_unresolved, seconds_of
from ..foundation._key_policy import (
    cloudwatch_alarms_key_statement,
    render,
    require_key_statements,
    statements_json,
)
from ..foundation.encryption_key import AudienceEncryptionKey, as_kms_key
from ..tracking.job_status import JobStatusTracker
from ..workflows.audience_generation_workflow import AudienceGenerationWorkflow
from ..workflows.batch_inference_workflow import BatchInferenceWorkflow

#: Warning id of an imported alarm topic whose policy the app cannot extend.
IMPORTED_TOPIC_WARNING = "cleanrooms-ml-cdk:imported-topic-policy"

#: CloudWatch Logs Insights query over Step Functions execution logs: the latest failures.
FAILURE_QUERY = [
    "fields @timestamp, execution_arn, details.error, details.cause",
    "filter type in ['ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']",
    "sort @timestamp desc",
    "limit 20",
]


class PipelineMonitoring(Construct):
    """A dashboard and alarms for the stack's workflows, tracked jobs and handler.

    Dashboard: runs and tracked jobs started / succeeded / failed / timed out, how long jobs
    and runs take, the handler's errors, alarm states, and the last 20 failure causes (a Logs
    Insights query over the state machines' execution logs).

    Alarms (any occurrence in a period): a workflow run failed, timed out or was aborted (each
    workflow's ``failure_alarm``); a tracked job failed or timed out (the tracker's
    ``failure_alarm``); the handler failed (``handler_alarm``). They notify ``alarm_topic``
    (yours) or a new KMS-encrypted topic (``create_alarm_topic=True``); never both.

    Example::

        PipelineMonitoring(self, "Monitoring", workflows=[workflow], create_alarm_topic=True,
                           topic_encryption_key=key)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workflows: Sequence[AudienceGenerationWorkflow | BatchInferenceWorkflow] = (),
        alarm_topic: sns.ITopic | None = None,
        create_alarm_topic: bool = False,
        topic_encryption_key: kms.IKey | AudienceEncryptionKey | None = None,
        dashboard_name: str | None = None,
        period: Duration | None = None,
    ) -> None:
        """
        :param workflows:
            workflows to show and alarm on (audience-generation and batch inference
            workflows). Default: none (tracked jobs and the handler only).
        :param alarm_topic: an existing topic the alarms notify. A ``sns.Topic`` of this app
            gets the statement letting CloudWatch alarms of this account and Region publish;
            for an imported topic a synth warning lists it. Default: none.
        :param create_alarm_topic: create a KMS-encrypted topic (TLS-only) for the alarms,
            exposed as ``alarm_topic``. Default: false.
        :param topic_encryption_key: key of the created topic; its key policy must let
            CloudWatch use it (an ``AudienceEncryptionKey`` or ``kms.Key`` of this app gets
            that statement; for an imported key a synth warning lists it). Default: a new key
            with rotation enabled.
        :param dashboard_name:
            Default: ``<stack name>-audiences``.
        :param period:
            metric period of the dashboard and alarms, 1 min-1 day. Default: 5 min.
        """
        super().__init__(scope, construct_id)
        check_props(self, PipelineMonitoring.__init__, locals())
        if alarm_topic is not None and create_alarm_topic:
            raise fail(
                self,
                "alarm_topic",
                alarm_topic.node.path,
                "give an existing topic or set create_alarm_topic, not both",
            )
        if topic_encryption_key is not None and not create_alarm_topic:
            raise fail(
                self,
                "topic_encryption_key",
                "given",
                "only applies to the topic created with create_alarm_topic=True",
            )
        self.period = period or Duration.minutes(5)
        seconds = seconds_of(self, "period", self.period)
        if not 60 <= seconds <= 86400 or seconds % 60:
            raise fail(self, "period (seconds)", seconds, "must be whole minutes, 1 min-1 day")
        self.tracker = JobStatusTracker.of(self)
        self.provider = CustomResourceProvider.of(self)
        self.workflows = list(workflows)
        self.alarm_topic = (
            self._new_topic(topic_encryption_key) if create_alarm_topic else alarm_topic
        )
        self.handler_alarm = self._handler_alarm()
        self.alarms = [
            *(w.failure_alarm for w in self.workflows),
            self.tracker.failure_alarm,
            self.handler_alarm,
        ]
        if alarm_topic is not None:
            self._allow_alarms_to_publish(alarm_topic)
        if self.alarm_topic is not None:
            for alarm in self.alarms:
                alarm.add_alarm_action(actions.SnsAction(self.alarm_topic))
        # "The name can contain only alphanumerics, dash (-), and underscore (_)" (PutDashboard,
        # DashboardName, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html)
        if (
            dashboard_name is not None
            and not is_unresolved(dashboard_name)
            and re.fullmatch(r"[A-Za-z0-9_-]{1,255}", dashboard_name) is None
        ):
            raise fail(
                self,
                "dashboard_name",
                dashboard_name,
                "must be 1-255 letters, digits, '-' or '_' (CloudWatch dashboard names)",
            )
        self.dashboard = self._dashboard(dashboard_name or f"{Stack.of(self).stack_name}-audiences")

    # ---- alarms ---------------------------------------------------------------------------------

    def _handler_alarm(self) -> cloudwatch.Alarm:
        return any_occurrence_alarm(
            self,
            "HandlerErrors",
            self.provider.handler.metric_errors(period=self.period),
            "The Clean Rooms ML custom-resource handler failed (a deploy step, a workflow input "
            "check or a WaitCondition signal); its JSON logs say why.",
            "handler_alarm",
        )

    def _new_topic(self, key: kms.IKey | AudienceEncryptionKey | None) -> sns.Topic:
        master_key = as_kms_key(key) or kms.Key(
            self,
            "TopicKey",
            description=f"Alarm topic of {self.node.path}",
            enable_key_rotation=True,
        )
        # CloudWatch publishes alarm notifications into the encrypted topic: its key policy
        # must let CloudWatch use the key (added to a key of this app, reported for an import).
        require_key_statements(
            self,
            key if key is not None else master_key,
            [cloudwatch_alarms_key_statement(self)],
            "topic_encryption_key",
            "CloudWatch must encrypt alarm notifications with it to publish them to the alarm "
            "topic",
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="Lookalike audience pipeline alarms",
            master_key=master_key,
            enforce_ssl=True,
        )
        self._allow_alarms_to_publish(topic)
        return topic

    def _alarm_publish_statement(self, topic: sns.ITopic) -> iam.PolicyStatement:
        """``sns:Publish`` for CloudWatch, only for this account's alarms in this Region.

        The topic policy CDK writes for ``enforce_ssl`` replaces SNS's default policy, so
        nothing else lets CloudWatch publish. Amazon CloudWatch User Guide, "Notifying users on
        alarm changes", section "Preventing confused deputy security issues"
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html):
        principal ``cloudwatch.amazonaws.com``, ``SNS:Publish``, ``ArnLike aws:SourceArn
        arn:aws:cloudwatch:<region>:<account>:alarm:*`` and ``StringEquals aws:SourceAccount``;
        "The value of aws:SourceArn must be the ARN of the alarm that is sending notifications."
        """
        stack = Stack.of(self)
        return iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": stack.format_arn(
                        service="cloudwatch",
                        resource="alarm",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                },
            },
        )

    def _allow_alarms_to_publish(self, topic: sns.ITopic) -> None:
        """Add the CloudWatch publish statement to a topic of this app; for an imported topic,
        say (synth warning) which statement its policy needs."""
        statement = self._alarm_publish_statement(topic)
        if isinstance(topic, sns.Topic):
            topic.add_to_resource_policy(statement)
            # An encrypted topic: CloudWatch must also be able to use its key (SNS, "Enable
            # compatibility between event sources from AWS services and encrypted topics",
            # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
            if topic.master_key is not None:
                require_key_statements(
                    self,
                    topic.master_key,
                    [cloudwatch_alarms_key_statement(self)],
                    "alarm_topic",
                    "CloudWatch publishes alarm notifications into the topic it encrypts",
                )
            return
        Annotations.of(self).add_warning_v2(
            IMPORTED_TOPIC_WARNING,
            f"{self.node.path}: alarm_topic ({render(self, topic.topic_arn)}) is an SNS topic "
            "this app does not define, so its topic policy cannot be changed here. CloudWatch "
            "alarms can publish to it only if its policy allows them (a policy without the SNS "
            "default statement denies them); add this statement to the topic policy: "
            f"{statements_json(self, [statement])}",
        )

    # ---- dashboard ------------------------------------------------------------------------------

    def _runs(self, title: str, machine: sfn.StateMachine) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title,
            left=[
                machine.metric_started(period=self.period, label="started"),
                machine.metric_succeeded(period=self.period, label="succeeded"),
                machine.metric_failed(period=self.period, label="failed"),
                machine.metric_timed_out(period=self.period, label="timed out"),
            ],
            width=8,
        )

    def _dashboard(self, name: str) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=name)
        machines = [(w.node.id, w.state_machine) for w in self.workflows]
        tracker = self.tracker.state_machine
        dashboard.add_widgets(
            *(self._runs(f"Runs: {label}", machine) for label, machine in machines),
            self._runs("Tracked jobs (models, generation, export, Bedrock)", tracker),
        )
        durations = [
            tracker.metric_time(period=self.period, statistic="Average", label="job, average"),
            tracker.metric_time(period=self.period, statistic="Maximum", label="job, maximum"),
            *(
                machine.metric_time(period=self.period, statistic="Maximum", label=f"run {label}")
                for label, machine in machines
            ),
        ]
        handler = self.provider.handler
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Job and run durations (ms)", left=durations, width=8),
            cloudwatch.GraphWidget(
                title="Handler",
                left=[
                    handler.metric_invocations(period=self.period, label="invocations"),
                    handler.metric_errors(period=self.period, label="errors"),
                ],
                right=[handler.metric_duration(period=self.period, label="duration")],
                width=8,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=8),
        )
        groups: list[logs.ILogGroup] = [
            *(w.log_group for w in self.workflows),
            self.tracker.log_group,
        ]
        dashboard.add_widgets(
            cloudwatch.LogQueryWidget(
                title="Last failure causes",
                log_group_names=[g.log_group_name for g in groups],
                query_lines=FAILURE_QUERY,
                width=24,
            )
        )
        return dashboard
