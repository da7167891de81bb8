"""Every IAM grant of a synthesized template checked against AWS's catalogue of actions.

The catalogue is the Service Authorization Reference (SAR) as ``policy_sentry`` ships it
(``policy_sentry/shared/data/iam-definition.json``, pinned in ``constraints.txt``), read directly:
no network at test time. ``check_template`` reads every policy document of a template (roles'
trust and inline policies, managed and inline policies, key, bucket and topic policies) and
returns one ``Finding`` per problem:

- an action (or a wildcard action) the service does not have, or an unknown service prefix;
- a statement of an identity policy whose resources include no ARN of a resource type the action
  marks as required (see ``required_type_groups``);
- a condition key that neither the actions' service nor the global context keys define, or an
  unknown condition operator;
- a role passed to a service (``roleArn`` in a custom resource's request, ``RoleArn`` in a state
  machine task) without an ``iam:PassRole`` grant to the principal that passes it, with
  ``iam:PassedToService`` naming that service (and a role whose trust policy does not let that
  service assume it);
- a Step Functions task whose action the state machine's role is not granted (derived from the
  task's ``Resource``: ``aws-sdk:<service>:<action>`` and the optimized integrations);
- an API call of the custom-resource handler (derived from ``lambda/*.py`` and the bundled
  botocore models) that the handler's role is not granted, for each resource type of the stack;
- an alarm action topic whose policy does not let ``cloudwatch.amazonaws.com`` publish;
- a key used by a service principal (a Clean Rooms ML or Bedrock request, a state-machine task,
  a log group, an alarm topic) whose key policy does not allow that principal, unless the synth
  warned why (``cleanrooms-ml-cdk:imported-key-policy``, for keys of another stack).

Required resource types (the SAR's ``*``): ``policy_sentry`` keeps the asterisk as
``"required": true`` on each privilege's ``resource_types`` entry (its scraper,
``policy_sentry/shared/awsdocs.py``: ``if "*" in resource_type: required = True``). The SAR does
not say whether several required types are all needed or alternatives, and mostly they are
alternatives (``bedrock:InvokeModel`` on a foundation model *or* an inference profile...;
``bedrock:ListTagsForResource`` on any taggable type). So the rule: a principal's grants of an
action (the resources of all its Allow statements naming it) must match at least one of the
action's required types; where AWS documents that a request needs several resources at once,
``CONJUNCTIVE_TYPES`` (``bedrock:CreateModelInvocationJob``: the model *and* the job, from
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html) and
``CONJUNCTIVE_SERVICES`` (AWS Glue: catalog, database and table/function) require each. A
resource of ``*`` matches every type; resource policies (``*`` there means "this resource") and
trust policies are not checked for resource types. Template tokens resolve to ARNs of the
resources they name (the pseudo parameters to ``aws``/``us-east-1``/``123456789012``); a token
the checker cannot resolve is a wildcard.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.model
import policy_sentry

from tests.sfn_support import ACCOUNT, REGION, definition_of

PARTITION = "aws"
ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "lambda"
DATABASE_PATH = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference"

#: Actions whose request names several resources, each authorized on its own: each group must be
#: matched (one type of the group suffices). Elsewhere several required types are alternatives.
CONJUNCTIVE_TYPES: dict[str, list[set[str]]] = {
    # list_amazonbedrock.html, CreateModelInvocationJob: custom-model*, foundation-model*,
    # model-invocation-job*: the job is created *and* runs one model (`modelId`: a foundation
    # model, also behind an inference profile, or a custom model); the Bedrock user guide
    # (batch-inference-permissions.html) grants the action on both the job and the model.
    "bedrock:createmodelinvocationjob": [
        {"custom-model", "foundation-model"},
        {"model-invocation-job"},
    ],
}
#: Services whose authorization is hierarchical: every required type must be matched. AWS Glue
#: developer guide, glue-specifying-resource-arns.html: an API on a table needs the catalog, the
#: database and the table ARNs (on a function: catalog, database, userDefinedFunction).
CONJUNCTIVE_SERVICES = {"glue"}


#: Global condition context keys (IAM User Guide, reference_policies_condition-keys.html).
def _lower_words(text: str) -> frozenset[str]:
    return frozenset(word.lower() for word in text.split())


GLOBAL_KEYS = _lower_words(
    "aws:CalledVia aws:CalledViaFirst aws:CalledViaLast aws:CurrentTime aws:EpochTime "
    "aws:FederatedProvider aws:MultiFactorAuthAge aws:MultiFactorAuthPresent "
    "aws:PrincipalAccount aws:PrincipalArn aws:PrincipalIsAWSService aws:PrincipalOrgID "
    "aws:PrincipalOrgPaths aws:PrincipalServiceName aws:PrincipalServiceNamesList "
    "aws:PrincipalType aws:referer aws:RequestedRegion aws:ResourceAccount "
    "aws:ResourceOrgID aws:ResourceOrgPaths aws:SecureTransport aws:SourceAccount "
    "aws:SourceArn aws:SourceIdentity aws:SourceIp aws:SourceOrgID aws:SourceOrgPaths "
    "aws:SourceVpc aws:SourceVpce aws:SourceVpcArn aws:TagKeys aws:TokenIssueTime "
    "aws:UserAgent aws:userid aws:username aws:ViaAWSService aws:VpcSourceIp "
    "aws:Ec2InstanceSourceVpc aws:Ec2InstanceSourcePrivateIPv4 aws:IsMcpServiceAction "
    "aws:ViaAWSMCPService aws:CalledViaAWSMCP"
)
GLOBAL_KEY_PREFIXES = ("aws:requesttag/", "aws:resourcetag/", "aws:principaltag/")

_OPERATORS = _lower_words(
    "StringEquals StringNotEquals StringEqualsIgnoreCase StringNotEqualsIgnoreCase "
    "StringLike StringNotLike NumericEquals NumericNotEquals NumericLessThan "
    "NumericLessThanEquals NumericGreaterThan NumericGreaterThanEquals DateEquals "
    "DateNotEquals DateLessThan DateLessThanEquals DateGreaterThan DateGreaterThanEquals "
    "Bool BinaryEquals IpAddress NotIpAddress ArnEquals ArnLike ArnNotEquals ArnNotLike Null"
)

#: Step Functions' SDK-integration service names that are not botocore's.
_SFN_SERVICE_ALIASES = {"sfn": "stepfunctions"}

#: Optimized integrations (Step Functions developer guide, "Integrating services"): the IAM
#: actions each needs (connect-*.html pages and the policies Step Functions generates).
_SYNC_EXTRA = [
    "states:DescribeExecution",
    "states:StopExecution",
    "events:PutTargets",
    "events:PutRule",
    "events:DescribeRule",
]


@dataclass(frozen=True)
class Finding:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Document:
    """One policy document of the template."""

    where: str
    kind: str  # identity | resource | trust
    statements: list[dict[str, Any]]
    #: identity policies: the roles (logical ids) it is attached to.
    roles: tuple[str, ...] = ()


@dataclass
class Figures:
    policies: int = 0
    statements: int = 0
    actions: set[str] = field(default_factory=set)
    passes: int = 0
    tasks: int = 0
    handler_calls: int = 0
    keys_used: int = 0
    alarm_topics: int = 0

    def add(self, other: Figures) -> None:
        self.policies += other.policies
        self.statements += other.statements
        self.actions |= other.actions
        self.passes += other.passes
        self.tasks += other.tasks
        self.handler_calls += other.handler_calls
        self.keys_used += other.keys_used
        self.alarm_topics += other.alarm_topics


# ---- the catalogue -------------------------------------------------------------------------


@functools.cache
def database() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATABASE_PATH.read_text())
    return data


def service(prefix: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = database().get(prefix.lower())
    return found


def privilege(action: str) -> dict[str, Any] | None:
    """The SAR entry of ``service:Action`` (IAM action names are case-insensitive)."""
    prefix, _, name = action.partition(":")
    svc = service(prefix)
    if svc is None:
        return None
    real = svc["privileges_lower_name"].get(name.lower())
    if real is None:
        return None
    entry: dict[str, Any] = svc["privileges"][real]
    return entry


def expand(action: str) -> list[str]:
    """``service:Pattern*`` -> every action of the service it matches (lower case names)."""
    prefix, _, name = action.partition(":")
    svc = service(prefix)
    if svc is None:
        return []
    regex = re.compile(_glob(name.lower()))
    return [f"{prefix.lower()}:{n}" for n in svc["privileges_lower_name"] if regex.fullmatch(n)]


def _glob(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def action_matches(pattern: str, action: str) -> bool:
    return re.fullmatch(_glob(pattern.lower()), action.lower()) is not None


def required_type_groups(action: str) -> list[set[str]]:
    """Groups of resource types the grants of ``action`` must match, one type of each group.

    The SAR's required types (``*``; policy_sentry's ``"required": true``): one type, or several
    alternatives (``bedrock:InvokeModel`` on a foundation model *or* an inference profile...),
    except where ``CONJUNCTIVE_TYPES`` / ``CONJUNCTIVE_SERVICES`` say each is needed.
    """
    entry = privilege(action)
    if entry is None:
        return []
    required = {t for t, v in entry["resource_types"].items() if t and v["required"]}
    if not required:
        return []
    explicit = CONJUNCTIVE_TYPES.get(action.lower())
    if explicit is not None:
        return explicit
    if action.partition(":")[0].lower() in CONJUNCTIVE_SERVICES:
        return [{t} for t in sorted(required)]
    return [required]


def type_arn(action: str, resource_type: str) -> str | None:
    prefix = action.partition(":")[0]
    svc = service(prefix)
    if svc is None:
        return None
    real = svc["resources_lower_name"].get(resource_type.lower(), resource_type)
    entry = svc["resources"].get(real)
    return None if entry is None else str(entry["arn"])


def condition_keys_of(prefix: str) -> list[str]:
    """Every condition key the SAR lists for a service: service-wide, per privilege, per
    resource type."""
    svc = service(prefix)
    if svc is None:
        return []
    keys = set(svc["conditions"])
    for entry in svc["privileges"].values():
        for resource in entry["resource_types"].values():
            keys.update(resource["condition_keys"])
    for resource in svc["resources"].values():
        keys.update(resource["condition_keys"])
    return sorted(keys)


@functools.cache
def _key_regex(prefix: str) -> re.Pattern[str]:
    parts = []
    for key in condition_keys_of(prefix):
        # ${TagKey}, ${EncryptionContextKey}, <key>: any suffix
        parts.append(re.sub(r"\\\$\\\{[^}]*\\\}|<[^>]*>|\\<[^>]*\\>", ".+", re.escape(key)))
    return re.compile("|".join(parts) or "(?!)", re.IGNORECASE)


def condition_key_exists(key: str, prefixes: Iterable[str]) -> bool:
    lower = key.lower()
    if lower in GLOBAL_KEYS or lower.startswith(GLOBAL_KEY_PREFIXES):
        return True
    prefix = lower.partition(":")[0]
    if prefix not in {p.lower() for p in prefixes} and prefix != "aws":
        return False
    return _key_regex(prefix).fullmatch(key) is not None


# ---- ARN patterns ---------------------------------------------------------------------------

_STAR, _SEG = "\x00", "\x01"


def _type_tokens(arn_format: str) -> tuple[str, ...]:
    """A SAR ARN format as tokens: partition, Region and account are one colon-free segment;
    any other ``${Variable}`` is anything."""
    out: list[str] = []
    for piece in re.split(r"(\$\{[^}]*\})", arn_format):
        if piece in ("${Partition}", "${Region}", "${Account}"):
            out.append(_SEG)
        elif piece.startswith("${"):
            out.append(_STAR)
        else:
            out.extend(piece)
    return tuple(out)


def _arn_tokens(arn: str) -> tuple[str, ...]:
    return tuple(_STAR if c in "*?" else c for c in arn)


def _segments(arn: str) -> list[str] | None:
    """An ARN's six colon-separated parts (the resource part may hold colons), or None."""
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 else None


def overlaps(granted: str, arn_format: str) -> bool:
    """True if the granted resource pattern matches at least one ARN of ``arn_format``.

    IAM matches an ARN segment by segment: a ``*`` in the Region or account segment stays in
    that segment ("IAM JSON policy elements: Resource", https://docs.aws.amazon.com/IAM/latest/
    UserGuide/reference_policies_elements_resource.html); only in the resource part may it span
    ``:`` and ``/``."""
    if granted == "*":
        return True
    ours, theirs = _segments(granted), _segments(arn_format)
    if ours is None or theirs is None:
        return _intersects(_arn_tokens(granted), _type_tokens(arn_format))
    return all(
        _intersects(_arn_tokens(a), _type_tokens(b)) for a, b in zip(ours, theirs, strict=True)
    )


@functools.cache
def _intersects(p: tuple[str, ...], q: tuple[str, ...]) -> bool:
    @functools.cache
    def go(i: int, j: int) -> bool:
        if i == len(p) and j == len(q):
            return True
        if i < len(p) and p[i] == _STAR and (go(i + 1, j) or (j < len(q) and go(i, j + 1))):
            return True
        if j < len(q) and q[j] in (_STAR, _SEG):
            if go(i, j + 1):
                return True
            if i < len(p) and (q[j] == _STAR or p[i] != ":") and go(i + 1, j):
                return True
        if i < len(p) and j < len(q) and p[i] not in (_STAR,) and q[j] not in (_STAR, _SEG):
            return p[i] == q[j] and go(i + 1, j + 1)
        return False

    return go(0, 0)


def arn_overlaps(a: str, b: str) -> bool:
    """Two IAM resource patterns (``*`` wildcards) that match a common ARN (segment by
    segment, as ``overlaps``)."""
    if "*" in (a, b):
        return True
    ours, theirs = _segments(a), _segments(b)
    if ours is None or theirs is None:
        return _intersects(_arn_tokens(a), _arn_tokens(b))
    return all(
        _intersects(_arn_tokens(x), _arn_tokens(y)) for x, y in zip(ours, theirs, strict=True)
    )


# ---- the template ---------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Template:
    """A synthesized template, its tokens resolved to test values."""

    def __init__(self, raw: dict[str, Any], warnings: Iterable[str] = ()) -> None:
        self.raw = raw
        self.resources: dict[str, Any] = raw.get("Resources", {})
        self.warnings = list(warnings)
        self._documents: list[Document] | None = None
        self.fallbacks = 0
        self.unreadable: list[str] = []

    def of_type(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") in types:
                yield logical_id, resource.get("Properties", {})

    def _unreadable(self) -> str:
        """A token naming nothing the checker can read: ``*``, counted, so that a policy
        resource built from one is reported instead of matching everything."""
        self.fallbacks += 1
        return "*"

    def resource(self, value: Any) -> str:
        """A policy resource; one the checker cannot read is recorded in ``unreadable``."""
        before = self.fallbacks
        resolved = self.resolve(value)
        if self.fallbacks > before:
            self.unreadable.append(json.dumps(value, sort_keys=True)[:160])
        return resolved

    def resolve(self, value: Any) -> str:
        """A value as a string; a token that names no resource of the template is ``*``."""
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float, bool)):
            return json.dumps(value)
        if not isinstance(value, dict) or len(value) != 1:
            return self._unreadable()
        [(function, argument)] = value.items()
        if function == "Ref":
            return self._ref(str(argument))
        if function == "Fn::GetAtt":
            logical_id, attribute = (
                argument.split(".", 1) if isinstance(argument, str) else argument
            )
            return self._get_att(logical_id, str(attribute))
        if function == "Fn::Join":
            delimiter, items = argument
            return str(delimiter).join(self.resolve(i) for i in items)
        if function == "Fn::Sub" and isinstance(argument, str):
            return re.sub(
                r"\$\{([^}!]+)\}",
                lambda m: self.resolve(
                    {"Fn::GetAtt": m.group(1)} if "." in m.group(1) else {"Ref": m.group(1)}
                ),
                argument,
            )
        return self._unreadable()

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Partition": PARTITION,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        resource = self.resources.get(name)
        if resource is None:
            return self._unreadable()
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind in ("AWS::SNS::Topic", "AWS::StepFunctions::StateMachine"):
            return self._get_att(name, "Arn")
        if kind == "AWS::S3::Bucket":
            return str(props.get("BucketName", name.lower()))
        if kind == "AWS::IAM::Role":
            return str(props.get("RoleName", name))
        return name if kind in ("AWS::KMS::Key", "AWS::Lambda::Function") else "*"

    def _get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None:
            return self._unreadable()
        kind, props = resource["Type"], resource.get("Properties", {})
        head = f"arn:{PARTITION}"
        name = props if isinstance(props, dict) else {}
        arns = {
            "AWS::IAM::Role": f"{head}:iam::{ACCOUNT}:role/{name.get('RoleName', logical_id)}",
            "AWS::KMS::Key": f"{head}:kms:{REGION}:{ACCOUNT}:key/{logical_id}",
            "AWS::S3::Bucket": f"{head}:s3:::{name.get('BucketName', logical_id.lower())}",
            "AWS::SNS::Topic": f"{head}:sns:{REGION}:{ACCOUNT}:{name.get('TopicName', logical_id)}",
            "AWS::StepFunctions::StateMachine": f"{head}:states:{REGION}:{ACCOUNT}:stateMachine:"
            f"{name.get('StateMachineName', logical_id)}",
            "AWS::Lambda::Function": f"{head}:lambda:{REGION}:{ACCOUNT}:function:{logical_id}",
            "AWS::Logs::LogGroup": f"{head}:logs:{REGION}:{ACCOUNT}:log-group:"
            f"{name.get('LogGroupName', logical_id)}:*",
            "AWS::Events::Rule": f"{head}:events:{REGION}:{ACCOUNT}:rule/"
            f"{name.get('Name', logical_id)}",
            "AWS::CleanRoomsML::TrainingDataset": f"{head}:cleanrooms-ml:{REGION}:{ACCOUNT}:"
            f"training-dataset/{logical_id}",
        }
        if kind in arns and (attribute.endswith("Arn") or attribute == "Arn"):
            return arns[kind]
        prefix = handler_resource_services().get(kind)
        if prefix and attribute.endswith("Arn"):
            # Custom::CleanRoomsMLAudienceModel.AudienceModelArn -> ...:audience-model/<id>
            noun = re.sub(r"(?<!^)(?=[A-Z])", "-", attribute[: -len("Arn")]).lower()
            if noun in ("job", "") and prefix == "bedrock":
                noun = "model-invocation-job"
            return f"{head}:{prefix}:{REGION}:{ACCOUNT}:{noun}/{logical_id}"
        return self._unreadable()

    # -- policy documents --

    def documents(self) -> list[Document]:
        if self._documents is None:
            self._documents = self._find_documents()
        return self._documents

    def _find_documents(self) -> list[Document]:
        found: list[Document] = []
        for logical_id, props in self.of_type("AWS::IAM::Role"):
            trust = props.get("AssumeRolePolicyDocument")
            if trust:
                found.append(Document(f"{logical_id} (trust)", "trust", _statements(trust)))
            for policy in props.get("Policies", []):
                found.append(
                    Document(
                        f"{logical_id} (inline {policy.get('PolicyName')})",
                        "identity",
                        _statements(policy["PolicyDocument"]),
                        (logical_id,),
                    )
                )
        for logical_id, props in self.of_type("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            roles = tuple(
                r["Ref"] for r in props.get("Roles", []) if isinstance(r, dict) and "Ref" in r
            )
            found.append(
                Document(logical_id, "identity", _statements(props["PolicyDocument"]), roles)
            )
        resource_policies = {
            "AWS::KMS::Key": "KeyPolicy",
            "AWS::S3::BucketPolicy": "PolicyDocument",
            "AWS::SNS::TopicPolicy": "PolicyDocument",
            "AWS::SNS::TopicInlinePolicy": "PolicyDocument",
            "AWS::SQS::QueuePolicy": "PolicyDocument",
        }
        for kind, key in resource_policies.items():
            for logical_id, props in self.of_type(kind):
                if key in props:
                    found.append(Document(logical_id, "resource", _statements(props[key])))
        return found

    def role_statements(self, role: str) -> list[dict[str, Any]]:
        """Every statement of the identity policies attached to ``role`` (a logical id)."""
        return [s for d in self.documents() if role in d.roles for s in d.statements]

    def role_of_arn(self, arn: str) -> str | None:
        """The logical id of the template's role an ARN names (``role/<name or logical id>``)."""
        name = arn.rpartition("/")[2]
        for logical_id, props in self.of_type("AWS::IAM::Role"):
            if name in (logical_id, props.get("RoleName")):
                return logical_id
        return None

    def trusted_services(self, role: str) -> set[str]:
        props = self.resources[role].get("Properties", {})
        services: set[str] = set()
        for statement in _statements(props.get("AssumeRolePolicyDocument", {})):
            principal = statement.get("Principal", {})
            if isinstance(principal, dict):
                services.update(self.resolve(s) for s in _as_list(principal.get("Service")))
        return services

    def handler_role(self) -> str | None:
        for _, props in self.of_type("AWS::Lambda::Function"):
            if props.get("Handler") == handler_entry_point():
                role = props.get("Role", {})
                if isinstance(role, dict) and "Fn::GetAtt" in role:
                    return str(role["Fn::GetAtt"][0])
        return None


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _principal_services(template: Template, statement: dict[str, Any]) -> set[str]:
    principal = statement.get("Principal", {})
    if not isinstance(principal, dict):
        return set()
    return {template.resolve(s) for s in _as_list(principal.get("Service"))}


# ---- statements -----------------------------------------------------------------------------


def check_statement(
    template: Template, document: Document, index: int, statement: dict[str, Any], figures: Figures
) -> list[Finding]:
    """Actions and condition keys of one statement (resource types: ``check_required_types``)."""
    where = f"{document.where} statement {index}" + (
        f" ({statement['Sid']})" if "Sid" in statement else ""
    )
    findings: list[Finding] = []
    actions = [str(a) for a in _as_list(statement.get("Action") or statement.get("NotAction"))]
    prefixes = {a.partition(":")[0].lower() for a in actions if ":" in a}
    concrete: list[str] = []
    for action in actions:
        if action == "*":
            continue
        if ":" not in action or service(action.partition(":")[0]) is None:
            findings.append(Finding(where, f"{action}: no such service prefix in the SAR"))
            continue
        if "*" in action or "?" in action:
            if not expand(action):
                findings.append(Finding(where, f"{action}: matches no action of the service"))
            figures.actions.update(expand(action))
            continue
        if privilege(action) is None:
            findings.append(Finding(where, f"{action}: no such action in the SAR"))
            continue
        figures.actions.add(action.lower())
        concrete.append(action)
    findings += _check_conditions(where, statement, prefixes)
    return findings


def check_required_types(template: Template) -> list[Finding]:
    """Each principal's grant of an action covers every required resource type of the action.

    A request is authorized resource by resource, and each of its resources may be allowed by a
    different statement: the resources of every Allow statement of the principal (a role: all
    its identity policies; an unattached policy: itself) that grants the action count together.
    """
    grantees: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for document in template.documents():
        if document.kind != "identity":
            continue
        for owner in document.roles or (document.where,):
            grantees.setdefault(owner, []).extend(
                (f"{document.where} statement {i}", s) for i, s in enumerate(document.statements)
            )
    findings = []
    for owner, statements in grantees.items():
        granted: dict[str, tuple[list[str], list[str]]] = {}
        for where, statement in statements:
            if statement.get("Effect") != "Allow" or "Action" not in statement:
                continue
            resources = (
                [template.resource(r) for r in _as_list(statement["Resource"])]
                if "Resource" in statement
                else ["*"]
            )
            for action in _as_list(statement["Action"]):
                if "*" in str(action) or privilege(str(action)) is None:
                    continue  # wildcard actions: no single set of types; unknown: reported
                wheres, found = granted.setdefault(str(action).lower(), ([], []))
                wheres.append(where)
                found.extend(resources)
        for action, (wheres, resources) in sorted(granted.items()):
            name = (privilege(action) or {}).get("privilege", action)
            for group in required_type_groups(action):
                formats = [f for f in (type_arn(action, t) for t in sorted(group)) if f]
                if not any(overlaps(r, f) for r in resources for f in formats):
                    findings.append(
                        Finding(
                            f"{owner} ({', '.join(wheres)})",
                            f"{name} ({action.partition(':')[0]}) "
                            f"requires a resource of type {' or '.join(sorted(group))} "
                            f"({' | '.join(formats)}); the grants cover only "
                            f"{sorted(set(resources))}",
                        )
                    )
    return findings


def _check_conditions(where: str, statement: dict[str, Any], prefixes: set[str]) -> list[Finding]:
    findings = []
    for operator, block in (statement.get("Condition") or {}).items():
        base = re.sub(r"^(ForAnyValue|ForAllValues):", "", operator)
        base = base[: -len("IfExists")] if base.endswith("IfExists") else base
        if base.lower() not in _OPERATORS:
            findings.append(Finding(where, f"unknown condition operator {operator}"))
        for key in block if isinstance(block, dict) else {}:
            if not condition_key_exists(key, prefixes):
                findings.append(
                    Finding(
                        where,
                        f"condition key {key} is neither a global key nor a key of "
                        f"{sorted(prefixes)} in the SAR",
                    )
                )
    return findings


def grants(
    template: Template,
    statements: list[dict[str, Any]],
    action: str,
    resource: str | None = None,
) -> list[dict[str, Any]]:
    """The Allow statements that grant ``action`` (on a resource overlapping ``resource``)."""
    found = []
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        if not any(action_matches(str(a), action) for a in _as_list(statement.get("Action"))):
            continue
        if resource is not None:
            granted = [template.resource(r) for r in _as_list(statement.get("Resource"))]
            if not any(arn_overlaps(g, resource) for g in granted):
                continue
        found.append(statement)
    return found


# ---- roles passed to services ---------------------------------------------------------------


@dataclass(frozen=True)
class Pass:
    where: str
    passer: str | None  # role logical id
    role_arn: str  # "*" when the definition takes it from its input
    service: str  # service principal


def _role_arns(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if re.fullmatch(r"(?i)role_?arn(\.\$)?", str(key)):
                yield f"{path}.{key}", item
            else:
                yield from _role_arns(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _role_arns(item, f"{path}[{i}]")


def _principal_of(prefix: str) -> str:
    return f"{prefix}.amazonaws.com"


def check_pass(template: Template, passed: Pass) -> list[Finding]:
    findings = []
    where = f"{passed.where}: role {passed.role_arn} passed to {passed.service}"
    if passed.passer is None:
        return [Finding(where, "no role of the template passes it (no handler role?)")]
    statements = template.role_statements(passed.passer)
    covering = grants(template, statements, "iam:PassRole", passed.role_arn)
    with_service = [
        s
        for s in covering
        if passed.service
        in {
            template.resolve(v)
            for op, block in (s.get("Condition") or {}).items()
            if op.lower().startswith(("stringequals", "stringlike"))
            for v in _as_list(block.get("iam:PassedToService"))
        }
    ]
    if not covering:
        findings.append(Finding(where, f"{passed.passer} is not granted iam:PassRole on it"))
    elif not with_service:
        findings.append(
            Finding(
                where,
                f"{passed.passer}'s iam:PassRole on it does not name "
                f"iam:PassedToService {passed.service}",
            )
        )
    role = template.role_of_arn(passed.role_arn) if passed.role_arn != "*" else None
    if role is not None and passed.service not in template.trusted_services(role):
        findings.append(Finding(where, f"{role}'s trust policy does not trust {passed.service}"))
    return findings


def passes(template: Template) -> list[Pass]:
    found = []
    services = handler_resource_services()
    handler = template.handler_role()
    for logical_id, resource in template.resources.items():
        kind = resource.get("Type", "")
        if not (kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource"):
            continue
        props = resource.get("Properties", {})
        for path, value in _role_arns({k: v for k, v in props.items() if k != "ServiceToken"}):
            arn = template.resolve(value)
            prefix = services.get(kind)
            role = template.role_of_arn(arn)
            targets = (
                {_principal_of(prefix)}
                if prefix
                else (template.trusted_services(role) if role else set())
            )
            for target in sorted(targets) or ["<unknown service>"]:
                found.append(Pass(f"{logical_id}{path}", handler, arn, target))
    for machine in state_machines(template):
        for name, state in machine.tasks:
            task = parse_task(str(state.get("Resource", "")))
            if task is None or task.sdk_prefix is None:
                continue
            arguments = state.get("Parameters") or state.get("Arguments") or {}
            for members in _role_members(task.sdk_service, task.operation):
                given = _follow(arguments, members)
                if given is None:
                    continue
                role = template.role_of_arn(given) if given.startswith("arn:") else None
                found.append(
                    Pass(
                        f"{machine.logical_id} state {name!r} {'.'.join(members)}",
                        machine.role,
                        template._get_att(role, "Arn") if role else given,
                        _principal_of(task.sdk_prefix),
                    )
                )
    return found


def _role_members(sdk_service: str | None, operation: str | None) -> list[tuple[str, ...]]:
    """Paths (PascalCase, as Step Functions spells them) of the request members of an SDK
    operation that carry a role ARN (``roleArn`` anywhere in its input shape)."""
    if sdk_service is None or operation is None:
        return []
    model = service_model(_SFN_SERVICE_ALIASES.get(sdk_service, sdk_service))
    found: list[tuple[str, ...]] = []

    def walk(shape: Any, path: tuple[str, ...], depth: int) -> None:
        if shape is None or depth > 8 or shape.type_name != "structure":
            return
        for member, inner in shape.members.items():
            pascal = member[:1].upper() + member[1:]
            if re.fullmatch(r"(?i)role_?arn", member):
                found.append((*path, pascal))
            walk(inner, (*path, pascal), depth + 1)

    walk(model.operation_model(operation).input_shape, (), 0)
    return found


def _follow(arguments: Any, path: tuple[str, ...]) -> str | None:
    """The role ARN a task passes at ``path``: the literal ARN, ``*`` when the definition takes
    it (or an object holding it) from its state, None when the task does not give it."""
    node = arguments
    for member in path:
        if not isinstance(node, dict):
            return "*"
        if member in node:
            node = node[member]
        elif f"{member}.$" in node:
            return "*"
        else:
            return None
    return node if isinstance(node, str) and node.startswith("arn:") else "*"


# ---- Step Functions -------------------------------------------------------------------------


@dataclass
class Machine:
    logical_id: str
    role: str | None
    definition: dict[str, Any]
    tasks: list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Task:
    actions: tuple[str, ...]
    #: IAM prefix of an SDK task's service (it receives the roles the task passes).
    sdk_prefix: str | None = None
    sdk_service: str | None = None
    operation: str | None = None


def state_machines(template: Template) -> list[Machine]:
    found = []
    for logical_id, props in template.of_type("AWS::StepFunctions::StateMachine"):
        if "DefinitionString" in props:
            name = props.get("StateMachineName")
            try:
                text = definition_of(template.raw, name) if name else None
            except (AssertionError, ValueError):
                text = None
            if text is None:
                body = props["DefinitionString"]
                parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
                text = "".join(template.resolve(p) for p in parts)
            definition = json.loads(text)
        else:
            definition = props.get("Definition", {})
        role = props.get("RoleArn")
        role_id = (
            str(role["Fn::GetAtt"][0]) if isinstance(role, dict) and "Fn::GetAtt" in role else None
        )
        found.append(Machine(logical_id, role_id, definition, list(_tasks(definition))))
    return found


def _tasks(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition.get("States", {}).items():
        if state.get("Type") == "Task":
            yield name, state
        for inner in (state.get("ItemProcessor"), state.get("Iterator")):
            if inner:
                yield from _tasks(inner)
        for branch in state.get("Branches", []):
            yield from _tasks(branch)


def parse_task(resource: str) -> Task | None:
    """The IAM actions a Task ``Resource`` needs (None: an integration this table lacks)."""
    sdk = re.fullmatch(
        r"arn:[^:]+:states:::aws-sdk:([a-z0-9]+):(\w+)(\.waitForTaskToken)?", resource
    )
    if sdk:
        prefix = iam_prefix(sdk.group(1))
        action = sdk.group(2)[:1].upper() + sdk.group(2)[1:]
        return Task((f"{prefix}:{action}",), prefix, sdk.group(1), action)
    optimized = re.fullmatch(r"arn:[^:]+:states:::([a-z]+):(\w+)((?:\.\w+)(?::2)?)?", resource)
    if optimized:
        service_name, api, mode = optimized.groups()
        if service_name == "states" and api == "startExecution":
            return Task(
                ("states:StartExecution", *(_SYNC_EXTRA if mode and "sync" in mode else ()))
            )
        if service_name == "events" and api == "putEvents":
            return Task(("events:PutEvents",))
        if service_name == "lambda" and api == "invoke":
            return Task(("lambda:InvokeFunction",))
        return None
    if re.fullmatch(r"arn:[^:]+:lambda:[^:]*:[^:]*:function:.+", resource):
        return Task(("lambda:InvokeFunction",))
    return None


def iam_prefix(sdk_service: str) -> str:
    """A Step Functions / botocore service name -> its IAM prefix (the model's signing name)."""
    name = _SFN_SERVICE_ALIASES.get(sdk_service, sdk_service)
    metadata = service_model(name).metadata
    return str(metadata.get("signingName") or metadata["endpointPrefix"])


def check_state_machine(template: Template, machine: Machine, figures: Figures) -> list[Finding]:
    findings = []
    statements = template.role_statements(machine.role) if machine.role else []
    for name, state in machine.tasks:
        figures.tasks += 1
        resource = str(state.get("Resource", ""))
        where = f"{machine.logical_id} state {name!r} ({resource})"
        task = parse_task(resource)
        if task is None:
            findings.append(Finding(where, "an integration the checker does not know"))
            continue
        arguments = state.get("Parameters") or state.get("Arguments") or {}
        target = arguments.get("StateMachineArn") if "startExecution" in resource else None
        target = target if isinstance(target, str) and target.startswith("arn:") else None
        for action in task.actions:
            if privilege(action) is None:
                findings.append(Finding(where, f"{action}: no such action in the SAR"))
                continue
            on = target if action == "states:StartExecution" and isinstance(target, str) else None
            if not grants(template, statements, action, on):
                findings.append(
                    Finding(
                        where,
                        f"the state machine's role {machine.role} is not granted {action}"
                        + (f" on {on}" if on else ""),
                    )
                )
    return findings


# ---- the custom-resource handler -------------------------------------------------------------


@functools.cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.Loader(extra_search_paths=[str(LAMBDA_DIR / "models")])


@functools.cache
def service_model(name: str) -> botocore.model.ServiceModel:
    """A botocore service model, the handler's bundled copy first (lambda/models)."""
    return botocore.model.ServiceModel(_loader().load_service_model(name, "service-2"), name)


def _module_ast(name: str) -> ast.Module:
    return ast.parse((LAMBDA_DIR / f"{name}.py").read_text())


def _constants(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found[node.targets[0].id] = node.value.value
    return found


def handler_entry_point() -> str:
    return "handler.on_event"


@functools.cache
def handler_resource_services() -> dict[str, str]:
    """Custom resource type -> IAM prefix of the service its handler module calls."""
    found = {}
    for path in sorted(LAMBDA_DIR.glob("*.py")):
        constants = _constants(_module_ast(path.stem))
        if "RESOURCE_TYPE" in constants and "SERVICE" in constants:
            found[constants["RESOURCE_TYPE"]] = iam_prefix(constants["SERVICE"])
    return found


def _imports(name: str) -> set[str]:
    """``name`` and the lambda/ modules it imports, transitively (the entry point excluded)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current == "handler":
            continue
        seen.add(current)
        for node in ast.walk(_module_ast(current)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            todo += [n for n in names if (LAMBDA_DIR / f"{n}.py").is_file()]
    return seen


def _operations_in(
    modules: Iterable[str], model: botocore.model.ServiceModel, *, by_name: bool = True
) -> set[str]:
    """Operations of ``model`` a module calls: ``client.<snake_name>(...)`` or by its API name
    (``call(client, "ListTagsForResource", ...)``, ``CREATE_OPERATION = "..."``)."""
    by_snake = {botocore.xform_name(op): op for op in model.operation_names}
    names = set(model.operation_names)
    found = set()
    for module in modules:
        for node in ast.walk(_module_ast(module)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in by_snake
            ):
                found.add(by_snake[node.func.attr])
            if by_name and isinstance(node, ast.Constant) and node.value in names:
                found.add(str(node.value))
    return found


@functools.cache
def handler_calls() -> dict[str, dict[str, set[str]]]:
    """Custom resource type -> {"always": IAM actions, "tracker": IAM actions made only when
    the handler's environment names the job-status state machine}."""
    handler = _module_ast("handler")
    client_services = {
        str(node.args[0].value)
        for node in ast.walk(handler)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "client"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    tracking = _constants(_module_ast("tracking"))
    assert "STATE_MACHINE_ENV" in tracking
    found: dict[str, dict[str, set[str]]] = {}
    for path in sorted(LAMBDA_DIR.glob("*.py")):
        constants = _constants(_module_ast(path.stem))
        if "RESOURCE_TYPE" not in constants:
            continue
        modules = _imports(path.stem)
        own = constants["SERVICE"]
        calls: dict[str, set[str]] = {"always": set(), "tracker": set()}
        model = service_model(own)
        calls["always"] = {f"{iam_prefix(own)}:{op}" for op in _operations_in(modules, model)}
        for sdk_service in client_services - {own}:
            # the Step Functions client the handler hands to the module reading the tracker's
            # environment variable: its `client.<snake_name>(...)` calls
            model = service_model(sdk_service)
            ops = (
                _operations_in(["tracking"], model, by_name=False)
                if "tracking" in modules
                else set()
            )
            calls["tracker"] |= {f"{iam_prefix(sdk_service)}:{op}" for op in ops}
        found[constants["RESOURCE_TYPE"]] = calls
    return found


def tracker_env() -> str:
    return _constants(_module_ast("tracking"))["STATE_MACHINE_ENV"]


def check_handler(template: Template, figures: Figures) -> list[Finding]:
    role = template.handler_role()
    types = {r["Type"] for r in template.resources.values()} & set(handler_calls())
    if not types:
        return []
    if role is None:
        return [Finding("handler", f"custom resources {sorted(types)} but no handler role")]
    env: dict[str, Any] = {}
    for _, props in template.of_type("AWS::Lambda::Function"):
        if props.get("Handler") == handler_entry_point():
            env = props.get("Environment", {}).get("Variables", {})
    statements = template.role_statements(role)
    findings = []
    for kind in sorted(types):
        calls = handler_calls()[kind]
        needed = calls["always"] | (calls["tracker"] if tracker_env() in env else set())
        for action in sorted(needed):
            figures.handler_calls += 1
            if privilege(action) is None:
                findings.append(Finding(f"handler ({kind})", f"{action}: not in the SAR"))
            elif not grants(template, statements, action):
                findings.append(
                    Finding(f"handler ({kind})", f"the handler role {role} is not granted {action}")
                )
    return findings


# ---- alarm topics and keys used by service principals ----------------------------------------


def _refs(value: Any) -> Iterator[str]:
    """Logical ids a value refers to."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            yield (target.split(".")[0] if isinstance(target, str) else target[0])
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _warned(template: Template, warning_id: str) -> bool:
    return any(warning_id in w for w in template.warnings)


def alarm_topics(template: Template) -> list[tuple[str, str]]:
    """(alarm, topic logical id or imported ARN) for every alarm action that is a topic."""
    found = []
    topics = {lid for lid, _ in template.of_type("AWS::SNS::Topic")}
    for alarm, props in template.of_type("AWS::CloudWatch::Alarm"):
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            for action in _as_list(props.get(key)):
                named = [r for r in _refs(action) if r in topics]
                if named:
                    found += [(alarm, t) for t in named]
                elif ":sns:" in template.resolve(action):
                    found.append((alarm, template.resolve(action)))
    return found


def check_alarm_topics(template: Template, figures: Figures) -> list[Finding]:
    findings = []
    for alarm, topic in sorted(set(alarm_topics(template))):
        figures.alarm_topics += 1
        where = f"{alarm} notifies {topic}"
        if topic not in template.resources:
            if not _warned(template, "cleanrooms-ml-cdk:imported-topic-policy"):
                findings.append(Finding(where, "an imported topic, and no synth warning says so"))
            continue
        statements = [
            s
            for kind in ("AWS::SNS::TopicPolicy", "AWS::SNS::TopicInlinePolicy")
            for _, props in template.of_type(kind)
            if topic in set(_refs(props.get("Topics", props.get("TopicArn"))))
            for s in _statements(props["PolicyDocument"])
        ]
        allowed = [
            s
            for s in grants(template, statements, "sns:Publish")
            if "cloudwatch.amazonaws.com" in _principal_services(template, s)
        ]
        if not allowed:
            findings.append(
                Finding(
                    where, "the topic policy does not allow cloudwatch.amazonaws.com to Publish"
                )
            )
        key = template.resources[topic].get("Properties", {}).get("KmsMasterKeyId")
        if key is not None:
            findings += _check_key_user(template, key, "cloudwatch.amazonaws.com", where, figures)
    return findings


#: What a service needs of a key to read and write data under it (KMS developer guide).
_KEY_USE = ("kms:Decrypt", "kms:GenerateDataKey")


def _check_key_user(
    template: Template, key: Any, principal: str, where: str, figures: Figures
) -> list[Finding]:
    figures.keys_used += 1
    keys = {lid for lid, _ in template.of_type("AWS::KMS::Key")}
    named = [r for r in _refs(key) if r in keys]
    if isinstance(key, str):
        named += [lid for lid in keys if key.endswith(f":key/{lid}")]
    if not named:
        if _warned(template, "cleanrooms-ml-cdk:imported-key-policy"):
            return []
        return [
            Finding(
                where,
                f"key {template.resolve(key)} of another stack used by {principal} "
                "and no cleanrooms-ml-cdk:imported-key-policy warning",
            )
        ]
    findings = []
    for lid in named:
        statements = [
            s
            for s in _statements(template.resources[lid]["Properties"].get("KeyPolicy", {}))
            if principal in _principal_services(template, s)
        ]
        missing = [a for a in _KEY_USE if not grants(template, statements, a)]
        if missing:
            findings.append(
                Finding(where, f"key policy of {lid} does not allow {principal} {missing}")
            )
    return findings


def key_users(template: Template) -> list[tuple[str, Any, str]]:
    """(where, key reference, service principal) for every key a service principal uses."""
    found: list[tuple[str, Any, str]] = []
    services = handler_resource_services()
    kms_arn = re.compile(r"arn:[^:]+:kms:")
    keys = {lid for lid, _ in template.of_type("AWS::KMS::Key")}
    for logical_id, resource in template.resources.items():
        kind, props = resource.get("Type", ""), resource.get("Properties", {})
        prefix = services.get(kind) or (
            "cleanrooms-ml" if kind.startswith("AWS::CleanRoomsML::") else None
        )
        if prefix:
            for ref in sorted(set(_refs(props)) & keys):
                found.append((logical_id, {"Ref": ref}, _principal_of(prefix)))
            for text in _strings(props):
                if kms_arn.match(text):
                    found.append((logical_id, text, _principal_of(prefix)))
        if kind == "AWS::Logs::LogGroup" and "KmsKeyId" in props:
            found.append((logical_id, props["KmsKeyId"], f"logs.{REGION}.amazonaws.com"))
    for machine in state_machines(template):
        for name, state in machine.tasks:
            task = parse_task(str(state.get("Resource", "")))
            if task is None or task.sdk_prefix is None:
                continue
            for text in _strings(state.get("Parameters") or state.get("Arguments") or {}):
                if kms_arn.match(text):
                    found.append(
                        (
                            f"{machine.logical_id} state {name!r}",
                            text,
                            _principal_of(task.sdk_prefix),
                        )
                    )
    return found


def check_keys(template: Template, figures: Figures) -> list[Finding]:
    findings = []
    for where, key, principal in key_users(template):
        findings += _check_key_user(template, key, principal, f"{where} uses a key", figures)
    return findings


# ---- everything ------------------------------------------------------------------------------


def check_template(
    raw: dict[str, Any], warnings: Iterable[str] = (), figures: Figures | None = None
) -> list[Finding]:
    """Every finding of one synthesized template (``warnings``: the stack's synth warnings)."""
    figures = figures if figures is not None else Figures()
    template = Template(raw, warnings)
    findings: list[Finding] = []
    for document in template.documents():
        figures.policies += 1
        for index, statement in enumerate(document.statements):
            figures.statements += 1
            findings += check_statement(template, document, index, statement, figures)
    findings += check_required_types(template)
    for passed in passes(template):
        figures.passes += 1
        findings += check_pass(template, passed)
    for machine in state_machines(template):
        findings += check_state_machine(template, machine, figures)
    findings += check_handler(template, figures)
    findings += check_alarm_topics(template, figures)
    findings += check_keys(template, figures)
    findings += [
        Finding(
            "policy resource",
            f"a token the checker cannot read (it would match anything): {value}",
        )
        for value in sorted(set(template.unreadable))
    ]
    return findings


def synth_warnings(outdir: Path, stack_name: str) -> list[str]:
    """The warnings a synthesized stack carries (its cloud-assembly metadata)."""
    artifact = json.loads((outdir / "manifest.json").read_text())["artifacts"][stack_name]
    metadata = dict(artifact.get("metadata", {}))
    if artifact.get("additionalMetadataFile"):
        metadata.update(json.loads((outdir / artifact["additionalMetadataFile"]).read_text()))
    return [
        json.dumps(entry.get("data"))
        for entries in metadata.values()
        for entry in entries
        if entry.get("type") == "aws:cdk:warning"
    ]
