"""The platform's CrossGuard policy pack: `pulumi preview --policy-pack policy`.

The rules are `infra.guardrails.RULES` (the same ones `make plan` evaluates offline); the
pack runs in the program's own environment (PulumiPolicy.yaml: virtualenv ../.venv), where
the project and pulumi-policy are installed from the lock. Importing this module starts the
policy server and blocks, so tests import `infra.guardrails.pack` instead.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from infra.guardrails.pack import PACK_NAME, policies

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Platform guardrails: customer-managed keys, no open ingress, isolated data "
    "stores, protected prod state, pinned charts, hardened pods, required tags, private prod API",
)
