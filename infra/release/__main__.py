"""`python -m infra.release`."""

import sys

from infra.release.cli import main

sys.exit(main())
