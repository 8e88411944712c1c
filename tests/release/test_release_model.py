"""Parsing `platform:services`, the release record and gate evaluation."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.release.actions import Sample
from infra.release.gates import OnLatency, OnNoData, Thresholds, judge
from infra.release.model import Color, ConfigError, find_service
from infra.release.record import Phase, Record, effective_record
from infra.release.transitions import Policy


def entry(**overrides):
    base = {
        "name": "api",
        "image": "registry.example/api",
        "tags": {"blue": "1.4.2", "green": "1.5.0"},
        "activeColor": "blue",
        "allowPlainHttp": True,
    }
    base.update(overrides)
    return base


def test_parses_a_service_with_defaults():
    svc = find_service([entry(name="web"), entry()], "api")

    assert (svc.index, svc.active, svc.idle, svc.split, svc.service_port) == (
        1,
        Color.BLUE,
        Color.GREEN,
        None,
        80,
    )
    assert svc.image_ref(Color.GREEN) == "registry.example/api:1.5.0"
    assert svc.health_path == "/healthz"


def test_a_number_written_as_text_is_refused_as_pulumi_up_refuses_it():
    """The tool writes numbers with `pulumi config set --type int`; "50" is not one."""
    with pytest.raises(ConfigError, match=r"trafficSplit: '50' is text where a number is meant"):
        find_service([entry(trafficSplit="50")], "api")
    assert find_service([entry(trafficSplit=50, idleReplicas=1)], "api").split == 50


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"activeColor": "red"}, "activeColor = 'red': Input should be 'blue' or 'green'"),
        ({"trafficSplit": 101}, "trafficSplit = 101: Input should be less than or equal to 100"),
        (
            {"image": "registry.example/api:1.0"},
            "image = 'registry.example/api:1.0': image 'registry.example/api:1.0': a repository "
            "without tag",
        ),
        ({"tags": {"blue": "1"}, "activeColor": "green"}, "tags.green: required but not set"),
        ({"tags": {"blue": "1", "green": "2", "red": "1"}}, "tags.red: unknown key"),
        ({"healthPath": "healthz"}, "healthPath = 'healthz': path 'healthz': an absolute URL"),
        ({"allowPlainHttp": False}, "[0].certificateArn: required so the ALB serves HTTPS"),
        ({"replicas": 3}, "replicas: unknown key (typo?); allowed keys here: activeColor"),
    ],
)
def test_invalid_service_config_names_the_key(overrides, message):
    with pytest.raises(ConfigError, match=r"platform:services\[0\]\.") as error:
        find_service([entry(**overrides)], "api")
    assert message in str(error.value)


def test_the_release_tool_and_pulumi_up_read_a_service_with_one_model():
    """The defaults are the settings model's: activeColor is optional for both."""
    svc = find_service([{k: v for k, v in entry().items() if k != "activeColor"}], "api")

    assert (svc.active, svc.service_port, svc.health_path, svc.idle_replicas) == (
        Color.BLUE,
        80,
        "/healthz",
        None,
    )


def test_an_error_elsewhere_in_the_stack_never_blocks_the_named_service():
    """An emergency rollback of `api` must work while another entry is broken."""
    broken = entry(name="web", image="registry.example/web:latest", tags={"blue": "latest"})

    svc = find_service([broken, entry()], "api")

    assert (svc.name, svc.index) == ("api", 1)


def test_unknown_service_lists_the_configured_ones():
    with pytest.raises(ConfigError, match=r"service 'web' not found .*\['api'\]"):
        find_service([entry()], "web")


def test_policy_rejects_bad_steps():
    for steps in [(), (50, 10), (10, 10), (0, 100), (10, 101)]:
        with pytest.raises(ConfigError, match="--steps"):
            Policy(steps=steps)


@given(
    phase=st.sampled_from(list(Phase)),
    source=st.sampled_from(list(Color)),
    tag=st.none() | st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
    idle=st.none() | st.integers(0, 5),
    step=st.none() | st.integers(1, 100),
)
def test_record_survives_the_stack_config_round_trip(phase, source, tag, idle, step):
    record = Record(phase, source, source.other, tag, idle, step, "why")

    assert Record.from_json(record.to_json()) == record


def test_corrupt_record_is_a_config_error():
    with pytest.raises(ConfigError, match="unreadable release record"):
        Record.from_json('{"phase": "sideways"}')


def test_effective_record_ignores_stale_settled_records():
    svc = find_service([entry(activeColor="blue")], "api")
    stale = Record(Phase.PROMOTED, Color.BLUE, Color.GREEN)  # says green serves; config: blue

    assert effective_record(svc, stale) is None
    assert effective_record(svc, stale.to(Phase.FLIP)) == stale.to(Phase.FLIP)


def test_effective_record_turns_an_unrecorded_split_into_an_interrupted_canary():
    svc = find_service([entry(trafficSplit=25)], "api")

    assert effective_record(svc, None) == Record(Phase.CANARY, Color.BLUE, Color.GREEN, step=25)


LIMITS = Thresholds()


@given(rate=st.floats(0, 1), p95=st.floats(0, 10))
def test_judge_fails_exactly_when_a_threshold_is_exceeded(rate, p95):
    verdict = judge(Sample(rate, p95), LIMITS, final=True)

    if rate > 0.10:
        assert verdict.gate == "error-rate"
    elif p95 > 2.0:
        assert verdict.gate == "latency-p95"
    else:
        assert verdict.passed


def test_judge_names_measured_value_and_threshold():
    verdict = judge(Sample(0.2, 0.1), LIMITS, final=False)

    assert verdict.summary == "error rate 20.00% > threshold 10.00%"


def test_latency_warn_policy_passes_with_a_warning():
    limits = Thresholds(on_latency=OnLatency.WARN)

    verdict = judge(Sample(0.0, 3.0), limits, final=True)

    assert verdict.passed
    assert verdict.warnings == ("p95 latency 3.000s > threshold 2s; tolerated by on-latency=warn",)


@pytest.mark.parametrize(
    ("policy", "final", "passed"),
    [
        (OnNoData.FAIL_FINAL, False, True),
        (OnNoData.FAIL_FINAL, True, False),
        (OnNoData.FAIL, False, False),
        (OnNoData.PASS, True, True),
    ],
)
def test_no_data_policy_matrix(policy, final, passed):
    verdict = judge(Sample(None, None), Thresholds(on_no_data=policy), final=final)

    assert verdict.passed is passed
    assert (verdict.gate is None) or verdict.gate == "no-data"


def test_partial_data_still_judges_what_is_there():
    verdict = judge(Sample(0.5, None), Thresholds(on_no_data=OnNoData.PASS), final=True)

    assert verdict.gate == "error-rate"
