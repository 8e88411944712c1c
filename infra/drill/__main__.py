"""`python -m infra.drill`."""

import sys

from infra.drill.cli import main

sys.exit(main())
