"""One custom-resource provider per stack: a handler Lambda and the CDK provider framework.

Created on first use by any Clean Rooms ML custom resource in the stack and shared by all of them,
so a stack's infrastructure overhead is constant however many models and jobs it declares. Each
resource adds only the permissions it needs to the handler's managed policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from . import _contract, _defaults
from ._nag import acknowledge
from ._permissions import KMS_SERVICE_USE
from ._service_role import ServiceRolePolicy

#: The handler asset: plain files from lambda/ (standard library + the runtime's boto3).
HANDLER_DIR = Path(__file__).resolve().parent.parent / "lambda"
PROVIDER_ID = "CleanRoomsMlCustomResourceProvider"
HANDLER_TIMEOUT = Duration.minutes(5)
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14
#: Concurrent handler invocations; bounds the API request rate of a large deploy.
HANDLER_CONCURRENCY = 5


class CustomResourceProvider(Construct):
    """The stack's handler Lambda, its role and encrypted logs, and the provider framework."""

    @classmethod
    def of(cls, scope: Construct) -> CustomResourceProvider:
        """The provider of ``scope``'s stack, created on first use."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, CustomResourceProvider):
            return existing
        return cls(stack, PROVIDER_ID)

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._granted: set[str] = set()

        self.logs_key = kms.Key(
            self,
            "LogsKey",
            description=f"Logs of the Clean Rooms ML custom resources ({self.node.path})",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogs",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=KMS_SERVICE_USE,
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.handler_log_group = self._log_group("HandlerLogs")
        self.role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Clean Rooms ML custom-resource handler",
        )
        self.permissions = ServiceRolePolicy(self, self.role)
        self.permissions.allow(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [self.handler_log_group.log_group_arn + ":*"],
            wildcard_reason="Log streams are created at run time inside this one log group.",
        )
        self.handler = lambda_.Function(
            self,
            "Handler",
            runtime=HANDLER_RUNTIME,
            handler=_contract.HANDLER,
            code=lambda_.Code.from_asset(
                str(HANDLER_DIR), exclude=["__pycache__", "*.pyc", ".mypy_cache"]
            ),
            timeout=HANDLER_TIMEOUT,
            memory_size=256,
            role=self.role,
            log_group=self.handler_log_group,
            reserved_concurrent_executions=HANDLER_CONCURRENCY,
            environment_encryption=self.logs_key,
            description="Creates, updates and deletes Clean Rooms ML objects for CloudFormation",
        )
        self.handler.node.add_dependency(self.permissions.require_policy())
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.handler,
            log_group=self._log_group("FrameworkLogs"),
            provider_function_env_encryption=self.logs_key,
        )
        self._acknowledge_framework()
        self._acknowledge_handler()

    @property
    def service_token(self) -> str:
        """What every custom resource of this stack points at."""
        return self.provider.service_token

    def allow(
        self,
        actions: Sequence[str],
        resources: Sequence[str],
        *,
        wildcard_reason: str | None = None,
    ) -> None:
        """Add a permission to the handler once, however many resources ask for it."""
        key = f"{sorted(actions)}|{[Stack.of(self).resolve(r) for r in resources]}"
        if key in self._granted:
            return
        self._granted.add(key)
        self.permissions.allow(actions, resources, wildcard_reason=wildcard_reason)

    def _log_group(self, construct_id: str) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            retention=_defaults.LOG_RETENTION,
            encryption_key=self.logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _acknowledge_handler(self) -> None:
        acknowledge(
            self.handler,
            "The handler only calls AWS APIs over TLS; it needs no VPC, and a VPC would require "
            "NAT or interface endpoints for Clean Rooms ML, Bedrock and Step Functions.",
            "NIST.800.53.R5-LambdaInsideVPC",
            "HIPAA.Security-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
        )
        acknowledge(
            self.handler,
            "Invoked synchronously by the provider framework, which reports every failure to "
            "CloudFormation; a dead-letter queue would never receive an event.",
            "NIST.800.53.R5-LambdaDLQ",
            "HIPAA.Security-LambdaDLQ",
        )

    def _acknowledge_framework(self) -> None:
        framework = self.provider.node.find_child("framework-onEvent")
        acknowledge(
            framework,
            "The CDK provider framework's own function: its runtime and basic execution policy "
            "are chosen and maintained by aws-cdk-lib.",
            "AwsSolutions-L1",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
        )
        handler_arn = Stack.of(self).resolve(self.handler.function_arn)
        logical_id = handler_arn["Fn::GetAtt"][0]
        acknowledge(
            framework,
            "The framework invokes every version of the one handler function (<arn>:*).",
            f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
        )
        acknowledge(
            framework,
            "The CDK provider framework's function only relays CloudFormation events to the "
            "handler; no VPC, no dead-letter queue (it answers CloudFormation itself), and "
            "concurrency is bounded by the handler's reserved concurrency.",
            "NIST.800.53.R5-LambdaInsideVPC",
            "HIPAA.Security-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
            "NIST.800.53.R5-LambdaDLQ",
            "HIPAA.Security-LambdaDLQ",
            "NIST.800.53.R5-LambdaConcurrency",
            "HIPAA.Security-LambdaConcurrency",
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "HIPAA.Security-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
        )
