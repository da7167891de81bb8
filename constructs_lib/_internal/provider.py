"""One custom-resource provider per stack: a handler Lambda and the CDK provider framework.

Created on first use by any Clean Rooms ML custom resource in the stack and shared by all of them,
so a stack's infrastructure overhead is constant however many models and jobs it declares. Each
resource adds only the permissions it needs to the handler's managed policy.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from . import contract, defaults
from .nag import acknowledge, skip_checkov
from .permissions import KMS_SERVICE_USE
from .service_role import ServiceRolePolicy

#: The handler asset: plain files from lambda/ (standard library + the runtime's boto3). An
#: installed wheel ships them as ``constructs_lib/_lambda``; a checkout uses ``lambda/`` itself.
_INSTALLED_HANDLER_DIR = Path(__file__).resolve().parent.parent / "_lambda"
HANDLER_DIR = (
    _INSTALLED_HANDLER_DIR
    if _INSTALLED_HANDLER_DIR.is_dir()
    else Path(__file__).resolve().parent.parent.parent / "lambda"
)
PROVIDER_ID = "CleanRoomsMlCustomResourceProvider"
HANDLER_TIMEOUT = Duration.minutes(5)
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14
#: Concurrent handler invocations; bounds the API request rate of a large deploy.
HANDLER_CONCURRENCY = 5


_CACHE_ATTRIBUTE = "_cleanrooms_ml_cdk_provider"


def remember(target: object, attribute: str, value: object) -> None:
    """Cache ``value`` on a Python construct object (objects made in JavaScript cannot hold it,
    and then the lookup simply runs again)."""
    with contextlib.suppress(AttributeError):
        setattr(target, attribute, value)


_T = TypeVar("_T", bound=Construct)


def stack_singleton(scope: IConstruct, cls: type[_T], construct_id: str, attribute: str) -> _T:
    """The one ``cls`` of ``scope``'s stack (child ``construct_id``), created on first use.

    Remembered on the Python objects of the scope and its stack, so a stack of N resources
    does not pay N construct-tree searches through jsii.
    """
    cached = getattr(scope, attribute, None)
    if isinstance(cached, cls):
        return cached
    stack = Stack.of(scope)
    found = getattr(stack, attribute, None)
    if not isinstance(found, cls):
        existing = stack.node.try_find_child(construct_id)
        found = existing if isinstance(existing, cls) else cls(stack, construct_id)
        remember(stack, attribute, found)
    remember(scope, attribute, found)
    return found


class CustomResourceProvider(Construct):
    """The stack's handler Lambda, its role and encrypted logs, and the provider framework."""

    @classmethod
    def of(cls, scope: IConstruct) -> CustomResourceProvider:
        """The provider of ``scope``'s stack, created on first use."""
        return stack_singleton(scope, cls, PROVIDER_ID, _CACHE_ATTRIBUTE)

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._granted: set[str] = set()
        #: Grants already made for a kind of resource (see ``allow_handler``).
        self.handler_grants: set[tuple[object, ...]] = set()

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
            handler=contract.HANDLER,
            code=lambda_.Code.from_asset(
                str(HANDLER_DIR), exclude=["__pycache__", "*.pyc", ".mypy_cache"]
            ),
            timeout=HANDLER_TIMEOUT,
            memory_size=256,
            role=self.role,
            log_group=self.handler_log_group,
            reserved_concurrent_executions=HANDLER_CONCURRENCY,
            # One JSON object per log record: the handler's fields become queryable keys.
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
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
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        """Add a permission to the handler once, however many resources ask for it."""
        # Token strings are stable per token, so the raw values identify a grant without a
        # (slow, jsii) resolve.
        key = json.dumps(
            [sorted(actions), list(resources), conditions], sort_keys=True, default=str
        )
        if key in self._granted:
            return
        self._granted.add(key)
        self.permissions.allow(
            actions, resources, wildcard_reason=wildcard_reason, conditions=conditions
        )

    def allow_pass_role(self, role_arn: str, service: str) -> None:
        """Let the handler pass ``role_arn``, and only to ``service``."""
        self.allow(
            ["iam:PassRole"],
            [role_arn],
            conditions={"StringEquals": {"iam:PassedToService": service}},
        )

    def _log_group(self, construct_id: str) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            retention=defaults.LOG_RETENTION,
            encryption_key=self.logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _acknowledge_handler(self) -> None:
        _waive_lambda(
            self.handler,
            no_vpc=True,
            no_dlq=True,
            unbounded_concurrency=False,
        )

    def _acknowledge_framework(self) -> None:
        framework = self.provider.node.find_child("framework-onEvent")
        assert isinstance(framework, lambda_.Function)
        acknowledge(
            framework,
            "The CDK provider framework's own function: its basic execution policy is chosen "
            "and maintained by aws-cdk-lib.",
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
            "aws-cdk-lib writes the provider framework's permissions into its role's inline "
            "default policy; they only allow invoking the handler.",
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "HIPAA.Security-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
        )
        _waive_lambda(framework, no_vpc=True, no_dlq=True, unbounded_concurrency=True)


_NO_VPC = (
    "Calls only AWS APIs over TLS; a VPC would need NAT or interface endpoints for every service "
    "it calls and adds nothing here."
)
_NO_DLQ = (
    "Invoked synchronously by CloudFormation through the provider framework, which reports every "
    "failure to CloudFormation; a dead-letter queue would never receive an event."
)
_FRAMEWORK_CONCURRENCY = (
    "The provider framework's function only relays CloudFormation events; concurrency is bounded "
    "by the handler's reserved concurrency."
)


def _waive_lambda(
    function: lambda_.Function, *, no_vpc: bool, no_dlq: bool, unbounded_concurrency: bool
) -> None:
    """Record, on the function, the Lambda rules that do not apply and why (nag and checkov)."""
    cfn_function = function.node.default_child
    assert isinstance(cfn_function, lambda_.CfnFunction)
    if no_vpc:
        acknowledge(
            function,
            _NO_VPC,
            "NIST.800.53.R5-LambdaInsideVPC",
            "HIPAA.Security-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
        )
        skip_checkov(cfn_function, ("CKV_AWS_117", _NO_VPC))
    if no_dlq:
        acknowledge(function, _NO_DLQ, "NIST.800.53.R5-LambdaDLQ", "HIPAA.Security-LambdaDLQ")
        skip_checkov(cfn_function, ("CKV_AWS_116", _NO_DLQ))
    if unbounded_concurrency:
        acknowledge(
            function,
            _FRAMEWORK_CONCURRENCY,
            "NIST.800.53.R5-LambdaConcurrency",
            "HIPAA.Security-LambdaConcurrency",
        )
        skip_checkov(cfn_function, ("CKV_AWS_115", _FRAMEWORK_CONCURRENCY))
