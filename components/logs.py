"""CloudWatch Logs facts shared by the components and the settings layer, and the one way
the components create a log group."""

import pulumi
import pulumi_aws as aws

__all__ = [
    "LOG_RETENTION_DAYS",
    "encrypted_log_group",
]


# The only retention periods CloudWatch Logs accepts (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def encrypted_log_group(
    resource_name: str,
    *,
    name: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    retention_days: int,
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.LogGroup:
    """A log group encrypted with a customer-managed key and with a retention.

    Create it before the service that writes into it: the service then finds it instead of
    auto-creating an unencrypted group that never expires.
    """
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=name,
        kms_key_id=kms_key_arn,
        retention_in_days=retention_days,
        opts=opts,
    )
