"""Metrics of one colour from the Prometheus HTTP API. All PromQL of the tool is here.

Convention (docs/release.md, "PromQL"): applications expose `http_requests_total{code}` and the
histogram `http_request_duration_seconds`; the service's PodMonitor relabels the pod labels
`app` and `color` to the target labels METRIC_SERVICE_LABEL and METRIC_COLOR_LABEL
(components.bluegreen.args, the one home of those names).
"""

import json
import math
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from components.bluegreen.args import METRIC_COLOR_LABEL, METRIC_SERVICE_LABEL
from infra.release.actions import Sample
from infra.release.model import Color

ERROR_RATE = (
    '(sum(rate(http_requests_total{{{sel},code=~"5.."}}[{window}])) or vector(0))'
    " / sum(rate(http_requests_total{{{sel}}}[{window}]))"
)
P95 = (
    "histogram_quantile(0.95, sum by (le) "
    "(rate(http_request_duration_seconds_bucket{{{sel}}}[{window}])))"
)


def _selector(service: str, color: Color) -> str:
    return f'{METRIC_SERVICE_LABEL}="{service}",{METRIC_COLOR_LABEL}="{color}"'


def _window(seconds: float) -> str:
    return f"{max(1, round(seconds))}s"


def error_rate_query(service: str, color: Color, window_seconds: float) -> str:
    """5xx rate / total rate; empty without series, NaN without traffic."""
    return ERROR_RATE.format(sel=_selector(service, color), window=_window(window_seconds))


def p95_query(service: str, color: Color, window_seconds: float) -> str:
    """95th percentile request duration from the histogram buckets."""
    return P95.format(sel=_selector(service, color), window=_window(window_seconds))


class PrometheusMetrics:
    """`Metrics` port: instant queries against `<base_url>/api/v1/query`."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"Prometheus URL {base_url!r}: http:// or https:// only")
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def sample(self, service: str, color: Color, window_seconds: float) -> Sample:
        """Error rate and p95 of `color`; None for a signal without data."""
        return Sample(
            error_rate=self.query(error_rate_query(service, color, window_seconds)),
            p95_seconds=self.query(p95_query(service, color, window_seconds)),
        )

    def query(self, promql: str) -> float | None:
        """Run an instant query that yields at most one value."""
        url = f"{self._base_url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        # The scheme is http(s), checked in __init__ (no file:// or custom handlers).
        with urllib.request.urlopen(url, timeout=self._timeout) as response:  # nosec B310
            body = json.load(response)
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus query failed: {body.get('error')}: {promql}")
        return single_value(body["data"])


def single_value(data: Mapping[str, Any]) -> float | None:
    """The value of a one-element instant vector; None when empty or NaN (no traffic)."""
    result = data["result"]
    if not result:
        return None
    if len(result) > 1:
        raise ValueError(f"expected one series, got {len(result)}: {result}")
    value = float(result[0]["value"][1])
    return None if math.isnan(value) else value
