"""Release tool for BlueGreenServices: `python -m infra.release {status,deploy,promote,rollback}`.

Layers: `model`/`record` (data), `deploy`/`promote`/`rollback` (pure state machines),
`runner` (performs actions through `ports`), `adapters` (Pulumi Automation API, kubectl,
HTTP smoke, Prometheus), `cli` (argparse and wiring). See docs/release.md.
"""
