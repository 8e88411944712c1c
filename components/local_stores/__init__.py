"""In-cluster stand-ins for the AWS data stores, for the local stack (a laptop cluster).

versions.py   the images, pinned exactly
manifests.py  PostgreSQL, Valkey, Kafka, the login and topic Jobs, NetworkPolicies
access.py     a service's ConfigMap (the AWS key names, local values) and its Secret
component.py  `LocalDataStores`, registering all of it
"""

from components.local_stores.component import LocalDataStores, LocalDataStoresArgs

__all__ = ["LocalDataStores", "LocalDataStoresArgs"]
