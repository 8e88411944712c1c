"""`pulumi up` in infra/bootstrap/: see program.py and docs/delivery.md."""

from infra.bootstrap.program import main

main()
