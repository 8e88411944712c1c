"""The CrossGuard entry point of the guardrails: `infra.guardrails.RULES` as policies.

`policy/__main__.py` hands these to `pulumi_policy.PolicyPack`; this module only translates
the engine's view into `infra.guardrails.Stack`, so the rules are the very functions
`make plan` runs offline. A rule that judges a resource by itself and its provider
(`Rule.local`) becomes a resource-level policy: the engine applies it to each resource before
that resource is created or updated, so `pulumi up` refuses it up front. The others are stack
policies (they need other resources), which the deploy's preview with the pack runs before
anything is applied.
"""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
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
            key: [dep.urn for dep in deps]
            for key, deps in (getattr(r, "property_dependencies", None) or {}).items()
        },
    )


def resource_stack(args: ResourceValidationArgs) -> Stack:
    """One resource and its provider: all a local rule needs to judge it."""
    provider = args.provider
    resources = [_resource(args, provider.urn if provider else "", provider)]  # type: ignore[arg-type]
    if provider is not None:
        resources.append(
            Resource(
                type=provider.resource_type,
                name=provider.name,
                urn=provider.urn,
                props=provider.props,
            )
        )
    return Stack(resources)


def _validator(rule: Rule) -> Callable[[StackValidationArgs, Callable], None]:
    def validate(args: StackValidationArgs, report_violation: Callable) -> None:
        for violation in rule.check(to_stack(args)):
            report_violation(violation.message, violation.urn)

    return validate


def _resource_validator(rule: Rule) -> Callable[[ResourceValidationArgs, Callable], None]:
    def validate(args: ResourceValidationArgs, report_violation: Callable) -> None:
        for violation in rule.check(resource_stack(args)):
            report_violation(violation.message)  # about this resource (or its provider)

    return validate


def policies() -> list[StackValidationPolicy | ResourceValidationPolicy]:
    found: list[StackValidationPolicy | ResourceValidationPolicy] = []
    for rule in RULES:
        level = EnforcementLevel.MANDATORY if rule.mandatory else EnforcementLevel.ADVISORY
        if rule.local:
            found.append(
                ResourceValidationPolicy(
                    name=rule.name,
                    description=rule.description,
                    validate=_resource_validator(rule),
                    enforcement_level=level,
                )
            )
        else:
            found.append(
                StackValidationPolicy(
                    name=rule.name,
                    description=rule.description,
                    validate=_validator(rule),
                    enforcement_level=level,
                )
            )
    return found
