"""Disaster-recovery drill: `python -m infra.drill {restore,verify,report,cleanup}`.

Restores copies of the stack's data stores into NEW resources (never touching the live ones),
verifies them, measures RTO and RPO against the brief's targets and removes what it created.

Layers, as in the release tool: `model`/`record`/`phases`/`targets`/`versions` (pure data and
decisions), `outputs` (the stack outputs it reads), `ports` (the one AWS port, the clock and
the probes), `database`/`bucket`/`cache` (restores), `verify`, `report`, `cleanup` (steps
driven through the ports), `adapters` (boto3, system clock, subprocess/urllib probes), `cli`.
See docs/restore.md, "The drill".
"""
