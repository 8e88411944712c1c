"""Which certificate authority verifies which Aurora endpoint (one home for the fact).

Aurora's cluster, reader and instance endpoints serve certificates issued by the RDS CA
(`rds-ca-rsa2048-g1` and friends): clients verify them with RDS's regional bundle. An RDS
Proxy endpoint serves an ACM certificate chained to Amazon Trust Services' public roots,
which RDS's bundle does NOT contain: a client that verifies the proxy with the RDS bundle
fails the handshake (verify-full), and one that skips verification loses the point of TLS.
Sources: "Using SSL/TLS to encrypt a connection to a DB cluster" and "Using TLS/SSL with RDS
Proxy" in the Aurora user guide.
"""

from __future__ import annotations

__all__ = [
    "AMAZON_ROOTS_URL",
    "ca_bundle_url",
    "rds_bundle_url",
]


# Amazon Trust Services' roots (Amazon Root CA 1-4) in one PEM file; the operating system's
# trust store has them too (libpq 16+: `sslrootcert=system`).
AMAZON_ROOTS_URL = "https://www.amazontrust.com/repository/AmazonRootCA1.pem"


def rds_bundle_url(region: str) -> str:
    """RDS's CA bundle for one region: verifies cluster, reader and instance endpoints."""
    return f"https://truststore.pki.rds.amazonaws.com/{region}/{region}-bundle.pem"


def ca_bundle_url(region: str, *, proxy: bool) -> str:
    """The bundle that verifies an endpoint: Amazon's public roots for an RDS Proxy, RDS's
    own CA bundle for everything else."""
    return AMAZON_ROOTS_URL if proxy else rds_bundle_url(region)
