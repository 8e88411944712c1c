"""Aurora PostgreSQL: serverless v2 (dev) or provisioned writer + readers (prod).

The cluster lives in the isolated subnets (a DB subnet group made by `Network`), accepts
connections only from the given security groups on the PostgreSQL port, and forces TLS. Storage,
the RDS-managed master secret, Performance Insights and the exported logs are encrypted with
customer-managed keys. No password ever appears in config or state: RDS generates and rotates
the master password in Secrets Manager, and applications use IAM database authentication.

When `protect` is set (prod) the cluster and its instances are protected and retained, deletion
protection is on, and an AWS Backup plan copies daily recovery points to a vault in a second
region.

    args.py       DatabaseArgs and the rules it follows (shared with the settings layer)
    component.py  Database: cluster, instances, parameter and log groups
    backup.py     the AWS Backup plan and its second-region copy
    proxy.py      DatabaseProxy: RDS Proxy, IAM auth end to end
    logins.py     DatabaseLogins: the Job creating one IAM login per application
"""

from components.database.args import DatabaseArgs, validate
from components.database.component import Database

__all__ = [
    "Database",
    "DatabaseArgs",
    "validate",
]
