"""Reading a stack's config as Pulumi would hand it to the program: `Pulumi.<stack>.yaml`
parsed strictly (duplicate keys refused), structured values decoded, profiles merged under."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from infra.config.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class _StrictLoader(yaml.SafeLoader):
    """YAML loader that refuses duplicate keys (PyYAML keeps the last one silently) and keeps
    standard YAML working: anchors, aliases and merge keys (`<<: *shared`), which Pulumi reads
    too. A key the mapping writes itself may override one it merged (that is what a merge key
    is for); the same key written twice is the mistake."""


_MERGE = "tag:yaml.org,2002:merge"


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE:
            continue  # `<<`: merged below by construct_mapping (SafeLoader's flatten_mapping)
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (the later one would win)", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def read_stack_config(stack: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """Flat `{"ns:key": value}` config from `Pulumi.<stack>.yaml`, as Pulumi would pass it."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(p.name for p in root.glob("Pulumi.*.yaml"))
        raise SettingsError(stack, [f"{path.name} not found; stack files here: {', '.join(known)}"])
    try:
        # _StrictLoader is a SafeLoader (plus a duplicate-key check): no object construction.
        loader = _StrictLoader(path.read_text())
        try:
            node = loader.get_single_node()
            document = (loader.construct_document(node) if node else None) or {}
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise SettingsError(stack, [f"{path.name} is not valid YAML: {exc}"]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise SettingsError(
            stack,
            [
                f"{path.name}: config: must be a mapping of `namespace:key: value` entries, "
                f"not a {type(config).__name__}"
            ],
        )
    return {**config, **_top_level_text(node)}


def _top_level_text(document: yaml.Node) -> dict[str, str]:
    """The text of each top-level scalar under `config:`, as written. Pulumi hands a
    top-level value to the program as the stack file's text (`platform:owner: 1.10` arrives
    as "1.10"); only values inside a structured key keep their YAML type (and are checked
    for it). Reading the text here keeps `make plan` and the program in agreement."""
    config = next(
        (value for key, value in document.value if getattr(key, "value", None) == "config"),
        None,
    )
    if not isinstance(config, yaml.MappingNode):
        return {}
    return {
        key.value: value.value
        for key, value in config.value
        if isinstance(value, yaml.ScalarNode) and value.tag != "tag:yaml.org,2002:null"
    }


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` into a copy of `base`; nested mappings merge, everything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON strings."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
