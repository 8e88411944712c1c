"""Docs that are generated from code must match it."""

from __future__ import annotations

from pathlib import Path

from infra.offline.sizing import MARK_BEGIN, MARK_END, committed_table

ROOT = Path(__file__).resolve().parent.parent


def test_sizing_doc_matches_the_profiles():
    text = (ROOT / "docs" / "sizing.md").read_text()
    generated = text.split(MARK_BEGIN)[1].split(MARK_END)[0].strip()
    assert generated == committed_table(), "docs/sizing.md is stale: run `make docs`"


def test_readme_names_the_two_commands_and_the_deploy_steps():
    readme = (ROOT / "README.md").read_text()
    for phrase in (
        "make plan STACK=dev",
        "make test",
        "pulumi login",
        "pulumi stack select",
        "pulumi up",
    ):
        assert phrase in readme
