"""The offline plan: the real program under the Pulumi SDK's mock engine, no cloud account.

mockengine.py   the recording mock monitor (every registration; answers from components.testing)
run.py          settings -> the program -> a Recording (shared by plan, sizing, tests)
plan.py         `make plan`: resources by component, sizing, cost, policies (a leaf)
cost.py         the monthly cost estimate of a recording
sizing.py       the sizing table of docs/sizing.md (`make docs`)
"""
