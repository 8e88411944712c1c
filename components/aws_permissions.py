"""Which AWS permissions the platform's stacks need, derived from what they register.

One table, `PERMISSIONS`, maps every Pulumi type token the dev/uat/prod stacks register (and
every data source they invoke) to the IAM service prefixes its create/read/update/delete calls
need. The GitHub deploy roles get `<prefix>:*` for the union of those prefixes
(`deploy_statements`), so a new resource type cannot reach `pulumi up` without its service: a
test fails on any registered type the table lacks (the MSK storage autoscaling of issue 14 needed
`application-autoscaling`, which a hand-written service list had missed). The preview roles get
the written-out read actions of the same prefixes (`READ_ACTIONS`) and an explicit Deny of
`DATA_READ_ACTIONS`: a pull request's code runs with the preview role, so it may read what a
refresh reads (configuration, never data) and nothing else — unlike AWS's `ReadOnlyAccess`,
which includes `logs:GetLogEvents`, `s3:GetObject`, `sqs:ReceiveMessage`, `rds:Download*`.

Pure: no Pulumi resources, only tables and policy documents (dicts).

Sources (AWS Service Authorization Reference, "Actions, resources, and condition keys for …"):
Amazon EC2; Amazon EC2 Auto Scaling; Application Auto Scaling; AWS Backup; AWS Backup storage;
Amazon CloudWatch; Amazon CloudWatch Logs; Amazon EventBridge; Amazon Elastic Kubernetes
Service; Amazon ElastiCache; AWS Identity and Access Management (IAM); AWS Key Management
Service; Amazon Managed Streaming for Apache Kafka (`kafka`); Apache Kafka APIs for Amazon MSK
clusters (`kafka-cluster`); Amazon RDS; Amazon RDS IAM Authentication (`rds-db`); Amazon RDS Data
API (`rds-data`); Amazon Route 53; Amazon S3; AWS Secrets Manager; Amazon SQS; AWS Systems
Manager; Amazon Kinesis Data Streams; Amazon Elastic Container Registry; AWS Security Token
Service. Where a create call needs another service, the source is the action's "Dependent
actions" column there, or the service guide named in the row's note.

Not in the table on purpose: WAFv2 (the ALB's web ACL is only named by ARN in an Ingress
annotation; the AWS Load Balancer Controller associates it with its own role), and the load
balancers, target groups and certificates that controller creates. The bootstrap project
(`infra/bootstrap`) runs with an administrator's credentials, not a deploy role.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DATA_READ_ACTIONS",
    "MANAGED_POLICY_MAX_CHARS",
    "PERMISSIONS",
    "PLATFORM_TYPES",
    "READ_ACTIONS",
    "Needs",
    "deploy_statements",
    "needs",
    "policy_size",
    "prefixes",
    "preview_policy",
    "read_actions",
]


@dataclass(frozen=True)
class Needs:
    """What one type token (resource type or data source) needs from AWS.

    Attributes:
        prefixes: IAM service prefixes (`ec2`, `kafka-cluster`, …) whose actions its
            create/read/update/delete calls (or, for a data source, its read) make. Empty:
            it makes no AWS call that IAM can refuse.
        why: the reason for a non-obvious prefix, or for an empty tuple.
        upcoming: the work in progress that will register it (e.g. "karpenter"), empty when
            the stacks register it today. The roles get its prefixes ahead of time, so that
            work's first deploy does not fail on a missing service.
    """

    prefixes: tuple[str, ...]
    why: str = ""
    upcoming: str = ""


_NO_CALLS = "computed by the provider, or in the cluster; no AWS API call"

# Keys are exact type tokens, or `<package>:*` for every type of a package that makes no AWS
# call. Data sources use their invoke token.
PERMISSIONS: dict[str, Needs] = {
    # --- Application Auto Scaling (MSK broker storage) ---
    "aws:appautoscaling/target:Target": Needs(
        ("application-autoscaling", "iam", "kafka"),
        "iam: the first registration creates Application Auto Scaling's service-linked role; "
        "kafka: the caller needs the scalable resource's own permissions (Application Auto "
        "Scaling guide, identity-based policy examples); the stacks scale only MSK storage",
    ),
    "aws:appautoscaling/policy:Policy": Needs(
        ("application-autoscaling", "cloudwatch"),
        "cloudwatch: a target-tracking policy creates its CloudWatch alarms as the caller",
    ),
    # --- AWS Backup ---
    "aws:backup/vault:Vault": Needs(
        ("backup", "backup-storage", "kms"),
        "backup-storage:MountCapsule and kms grants on the vault key (Backup guide, 'Backup "
        "vault creation and deletion'); backup:* does not include backup-storage",
    ),
    "aws:backup/plan:Plan": Needs(("backup",)),
    "aws:backup/selection:Selection": Needs(
        ("backup", "iam"), "iam:PassRole of the role Backup assumes"
    ),
    # --- CloudWatch Logs ---
    "aws:cloudwatch/logGroup:LogGroup": Needs(("logs",)),
    # --- EC2 / VPC ---
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": Needs(("ec2",)),
    "aws:ec2/eip:Eip": Needs(("ec2",)),
    "aws:ec2/flowLog:FlowLog": Needs(
        ("ec2", "iam"), "iam:PassRole of the role that delivers to CloudWatch Logs"
    ),
    "aws:ec2/internetGateway:InternetGateway": Needs(("ec2",)),
    "aws:ec2/launchTemplate:LaunchTemplate": Needs(("ec2",)),
    "aws:ec2/natGateway:NatGateway": Needs(("ec2",)),
    "aws:ec2/route:Route": Needs(("ec2",)),
    "aws:ec2/routeTable:RouteTable": Needs(("ec2",)),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Needs(("ec2",)),
    "aws:ec2/securityGroup:SecurityGroup": Needs(("ec2",)),
    "aws:ec2/subnet:Subnet": Needs(("ec2",)),
    "aws:ec2/vpc:Vpc": Needs(("ec2",)),
    "aws:ec2/vpcEndpoint:VpcEndpoint": Needs(
        ("ec2", "route53"),
        "route53:AssociateVPCWithHostedZone: interface endpoints with private DNS (a "
        "dependent action of ec2:CreateVpcEndpoint)",
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": Needs(("ec2",)),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": Needs(("ec2",)),
    # --- EKS ---
    "eks:index:Cluster": Needs(
        ("eks", "iam", "ec2", "kms"),
        "pulumi-eks creates the EKS cluster, its service role with a policy attachment, the "
        "cluster and node security groups with their rules, and the IAM OIDC provider "
        "(iam:PassRole, CreateRole, CreateOpenIDConnectProvider, and the service-linked "
        "role); kms: secrets encryption grants on the key. Its data sources (partition, "
        "region) call nothing",
    ),
    "aws:eks/accessEntry:AccessEntry": Needs(("eks",)),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": Needs(("eks",)),
    "aws:eks/addon:Addon": Needs(
        ("eks", "iam"), "iam:PassRole of the add-on's Pod Identity role (its association)"
    ),
    "aws:eks/nodeGroup:NodeGroup": Needs(
        ("eks", "ec2", "autoscaling", "iam"),
        "iam:PassRole of the node role (and the node-group service-linked role); ec2: the "
        "launch template; autoscaling: EKS's service-linked role builds the group, kept "
        "so the deployer can inspect and repair it",
    ),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": Needs(
        ("eks", "iam"), "iam:PassRole of the associated role (every workload role)"
    ),
    # --- ElastiCache ---
    "aws:elasticache/parameterGroup:ParameterGroup": Needs(("elasticache",)),
    "aws:elasticache/subnetGroup:SubnetGroup": Needs(("elasticache",)),
    "aws:elasticache/replicationGroup:ReplicationGroup": Needs(
        ("elasticache", "ec2", "iam", "kms", "logs"),
        "ec2: subnets and security groups (dependent actions); iam: the service-linked role; "
        "kms: the at-rest key; logs: slow/engine log delivery (CreateLogDelivery, "
        "PutResourcePolicy)",
    ),
    # --- IAM ---
    "aws:iam/policy:Policy": Needs(("iam",)),
    "aws:iam/role:Role": Needs(("iam",)),
    "aws:iam/rolePolicy:RolePolicy": Needs(("iam",)),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Needs(("iam",)),
    "aws:iam/instanceProfile:InstanceProfile": Needs(("iam",)),
    # --- KMS ---
    "aws:kms/key:Key": Needs(("kms",)),
    "aws:kms/alias:Alias": Needs(("kms",)),
    # --- MSK ---
    "aws:msk/cluster:Cluster": Needs(
        ("kafka", "ec2", "iam", "kms", "logs"),
        "ec2, iam (service-linked role), kms: dependent actions of kafka:CreateClusterV2; "
        "logs: broker log delivery (AmazonMSKFullAccess lists the log-delivery actions)",
    ),
    "aws:msk/configuration:Configuration": Needs(("kafka",)),
    "aws:msk/topic:Topic": Needs(
        ("kafka", "kafka-cluster"),
        "the MSK topic API (kafka:CreateTopic/UpdateTopic/DescribeTopic) is authorized "
        "again as Kafka ACL actions: kafka-cluster:Connect, CreateTopic, AlterTopic, "
        "DescribeTopic, … (MSK guide, 'Topic Operations')",
    ),
    # --- RDS (Aurora, RDS Proxy) ---
    "aws:rds/cluster:Cluster": Needs(
        ("rds", "iam", "kms", "secretsmanager"),
        "secretsmanager: the RDS-managed master secret is created as the caller; kms: its "
        "key and the storage key; iam:PassRole (dependent actions of rds:CreateDBCluster)",
    ),
    "aws:rds/clusterInstance:ClusterInstance": Needs(
        ("rds", "iam", "kms"),
        "iam:PassRole of the enhanced-monitoring role; kms: the Performance Insights key",
    ),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": Needs(("rds",)),
    "aws:rds/subnetGroup:SubnetGroup": Needs(("rds",)),
    "aws:rds/proxy:Proxy": Needs(("rds", "iam"), "iam:PassRole of the proxy's role"),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": Needs(("rds",)),
    "aws:rds/proxyTarget:ProxyTarget": Needs(("rds",)),
    # --- S3 ---
    "aws:s3/bucket:Bucket": Needs(("s3",)),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": Needs(("s3",)),
    "aws:s3/bucketLogging:BucketLogging": Needs(("s3",)),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Needs(("s3",)),
    "aws:s3/bucketPolicy:BucketPolicy": Needs(("s3",)),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Needs(("s3",)),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": Needs(
        ("s3", "iam"), "iam:PassRole of the replication role"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        Needs(("s3",))
    ),
    "aws:s3/bucketVersioning:BucketVersioning": Needs(("s3",)),
    # --- Secrets Manager ---
    "aws:secretsmanager/secret:Secret": Needs(("secretsmanager",)),
    "aws:secretsmanager/secretVersion:SecretVersion": Needs(
        ("secretsmanager", "kms"),
        "kms:GenerateDataKey: the value is encrypted under a customer-managed key as the "
        "caller. Its refresh reads the value (GetSecretValue), which previews may not",
    ),
    # --- SQS, EventBridge (the Karpenter interruption queue and its rules) ---
    "aws:sqs/queue:Queue": Needs(("sqs",)),
    "aws:sqs/queuePolicy:QueuePolicy": Needs(("sqs",)),
    "aws:cloudwatch/eventRule:EventRule": Needs(("events",)),
    "aws:cloudwatch/eventTarget:EventTarget": Needs(("events",)),
    # --- No AWS call ---
    "pulumi:providers:aws": Needs(
        (), "configuring calls only sts:GetCallerIdentity, which IAM never denies"
    ),
    "pulumi:providers:kubernetes": Needs((), _NO_CALLS),
    "kubernetes:*": Needs(
        (),
        "talks to the cluster's API: `aws eks get-token` presigns sts:GetCallerIdentity "
        "(no permission needed) and the cluster's access entries decide the rest",
    ),
    "platform:*": Needs((), "component resources: their children have their own rows"),
    "random:index/randomId:RandomId": Needs((), _NO_CALLS),
    "random:index/randomPassword:RandomPassword": Needs((), _NO_CALLS),
    "tls:index/privateKey:PrivateKey": Needs((), _NO_CALLS),
    "tls:index/selfSignedCert:SelfSignedCert": Needs((), _NO_CALLS),
    # --- Data sources (invokes): read-only ---
    "aws:index/getAvailabilityZones:getAvailabilityZones": Needs(
        ("ec2",), "ec2:DescribeAvailabilityZones"
    ),
    "aws:index/getCallerIdentity:getCallerIdentity": Needs(
        (), "sts:GetCallerIdentity needs no permission (STS API reference)"
    ),
    "aws:index/getPartition:getPartition": Needs((), _NO_CALLS),
    "aws:index/getRegion:getRegion": Needs((), _NO_CALLS),
    "aws:elb/getServiceAccount:getServiceAccount": Needs(
        (), "a table of ELB account ids in the provider"
    ),
}

# What a refresh (or a preview's data sources) reads, per prefix: configuration, never data.
# Narrower than ReadOnlyAccess where a service mixes the two (logs, s3, secretsmanager).
READ_ACTIONS: dict[str, tuple[str, ...]] = {
    "application-autoscaling": (
        "application-autoscaling:Describe*",
        "application-autoscaling:ListTagsForResource",
    ),
    "autoscaling": ("autoscaling:Describe*",),
    "backup": (
        "backup:Describe*",
        "backup:GetBackupPlan",
        "backup:GetBackupSelection",
        "backup:GetBackupVault*",  # access policy, notifications
        "backup:List*",
    ),
    "backup-storage": (),  # Backup's own data plane; a refresh reads the vault via `backup`
    "cloudwatch": ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
    "ec2": ("ec2:Describe*",),  # no ec2:Get*: it holds GetPasswordData, GetConsoleOutput
    "eks": ("eks:Describe*", "eks:List*"),
    "elasticache": ("elasticache:Describe*", "elasticache:List*"),
    "events": ("events:Describe*", "events:List*"),
    "iam": ("iam:Get*", "iam:List*"),
    "kafka": ("kafka:Describe*", "kafka:Get*", "kafka:List*"),
    # kafka:DescribeTopic's dependent actions; Connect only authenticates (no data without
    # ReadData, which is denied).
    "kafka-cluster": (
        "kafka-cluster:Connect",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration",
    ),
    "kms": ("kms:Describe*", "kms:Get*", "kms:List*"),  # Decrypt is not a Get
    "logs": ("logs:Describe*", "logs:ListTags*"),  # logs:Get* holds GetLogEvents
    "rds": ("rds:Describe*", "rds:List*"),  # not rds:Download* (database log files)
    "route53": (),  # used only to create endpoints' private DNS; refresh reads ec2
    # What the provider's bucket reads call: s3:ListBucket is HeadBucket; no s3:GetObject.
    "s3": (
        "s3:GetBucket*",
        "s3:GetAccelerateConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
    ),
    "secretsmanager": (
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:ListSecretVersionIds",
    ),
    "sqs": ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"),
}

# Actions that touch data, not configuration: never for a preview, whatever else it is given
# (an explicit Deny also beats resource policies that name the role or the account).
DATA_READ_ACTIONS: tuple[str, ...] = (
    # CloudWatch Logs: what the applications and databases logged
    "logs:GetLogEvents",
    "logs:GetLogRecord",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "logs:GetQueryResults",
    "logs:StartLiveTail",
    "logs:Unmask",  # events a data-protection policy masked
    "logs:GetLookupTable",  # uploaded lookup data
    # Objects (the state bucket is carved out), and S3 Access Grants' data credentials
    "s3:GetObject*",
    "s3:GetDataAccess",
    # Secret values and what decrypts them (the secrets key is carved out for Decrypt).
    # ReEncrypt* would let ciphertext be re-encrypted under a key the caller controls.
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    # SecureString decryption is stopped by the kms:Decrypt deny already; plain parameters are
    # denied too: the stacks read none, and parameters are where config values live.
    "ssm:GetParameter*",
    # Data planes a preview runner inside the VPC could reach
    "kafka-cluster:ReadData",
    "kafka-cluster:WriteData*",
    "kafka-cluster:AlterGroup",  # join/commit offsets as a consumer group
    "kafka-cluster:DeleteGroup",
    "kafka-cluster:AlterTransactionalId",
    "rds-db:connect",
    "rds-data:*",
    "elasticache:Connect",
    "kinesis:GetRecords",
    "kinesis:SubscribeToShard",
    "sqs:ReceiveMessage",  # also hides the message from its real consumer
    "rds:Download*",  # database log files (queries, parameters)
    # Backups: restore metadata is the backed-up resource's configuration as Backup needs it
    # to rebuild it — not needed by any refresh here; backup-storage is Backup's data plane
    # (GetChunk returns backed-up bytes). Listing and describing recovery points stays allowed.
    "backup:GetRecoveryPointRestoreMetadata",
    "backup-storage:*",
    # Instances: Windows passwords, console output and screenshots; VPN pre-shared keys
    "ec2:GetPasswordData",
    "ec2:GetConsoleOutput",
    "ec2:GetConsoleScreenshot",
    "ec2:GetVpnConnectionDeviceSampleConfiguration",
    # Image layers (code and whatever was baked into it)
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)
# Not listed, decided: eks:* — DescribeCluster gives the endpoint, CA and OIDC issuer (a
# refresh needs them; none is secret), and `aws eks get-token` needs no IAM permission at all.
# What a token may read inside the cluster (Secrets included) is decided by the cluster's
# access entries, so a preview role must get no access entry that can read Secrets.

# Data actions the Pulumi backend itself needs, on one resource each.
_STATE_OBJECTS = "s3:GetObject*"
_SECRETS_DECRYPT = "kms:Decrypt"

# IAM's limit for a managed policy, counted without whitespace (inline: 10,240 per role).
MANAGED_POLICY_MAX_CHARS = 6144

PLATFORM_TYPES: tuple[str, ...] = tuple(PERMISSIONS)
"""Every token in the table, upcoming ones included: what the bootstrap grants."""


def needs(token: str) -> Needs:
    """The table's row for a type or invoke token (exact, else its `<package>:*` row)."""
    if token in PERMISSIONS:
        return PERMISSIONS[token]
    family = f"{token.split(':', 1)[0]}:*"
    if family in PERMISSIONS:
        return PERMISSIONS[family]
    raise KeyError(
        f"{token}: not in components/aws_permissions.PERMISSIONS; add a row naming the IAM "
        "service prefixes its create/read/update/delete calls need"
    )


def prefixes(tokens: Iterable[str]) -> list[str]:
    """The sorted union of the prefixes the tokens need."""
    return sorted({prefix for token in tokens for prefix in needs(token).prefixes})


def deploy_statements(tokens: Iterable[str] = PLATFORM_TYPES) -> list[dict]:
    """Allow `<prefix>:*` for every prefix the tokens need: the deploy role's scope."""
    return [
        {
            "Sid": "PlatformServices",
            "Effect": "Allow",
            "Action": [f"{prefix}:*" for prefix in prefixes(tokens)],
            "Resource": "*",
        }
    ]


def read_actions(tokens: Iterable[str] = PLATFORM_TYPES) -> list[str]:
    """The read actions a refresh of the tokens' resources needs."""
    return sorted({action for prefix in prefixes(tokens) for action in READ_ACTIONS[prefix]})


def preview_policy(
    tokens: Iterable[str] = PLATFORM_TYPES,
    *,
    state_bucket: str | None = None,
    secrets_key_arn: str | None = None,
) -> dict:
    """A preview's permissions: the tokens' read actions, and no data.

    `state_bucket` and `secrets_key_arn` are the self-managed backend's bucket and the stack
    secrets' KMS key: the only places a preview may read objects or decrypt (the Allow for
    them is the caller's; this policy only leaves them out of its Deny).
    """
    carved = {
        _STATE_OBJECTS: f"arn:aws:s3:::{state_bucket}/*" if state_bucket else None,
        _SECRETS_DECRYPT: secrets_key_arn,
    }
    statements: list[dict] = [
        {
            "Sid": "ReadWhatTheStacksManage",
            "Effect": "Allow",
            "Action": read_actions(tokens),
            "Resource": "*",
        },
        {
            "Sid": "NoDataReads",
            "Effect": "Deny",
            "Action": [a for a in DATA_READ_ACTIONS if not carved.get(a)],
            "Resource": "*",
        },
    ]
    carve_outs = {
        "NoObjectsButTheState": _STATE_OBJECTS,
        "NoDecryptButTheSecrets": _SECRETS_DECRYPT,
    }
    for sid, action in carve_outs.items():
        if carved[action]:
            statements.append(
                {"Sid": sid, "Effect": "Deny", "Action": action, "NotResource": carved[action]}
            )
    return {"Version": "2012-10-17", "Statement": statements}


def policy_size(document: dict) -> int:
    """Characters IAM counts against its size limits (JSON without whitespace)."""
    return len(re.sub(r"\s", "", json.dumps(document)))
