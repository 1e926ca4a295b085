"""Walk parsed config documents: Kubernetes objects, and leaf settings with readable paths.

Paths read like the kubectl/yq ones people already know: `spec.template.spec.containers[app]
.image`. List items with a unique `name` are keyed by it, so inserting a container or an env
var does not shift every later index in a diff.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from engine.evidence.configs.report import K8sObject

MAX_DEPTH = 64
MAX_LEAVES = 50_000
# Nodes visited, leaves or not: YAML aliases can make a small file a huge tree (billion laughs).
MAX_NODES = 200_000
# Dots stay bare ("spring.datasource.url" reads as people write it); "/" and spaces do not.
_PLAIN_KEY = re.compile(r"[\w.-]+")
# Server-side bookkeeping in `kubectl get -o yaml` output; last-applied-configuration holds a
# second, unmasked copy of the object (Secrets included), so it is never read.
_VOLATILE_METADATA = frozenset(
    {"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"}
)
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class Leaf:
    parts: tuple[str, ...]  # rendered segments: "spec", "[app]", '["prometheus.io/port"]'
    keys: tuple[str, ...]  # raw keys, and "[name]" for named list items, for matching rules
    value: Any

    @property
    def path(self) -> str:
        return join_path(self.parts)

    @property
    def key(self) -> str:
        return self.keys[-1] if self.keys else ""


@dataclass(frozen=True)
class Document:
    """One top-level config document; `obj` is set for Kubernetes objects."""

    data: Any
    obj: K8sObject | None
    label: str | None  # "Deployment/checkout", "document 2", or None for a single document


def key_segment(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) else f'["{key}"]'


def join_path(parts: tuple[str, ...] | list[str]) -> str:
    out = ""
    for part in parts:
        out += part if (not out or part.startswith("[")) else "." + part
    return out


def _k8s_object(doc: object) -> K8sObject | None:
    if not isinstance(doc, dict):
        return None
    kind, api = doc.get("kind"), doc.get("apiVersion")
    if not (isinstance(kind, str) and isinstance(api, str)):
        return None
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("name") or meta.get("generateName") or "?"
    namespace = meta.get("namespace")
    return K8sObject(kind=kind, name=str(name), namespace=str(namespace) if namespace else None)


def documents(raw: list[Any]) -> list[Document]:
    """Documents with Kubernetes `List`s (kubectl get -o yaml) opened into their items."""
    flat: list[Any] = []
    for doc in raw:
        obj = _k8s_object(doc)
        if obj is not None and obj.kind.endswith("List") and isinstance(doc.get("items"), list):
            flat.extend(doc["items"])
        else:
            flat.append(doc)
    out = []
    for i, doc in enumerate(flat, start=1):
        obj = _k8s_object(doc)
        label = obj.ref if obj else (f"document {i}" if len(flat) > 1 else None)
        out.append(Document(doc, obj, label))
    return out


def _is_scalar(value: object) -> bool:
    return not isinstance(value, dict | list)


def item_names(items: list[Any]) -> list[str] | None:
    """Names of list items when every item is a mapping with a unique `name`."""
    names = []
    for item in items:
        if not isinstance(item, dict):
            return None
        name = item.get("name")
        if not isinstance(name, str | int) or isinstance(name, bool):
            return None
        names.append(str(name))
    return names if len(set(names)) == len(names) else None


def item_segment(items: list[Any], index: int) -> str:
    names = item_names(items)
    return f"[{names[index]}]" if names else f"[{index}]"


Skip = Callable[[tuple[str, ...]], bool]
Node = tuple[tuple[str, ...], tuple[str, ...], Any]  # (parts, keys, value)


def _children(node: Any, parts: tuple[str, ...], keys: tuple[str, ...]) -> Iterator[Node]:
    if isinstance(node, dict):
        for key, child in node.items():
            name = str(key)
            yield child, (*parts, key_segment(name)), (*keys, name)
    elif isinstance(node, list):
        names = item_names(node)
        for i, child in enumerate(node):
            if names:
                yield child, (*parts, f"[{names[i]}]"), (*keys, f"[{names[i]}]")
            else:
                yield child, (*parts, f"[{i}]"), keys


def _is_leaf(node: Any) -> bool:
    if isinstance(node, dict):
        return False
    return not isinstance(node, list) or all(_is_scalar(item) for item in node)


def walk(
    value: Any,
    parts: tuple[str, ...] = (),
    keys: tuple[str, ...] = (),
    skip: Skip | None = None,
) -> Iterator[Leaf]:
    """Leaves under `value`: scalars, and scalar lists as one value (args, hosts). Empty
    mappings are not leaves, so `resources: {}` turning into limits reads as added limits."""
    stack: list[Node] = [(value, parts, keys)]
    count = visited = 0
    while stack and count < MAX_LEAVES and visited < MAX_NODES:
        node, at, names = stack.pop()
        visited += 1
        if len(at) > MAX_DEPTH or (skip is not None and skip(names)):
            continue
        if _is_leaf(node):
            count += 1
            yield Leaf(at, names, node)
        else:
            stack.extend(reversed(list(_children(node, at, names))))


def mappings(
    value: Any, parts: tuple[str, ...] = (), keys: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], dict[Any, Any]]]:
    """Every mapping under `value` (itself included), parents before children."""
    stack: list[Node] = [(value, parts, keys)]
    visited = 0
    while stack and visited < MAX_NODES:
        node, at, names = stack.pop()
        visited += 1
        if len(at) > MAX_DEPTH:
            continue
        if isinstance(node, dict):
            yield at, names, node
        if not _is_leaf(node):
            stack.extend(reversed(list(_children(node, at, names))))


def k8s_noise(keys: tuple[str, ...]) -> bool:
    """Paths of a Kubernetes object that are bookkeeping, not configuration."""
    if len(keys) == 1 and keys[0] == "status":
        return True
    if len(keys) == 2 and keys[0] == "metadata" and keys[1] in _VOLATILE_METADATA:
        return True
    return len(keys) >= 3 and keys[1] == "annotations" and keys[2] == LAST_APPLIED


def last_applied_only(keys: tuple[str, ...]) -> bool:
    """Skip only the unmasked copy of the object, for counting and scanning."""
    return len(keys) >= 3 and keys[1] == "annotations" and keys[2] == LAST_APPLIED
