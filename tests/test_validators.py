"""tests/validators.py: a missing validator skips locally with a reason the end-of-run summary
recognises, fails where REQUIRE_<NAME> or REQUIRE_VALIDATORS is set, and the summary names one
command that installs every missing one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests import chart_cache, validators


def test_a_missing_validator_skips_with_a_reason_the_summary_recognises(monkeypatch):
    monkeypatch.delenv("REQUIRE_PROMETHEUS", raising=False)
    monkeypatch.delenv(validators.ALL, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        validators.missing("prometheus", "/usr/bin/promtool not installed")
    assert validators.key_of(f"Skipped: {skipped.value.msg}") == "prometheus"


@pytest.mark.parametrize("variable", ["REQUIRE_POSTGRES", validators.ALL])
def test_where_required_a_missing_validator_fails(monkeypatch, variable):
    for name in ("REQUIRE_POSTGRES", validators.ALL):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pytest.fail.Exception, match="validator missing: postgres"):
        validators.missing("postgres", "no initdb")


def test_require_validators_also_makes_missing_charts_a_failure():
    assert chart_cache.verdict(["jaeger-4.11.1"], {validators.ALL: "1"})[0] == "fail"
    assert chart_cache.verdict(["jaeger-4.11.1"], {})[0] == "skip"
    reason = chart_cache.missing_message(["jaeger-4.11.1"])
    assert validators.key_of(reason) == "charts"


def test_the_summary_counts_skips_per_validator_and_gives_one_install_command():
    reasons = [
        "Skipped: validator missing: prometheus: /usr/bin/promtool not installed",
        "Skipped: validator missing: prometheus: /usr/bin/prometheus not installed",
        "Skipped: validator missing: postgres: no initdb",
        chart_cache.missing_message(["jaeger-4.11.1"]),
        "Skipped: something else entirely",
    ]
    lines = validators.summary(reasons)
    assert lines[:3] == [
        f"   1 test(s) skipped: charts missing — {validators.VALIDATORS['charts'].what}",
        f"   1 test(s) skipped: postgres missing — {validators.VALIDATORS['postgres'].what}",
        f"   2 test(s) skipped: prometheus missing — {validators.VALIDATORS['prometheus'].what}",
    ]
    assert lines[4] == (
        "    sudo apt-get install -y postgresql prometheus && .venv/bin/python -m tests.chart_cache"
    )
    assert validators.summary(["Skipped: something else entirely"]) == []


def test_ci_requires_every_validator():
    """Both CI entry points make a skipped validator test a failure."""
    root = Path(__file__).resolve().parents[1]
    run = (root / ".ci" / "run").read_text()
    for key in ("prometheus", "alertmanager", "postgres"):
        variable = validators.VALIDATORS[key].require
        assert re.search(rf"^export .*\b{variable}=1\b", run, re.MULTILINE), key
    for name in ("pull-request.yml", "deploy.yml"):
        document = yaml.safe_load((root / ".github" / "workflows" / name).read_text())
        envs = [
            step.get("env", {})
            for job in document["jobs"].values()
            for step in job.get("steps", [])
            if ".ci/run" in str(step.get("run", ""))
        ]
        assert envs and all(env.get(validators.ALL) == "true" for env in envs), name
