"""Notable settings in any config document: Helm values, app JSON/TOML, .env, INI, and the
free-form parts of Kubernetes objects (ConfigMap data, annotations, env values).

What SREs look for first when a config is attached to an incident: pool sizes, timeouts,
connection limits, retries, hosts and URLs, feature flags, images, resources, replicas, and
whether secrets are in there (shown masked, with a stable hash to compare versions).
"""

from __future__ import annotations

from typing import Any

from engine.evidence.configs.report import Notable
from engine.evidence.configs.rules import (
    check_resources,
    classify,
    flag_is_on,
    image_problem,
)
from engine.evidence.configs.secrets import Masker, clip
from engine.evidence.configs.walk import Skip, join_path, mappings, walk

_RESOURCE_KEYS = frozenset({"requests", "limits", "claims"})
_REPLICA_KEYS = frozenset({"replicaCount", "replicas"})
_LOUD_FLAGS = ("debug", "maintenance")  # on in production, these change behaviour for all


def _helm_image(node: dict[Any, Any]) -> tuple[str, str | None]:
    """(reference, problem) for `image: {registry, repository, tag, digest}`."""
    ref = str(node["repository"])
    if node.get("registry"):
        ref = f"{node['registry']}/{ref}"
    tag, digest = node.get("tag"), node.get("digest")
    if digest:
        return f"{ref}@{digest}", None
    if isinstance(tag, float):
        # 1.10 in YAML is the number 1.1: the chart pulls a tag nobody pushed.
        return f"{ref}:{tag}", f"tag {tag} is a YAML number, not a string: quote it"
    if tag is None or tag == "":
        return ref, None  # charts default the tag to their appVersion
    return f"{ref}:{tag}", image_problem(f"{ref}:{tag}")


def image_note(path: str, shown: str, problem: str | None, obj: str | None) -> Notable:
    """An image reference; a warning when it is not pinned ('latest tag: not pinned')."""
    brief = f"image {shown} ({problem.split(':')[0]})" if problem else None
    why = problem or "image"
    return Notable(path=path, value=shown, why=why, warn=bool(problem), object=obj, brief=brief)


def _under(keys: tuple[str, ...], prefixes: list[tuple[str, ...]]) -> bool:
    return any(keys[: len(prefix)] == prefix for prefix in prefixes)


def _autoscaled(data: Any) -> bool:
    scaling = data.get("autoscaling") if isinstance(data, dict) else None
    return isinstance(scaling, dict) and scaling.get("enabled") is True


def _structure_notables(
    data: Any, base: tuple[str, ...], base_keys: tuple[str, ...], obj: str | None, masker: Masker
) -> tuple[list[Notable], list[tuple[str, ...]]]:
    """Helm-style `image:` and `resources:` mappings, judged whole; their keys are returned
    so the per-setting pass does not list them again."""
    out: list[Notable] = []
    handled: list[tuple[str, ...]] = []
    for parts, keys, node in mappings(data, base, base_keys):
        key = keys[-1] if keys else ""
        path = join_path(parts)
        if key == "image" and isinstance(node.get("repository"), str):
            ref, problem = _helm_image(node)
            out.append(image_note(path, masker.scrub(clip(ref)), problem, obj))
            handled.append(keys)
        elif key == "resources" and {str(k) for k in node} <= _RESOURCE_KEYS:
            shown, problems = check_resources(node)
            why = "; ".join(problems) or "resources"
            brief = f"{problems[0]} ({path})" if problems else None
            out.append(
                Notable(
                    path=path, value=shown, why=why, warn=bool(problems), object=obj, brief=brief
                )
            )
            handled.append(keys)
    return out, handled


def setting_notable(
    keys: tuple[str, ...],
    value: Any,
    path: str,
    masker: Masker,
    *,
    obj: str | None = None,
    flag_strings: bool = False,
) -> Notable | None:
    """One leaf setting as a Notable when it is a secret or a kind SREs look at first."""
    if masker.is_secret(keys, value):
        return Notable(path=path, value=masker.show(value, keys), why="secret (masked)", object=obj)
    kind = classify(keys, value, flag_strings=flag_strings)
    if kind is None:
        return None
    shown = masker.show(value, keys)
    loud = (
        kind == "feature flag"
        and flag_is_on(value)
        and any(word in keys[-1].lower() for word in _LOUD_FLAGS)
    )
    if loud:
        return Notable(
            path=path,
            value=shown,
            why=f"{kind}: {keys[-1]} is on",
            warn=True,
            object=obj,
            brief=f"{path} {shown}",
        )
    return Notable(path=path, value=shown, why=kind, object=obj)


def _replicas(path: str, value: int, obj: str | None, autoscaled: bool) -> Notable:
    if autoscaled or value > 1:
        return Notable(path=path, value=str(value), why="replicas", object=obj)
    why = "scaled to zero" if value == 0 else "single replica: no redundancy"
    return Notable(
        path=path, value=str(value), why=why, warn=True, object=obj, brief=f"replicas {value}"
    )


def generic_notables(
    data: Any,
    masker: Masker,
    *,
    obj: str | None = None,
    base: tuple[str, ...] = (),
    base_keys: tuple[str, ...] = (),
    flag_strings: bool = False,
    skip: Skip | None = None,
) -> list[Notable]:
    """Notable settings of one document (or one part of it, under `base`)."""
    out, handled = _structure_notables(data, base, base_keys, obj, masker)
    autoscaled = _autoscaled(data)
    for leaf in walk(data, base, base_keys, skip):
        if _under(leaf.keys, handled):
            continue
        path, value = leaf.path, leaf.value
        if (
            leaf.key == "image"
            and isinstance(value, str)
            and not masker.is_secret(leaf.keys, value)
        ):
            out.append(image_note(path, masker.scrub(clip(value)), image_problem(value), obj))
        elif leaf.key in _REPLICA_KEYS and isinstance(value, int) and not isinstance(value, bool):
            out.append(_replicas(path, value, obj, autoscaled))
        else:
            notable = setting_notable(
                leaf.keys, value, path, masker, obj=obj, flag_strings=flag_strings
            )
            if notable is not None:
                out.append(notable)
    return out
