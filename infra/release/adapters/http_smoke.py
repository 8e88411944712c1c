"""Smoke test: HTTP GET of the health path through the preview Service."""

import urllib.error
import urllib.request

from infra.release.actions import Check
from infra.release.model import Service

# In-cluster address of the preview Service (`{port}` is the Service port, `servicePort`).
# From a laptop, run `kubectl proxy` and pass
# http://127.0.0.1:8001/api/v1/namespaces/{namespace}/services/{service}-preview:http/proxy
DEFAULT_PREVIEW_URL = "http://{service}-preview.{namespace}.svc.cluster.local:{port}"


class HttpSmoke:
    """`Smoke` port: one GET with a timeout; 2xx passes."""

    def __init__(
        self, namespace: str, url_template: str = DEFAULT_PREVIEW_URL, timeout: float = 10.0
    ) -> None:
        if not url_template.startswith(("http://", "https://")):
            raise ValueError(f"preview URL {url_template!r}: http:// or https:// only")
        self._namespace = namespace
        self._template = url_template
        self._timeout = timeout

    def url(self, service: Service) -> str:
        """The health URL of `service`'s preview Service."""
        base = self._template.format(
            service=service.name, namespace=self._namespace, port=service.service_port
        )
        return base.rstrip("/") + service.health_path

    def probe(self, service: Service) -> Check:
        """GET the health URL; any non-2xx answer or connection error fails."""
        url = self.url(service)
        request = urllib.request.Request(url, headers={"User-Agent": "infra-release-smoke"})
        try:
            # The scheme is http(s), checked in __init__ (no file:// or custom handlers).
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # nosec B310
                status = response.status
        except urllib.error.HTTPError as error:
            return Check(False, f"GET {url} -> HTTP {error.code}")
        except (urllib.error.URLError, OSError) as error:
            return Check(False, f"GET {url} -> {getattr(error, 'reason', error)}")
        return Check(200 <= status < 300, f"GET {url} -> HTTP {status}")
