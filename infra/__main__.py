"""Pulumi entry point (`main: infra/` in Pulumi.yaml): settings in, resources out."""

from infra.config import from_pulumi
from infra.stack import build

build(from_pulumi())
