"""The stack's configuration: the only package that reads it.

    Pulumi.<stack>.yaml   reading.py     parsed strictly, as Pulumi hands it to the program
      deep-merged over    profiles.py    the environment's defaults (dev, uat, prod; local)
      validated by        foundation.py, cluster.py, data_stores.py, observability.py,
                          services.py    one module per section, applying each component's
                                         own rules; model.py: the rules that span sections
      floors              floors.py      prod's safety settings may go up, never down
      local               local.py       the laptop stack: no AWS section, no floor
      errors              errors.py      every problem as `key: what is wrong, what is allowed`

Every rule lives in the component that owns it (allowed values, ranges, name patterns,
versions); these modules only map config keys onto those rules, so a bad value fails here —
before any resource is registered — naming the key in config spelling. Values that differ by
environment have no default here: the profile supplies them. The defaults that remain are the
components' own library defaults (a test keeps them equal).

A key's path through the program: `profiles.py` → `config/<section>.py` →
`infra/wiring/<section>.py` → `components/<component>`.
"""

from infra.config.errors import SettingsError
from infra.config.load import SECRET_KEYS, from_pulumi, load_settings
from infra.config.local import LocalSettings
from infra.config.model import Settings
from infra.config.profiles import ENVIRONMENTS, LOCAL_ENVIRONMENT, PROFILE_NAMES, PROFILES
from infra.config.reading import PROJECT_ROOT, deep_merge, read_stack_config

__all__ = [
    "ENVIRONMENTS",
    "LOCAL_ENVIRONMENT",
    "PROFILES",
    "PROFILE_NAMES",
    "PROJECT_ROOT",
    "SECRET_KEYS",
    "LocalSettings",
    "Settings",
    "SettingsError",
    "deep_merge",
    "from_pulumi",
    "load_settings",
    "read_stack_config",
]
