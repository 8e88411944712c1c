"""Reusable Pulumi components for an AWS platform (see docs/library.md).

Import the modules themselves (`from components.network import Network, NetworkArgs`); each
declares its public API in `__all__`. `components.testing` holds the mocks a user's own unit
tests need.
"""

__all__: list[str] = []
