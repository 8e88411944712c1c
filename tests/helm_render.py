"""Render the pinned Helm charts with Helm's own engine, with the values the program passes.

Every `kubernetes:helm.sh/v3:Release` in a stack's recording says what `pulumi up` hands Helm
(chart, version, repository, values, namespace, release name); `releases(recording)` reads
them and `render(release)` runs helm-python-sdk (Helm 4's Go engine behind a C ABI, offline)
on the cached chart archive (tests/chart_cache.py) and returns every object it would apply:
the templates' output and the chart's `crds/` files, parsed.

Capabilities: Pulumi's Release renders against the live cluster, so the chart sees that
cluster's version and API groups. Here the render gets `kube_version` = the stack's cluster
minor (`settings.cluster.version`, 1.35 = `KUBERNETES_VERSION` in every profile) and, as API
versions, the generally
available built-in groups of that minor (group/version and group/version/Kind, as the
cluster's discovery lists them) plus the groups of the CRDs installed by every release this
one waits for (its `depends_on` chain): what the cluster serves when this release installs.
Helm's offline default set also keeps its own compiled-in list (alpha/beta groups a 1.35
cluster does not serve, e.g. batch/v1beta1): docs/verification.md lists every template of
the pinned charts that branches on Capabilities and why that superset does not change them.

Renders are cached per process (one per chart + values + namespace + name + capabilities),
so the three stacks share the renders they have in common.
"""

from __future__ import annotations

import functools
import io
import json
import re
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml
from helm_python import _native

from infra.offline.mockengine import RecordedResource, Recording, integral
from tests import chart_cache
from tests.admission import pod_templates

RELEASE = "kubernetes:helm.sh/v3:Release"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML, plus the `=` scalar (YAML 1.1's value tag) some CRDs use as an enum member."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: str(node.value))


@dataclass(frozen=True)
class Release:
    """What one recorded Release asks Helm to install."""

    resource: str  # the Pulumi resource name
    chart: str
    version: str
    repository: str
    namespace: str
    name: str
    values_json: str  # canonical JSON (hashable: renders are cached by it)
    kubernetes_version: str  # the stack's cluster minor, e.g. "1.35"
    upstream: tuple[Release, ...] = field(default=(), compare=False, repr=False)

    @property
    def values(self) -> dict[str, Any]:
        return json.loads(self.values_json)

    @property
    def key(self) -> str:
        return f"{self.chart}-{self.version}"


@dataclass(frozen=True)
class Rendered:
    """One object Helm would apply: where it came from and the object itself."""

    source: str  # the template path in the chart (or crds/<file>)
    manifest: dict[str, Any]
    namespace: str  # metadata.namespace, else the release's (Helm applies it there)

    @property
    def kind(self) -> str:
        return str(self.manifest.get("kind"))

    @property
    def api_version(self) -> str:
        return str(self.manifest.get("apiVersion"))

    @property
    def name(self) -> str:
        return str((self.manifest.get("metadata") or {}).get("name"))

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name} ({self.source})"


def _upstream_urns(resource: RecordedResource, index: dict[str, RecordedResource]) -> set[str]:
    seen: set[str] = set()
    stack = [resource]
    while stack:
        current = stack.pop()
        urns = [*current.dependencies]
        for property_urns in current.property_dependencies.values():
            urns += property_urns
        for urn in urns:
            if urn not in seen and urn in index:
                seen.add(urn)
                stack.append(index[urn])
    return seen


def releases(recording: Recording, kubernetes_version: str) -> list[Release]:
    """Every Helm release of a recording (a stack whose cluster runs `kubernetes_version`),
    each with the releases it waits for."""
    index = recording.by_urn()
    recorded = recording.of_type(RELEASE)
    made: dict[str, Release] = {}

    def make(resource: RecordedResource) -> Release:
        if resource.urn not in made:
            upstream = sorted(
                u for u in _upstream_urns(resource, index) if index[u].type == RELEASE
            )
            inputs = resource.inputs
            made[resource.urn] = Release(
                resource=resource.name,
                chart=chart_cache.chart_name(inputs["chart"]),
                version=inputs["version"],
                repository=(inputs.get("repositoryOpts") or {}).get("repo", "")
                or (inputs["chart"] if inputs["chart"].startswith("oci://") else ""),
                namespace=inputs.get("namespace") or "default",
                name=inputs.get("name") or resource.name,
                values_json=json.dumps(integral(inputs.get("values") or {}), sort_keys=True),
                kubernetes_version=kubernetes_version,
                upstream=tuple(make(index[u]) for u in upstream),
            )
        return made[resource.urn]

    return [make(r) for r in recorded]


# -- Capabilities -----------------------------------------------------------------------------
@functools.cache
def builtin_api_versions(kubernetes_version: str) -> tuple[str, ...]:
    """The GA built-in API groups of the cluster's minor, as discovery lists them: every
    `group/version` and `group/version/Kind` (from kubernetes-validate's OpenAPI schemas)."""
    import kubernetes_validate

    path = (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / f"v{kubernetes_version}.0-local-strict"
        / "_definitions.json"
    )
    definitions = json.loads(path.read_text())["$defs"]
    found: set[str] = set()
    for definition in definitions.values():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            kind, version = gvk["kind"], gvk["version"]
            if kind in ("DeleteOptions", "WatchEvent") or kind.endswith("List"):
                continue  # listed for every version, served or not
            if "alpha" in version or "beta" in version:
                continue  # off unless enabled by a feature gate; EKS enables none
            group_version = f"{gvk['group']}/{version}" if gvk["group"] else version
            found |= {group_version, f"{group_version}/{kind}"}
    return tuple(sorted(found))


def crd_api_versions(objects: Iterable[Rendered]) -> set[str]:
    """`group/version` and `group/version/Kind` of every CRD among rendered objects."""
    found: set[str] = set()
    for obj in objects:
        if obj.kind != "CustomResourceDefinition":
            continue
        spec = obj.manifest.get("spec") or {}
        for version in spec.get("versions") or []:
            if version.get("served", True):
                group_version = f"{spec['group']}/{version['name']}"
                found |= {group_version, f"{group_version}/{spec['names']['kind']}"}
    return found


def api_versions(release: Release) -> tuple[str, ...]:
    """What the cluster serves when `release` installs: built-ins + its upstream's CRDs."""
    found = set(builtin_api_versions(release.kubernetes_version))
    for upstream in release.upstream:
        found |= crd_api_versions(render(upstream))
    return tuple(sorted(found))


# -- rendering --------------------------------------------------------------------------------
class ChartMissing(LookupError):
    pass


@functools.cache
def load(chart: str, version: str) -> helm.Chart:
    path = chart_cache.locate(chart, version)
    if path is None:
        raise ChartMissing(chart_cache.missing_message([f"{chart}-{version}"]))
    loaded = helm.Chart.load(path)
    if (loaded.name, loaded.version) != (chart, version):
        raise ValueError(f"{path} holds {loaded.name} {loaded.version}, not {chart} {version}")
    return loaded


def render_templates(
    chart: helm.Chart,
    values: dict[str, Any],
    *,
    namespace: str,
    name: str,
    kube_version: str,
    apis: Iterable[str] = (),
) -> dict[str, str]:
    """Helm's `template` on one loaded chart: template path -> rendered text.

    helm-python-sdk 0.2's `Chart.render` does not expose Capabilities, but its native
    `helm_render` accepts `kube_version` and `api_versions` in its (strictly decoded) options,
    so they are passed here; an SDK that dropped them fails loudly, never silently.
    """
    options = {
        "name": name,
        "namespace": namespace,
        "is_install": True,
        "kube_version": kube_version,
        "api_versions": list(apis),
    }
    rendered = _native.call_string(
        "helm_render", chart._raw(), json.dumps(values), json.dumps(options)
    )
    return json.loads(rendered)


def _documents(source: str, text: str, namespace: str) -> list[Rendered]:
    objects = []
    for document in yaml.load_all(text, Loader=_Loader):
        if not document:
            continue
        if not isinstance(document, dict) or "kind" not in document:
            raise ValueError(f"{source}: renders something that is not a Kubernetes object")
        # Helm applies a `List`'s items, one by one (the resource builder flattens it).
        items = document.get("items") or [] if document["kind"] == "List" else [document]
        for item in items:
            ns = (item.get("metadata") or {}).get("namespace") or namespace
            objects.append(Rendered(source, item, ns))
    return objects


@functools.cache
def _crds(chart: str, version: str) -> tuple[Rendered, ...]:
    """The chart's `crds/` files (installed before the templates, unless skipCrds): the same
    for every release of the chart, and megabytes of YAML, so parsed once."""
    objects: list[Rendered] = []
    for crd in load(chart, version).crds:
        objects += _documents(f"crds/{crd['filename']}", crd["data"], "")
    return tuple(objects)


@functools.cache
def _render(release: Release, apis: tuple[str, ...]) -> tuple[Rendered, ...]:
    chart = load(release.chart, release.version)
    templates = render_templates(
        chart,
        release.values,
        namespace=release.namespace,
        name=release.name,
        kube_version=f"v{release.kubernetes_version}.0",
        apis=apis,
    )
    objects = list(_crds(release.chart, release.version))
    for source, text in sorted(templates.items()):
        if source.endswith(".txt") or Path(source).name.startswith("_"):
            continue  # NOTES.txt, partials
        objects += _documents(source, text, release.namespace)
    return tuple(objects)


def render(release: Release) -> tuple[Rendered, ...]:
    """Every object the release would apply (raises helm's HelmRenderError on a failure)."""
    return _render(release, api_versions(release))


def missing_charts(all_releases: Iterable[Release]) -> list[str]:
    return sorted({r.key for r in all_releases if chart_cache.locate(r.chart, r.version) is None})


# -- what is inside the objects ---------------------------------------------------------------
# Container flags that name an image another pod will run (the Prometheus Operator injects
# its config reloader into every Prometheus and Alertmanager pod).
IMAGE_FLAGS = ("--prometheus-config-reloader=",)


def images(manifest: dict[str, Any]) -> set[str]:
    """Every container image an object runs: its pod templates' containers (and the images
    they pass on through `IMAGE_FLAGS`), and the `image` of the Prometheus Operator's custom
    resources (Prometheus, Alertmanager, ThanosRuler)."""
    found = set()
    for _, template in pod_templates(manifest):
        spec = template.get("spec") or {}
        for group in ("initContainers", "containers", "ephemeralContainers"):
            for container in spec.get(group) or []:
                if container.get("image"):
                    found.add(container["image"])
                for arg in container.get("args") or []:
                    found |= {arg.removeprefix(f) for f in IMAGE_FLAGS if arg.startswith(f)}
    if manifest.get("apiVersion", "").startswith("monitoring.coreos.com/"):
        image = (manifest.get("spec") or {}).get("image")
        if image:
            found.add(image)
    return found


# -- Chart.yaml's kubeVersion -----------------------------------------------------------------
_COMPARISON = re.compile(r"(>=|<=|!=|>|<|=)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?")


def kube_version_allows(constraint: str, kubernetes_version: str) -> bool:
    """Whether a chart's `kubeVersion` constraint (Masterminds semver: `||` of comma- or
    space-separated comparisons; a `-0` suffix only admits pre-releases) allows a cluster
    minor. Helm refuses to install a chart whose constraint the cluster fails."""
    cluster = tuple(int(p) for p in f"{kubernetes_version}.0".split(".")[:3])
    operators = {
        ">=": tuple.__ge__, "<=": tuple.__le__, ">": tuple.__gt__, "<": tuple.__lt__,
        "=": tuple.__eq__, "!=": tuple.__ne__,
    }  # fmt: skip
    for alternative in constraint.split("||"):
        text = alternative.replace(",", " ").strip()
        if re.search(r"[~^*xX]", text):
            raise NotImplementedError(f"kubeVersion {constraint!r}: only comparisons are read")
        matches = list(_COMPARISON.finditer(text))
        read = "".join(m.group(0) for m in matches).replace(" ", "")
        if not matches or read != text.replace(" ", ""):
            raise ValueError(f"cannot read kubeVersion {constraint!r}")
        if all(
            operators[m.group(1) or "="](cluster, tuple(int(p or 0) for p in m.groups()[1:]))
            for m in matches
        ):
            return True
    return False


# -- the templates' own text ------------------------------------------------------------------
def _walk_archive(data: bytes, prefix: str) -> Iterator[tuple[str, str]]:
    """(path below the chart's directory, text) of an archive; a subchart kept as an archive
    under charts/ is walked too, as `charts/<its name>/...` (Helm itself saves subcharts as
    directories, which need nothing special)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            path = member.name.split("/", 1)[1] if "/" in member.name else member.name
            content = archive.extractfile(member).read()  # type: ignore[union-attr]
            if path.startswith("charts/") and path.endswith(".tgz") and path.count("/") == 1:
                yield from _walk_archive(content, f"{prefix}charts/{_chart_name(content)}/")
            else:
                yield prefix + path, content.decode("utf-8", "replace")


def _chart_name(archive: bytes) -> str:
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        return opened.getmembers()[0].name.split("/", 1)[0]


def chart_files(chart: str, version: str) -> dict[str, str]:
    """Every file of a cached chart, subcharts included (`charts/<name>[-<version>]/...`)."""
    path = chart_cache.locate(chart, version)
    if path is None:
        raise ChartMissing(chart_cache.missing_message([f"{chart}-{version}"]))
    if path.is_file():
        return dict(_walk_archive(path.read_bytes(), ""))
    files = {}
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        relative = file.relative_to(path).as_posix()
        if relative.startswith("charts/") and file.suffix == ".tgz":
            data = file.read_bytes()
            files |= dict(_walk_archive(data, f"charts/{_chart_name(data)}/"))
        else:
            files[relative] = file.read_text("utf-8", "replace")
    return files


def capability_templates(chart: str, version: str) -> list[str]:
    """The chart's templates (its own and its subcharts') that read `.Capabilities`."""
    return sorted(
        path
        for path, text in chart_files(chart, version).items()
        if re.search(r"(^|/)templates/", path) and ".Capabilities" in text
    )
