"""Reusable Pulumi components for an AWS platform (see docs/library.md).

Import the modules themselves (`from components.network import Network, NetworkArgs`); each
declares its public API in `__all__`. `components.testing` holds the mocks a user's own unit
tests need.
"""

from importlib import metadata

__all__ = ["DISTRIBUTION", "__version__"]

DISTRIBUTION = "acme-platform-components"
try:
    __version__ = metadata.version(DISTRIBUTION)
except metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0"
