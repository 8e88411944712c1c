"""The CrossGuard entry point of the guardrails: `infra.guardrails.RULES` as stack policies.

`policy/__main__.py` hands these to `pulumi_policy.PolicyPack`; this module only translates
the engine's view (`StackValidationArgs`) into `infra.guardrails.Stack`, so the rules are the
very functions `make plan` runs offline.
"""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.guardrails.rules import RULES, Resource, Rule, Stack

PACK_NAME = "platform-guardrails"


def to_stack(args: StackValidationArgs) -> Stack:
    resources: dict[str, Resource] = {}
    for r in args.resources:
        provider = r.provider
        resources[r.urn] = _resource(r, provider.urn if provider else "", provider)
        if provider is not None and provider.urn not in resources:
            resources[provider.urn] = Resource(
                type=provider.resource_type, name=provider.name, urn=provider.urn,
                props=provider.props,
            )  # fmt: skip
    return Stack(list(resources.values()))


def _resource(r: PolicyResource, provider_urn: str, provider) -> Resource:
    return Resource(
        type=r.resource_type,
        name=r.name,
        urn=r.urn,
        props=r.props,
        protect=bool(r.opts.protect),
        provider_urn=provider_urn,
        provider=provider.props if provider is not None else {},
        depends_on={
            key: [dep.urn for dep in deps] for key, deps in (r.property_dependencies or {}).items()
        },
    )


def _validator(rule: Rule) -> Callable[[StackValidationArgs, Callable], None]:
    def validate(args: StackValidationArgs, report_violation: Callable) -> None:
        for violation in rule.check(to_stack(args)):
            report_violation(violation.message, violation.urn)

    return validate


def policies() -> list[StackValidationPolicy]:
    return [
        StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=_validator(rule),
            enforcement_level=(
                EnforcementLevel.MANDATORY if rule.mandatory else EnforcementLevel.ADVISORY
            ),
        )
        for rule in RULES
    ]
