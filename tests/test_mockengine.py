"""The mock engine harness that the plan and every whole-stack test rely on."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.offline.mockengine import run_program


class Holder(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("platform:test:Holder", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-key",
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        self.register_outputs({})


def program():
    second = aws.Provider("second", region="eu-central-1")
    here = Holder("here")
    there = Holder("there", opts=pulumi.ResourceOptions(providers={"aws": second}))
    pulumi.export("plain", here.key.arn)
    pulumi.export("hidden", pulumi.Output.secret("s3cr3t"))
    pulumi.export("there", there.key.arn)


def test_records_parent_protect_retain_and_provider():
    rec = run_program(program, stack="t", config={"aws:region": "eu-west-1"})
    key = rec.one("aws:kms/key:Key", "here-key")
    assert key.parent_type == "platform:test:Holder"
    assert key.protect and key.retain_on_delete
    assert [a.name for a in rec.ancestors(key)] == ["here"]
    there = rec.one("aws:kms/key:Key", "there-key")
    assert there.provider.startswith(rec.one("pulumi:providers:aws", "second").urn)


def test_outputs_follow_the_resources_provider_region():
    rec = run_program(program, stack="t", config={"aws:region": "eu-west-1"})
    assert rec.outputs["plain"].startswith("arn:aws:kms:eu-west-1:")
    assert rec.outputs["there"].startswith("arn:aws:kms:eu-central-1:")


def test_secret_outputs_are_marked_and_runs_do_not_leak_into_each_other():
    first = run_program(program, stack="a", config={"aws:region": "eu-west-1"})
    second = run_program(lambda: None, stack="b", config={"aws:region": "eu-west-1"})
    assert first.secret_outputs == {"hidden"}
    assert second.resources == [] and second.outputs == {}


def test_data_sources_answer_for_the_region_of_the_provider_they_are_called_with():
    def regions():
        second = aws.Provider("second", region="eu-central-1")
        here = Holder("here")
        there = Holder("there", opts=pulumi.ResourceOptions(providers={"aws": second}))
        for label, parent in (("here", here), ("there", there)):
            invoke = pulumi.InvokeOutputOptions(parent=parent)
            pulumi.export(label, aws.get_region_output(opts=invoke).region)
            zones = aws.get_availability_zones_output(opts=invoke).names
            pulumi.export(f"{label}-zone", zones[0])

    rec = run_program(regions, stack="t", config={"aws:region": "eu-west-1"})
    assert rec.outputs["here"] == "eu-west-1"
    assert rec.outputs["there"] == "eu-central-1"
    assert rec.outputs["there-zone"].startswith("eu-central-1")
