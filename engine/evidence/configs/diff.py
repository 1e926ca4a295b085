"""What changed between two versions of one config file ("it worked before the deploy").

Settings are compared by path, Kubernetes objects by kind and name, named list items by
name, so a reordered manifest shows no changes and a new container shows as added settings.
Secret values are compared raw but shown as keyed hashes: a changed password is visible as
a changed placeholder, never as the password.
"""

from __future__ import annotations

from typing import Any

from engine.core.redact import Redactor
from engine.evidence.configs.detect import detect_format
from engine.evidence.configs.parse import Parsed, parse_config
from engine.evidence.configs.report import ConfigChange, ConfigDiff
from engine.evidence.configs.secrets import Masker, render
from engine.evidence.configs.walk import Document, Leaf, documents, k8s_noise, walk
from engine.evidence.decode import decode_text

MAX_CHANGES = 50
_SECRET_DATA = ("data", "stringData")

Settings = dict[str, tuple[str, Leaf, bool]]  # path -> (raw text, leaf, always secret)


def _settings(doc: Document) -> Settings:
    secret_object = doc.obj is not None and doc.obj.kind == "Secret"
    out: Settings = {}
    for leaf in walk(doc.data, skip=k8s_noise if doc.obj else None):
        forced = secret_object and bool(leaf.keys) and leaf.keys[0] in _SECRET_DATA
        out[leaf.path] = (render(leaf.value), leaf, forced)
    return out


def _by_label(parsed: Parsed) -> dict[str | None, Settings]:
    out: dict[str | None, Settings] = {}
    for doc in documents(parsed.documents):
        out.setdefault(doc.label, {}).update(_settings(doc))
    return out


def _parse(name: str, data: bytes) -> Parsed:
    text = decode_text(data).text
    return parse_config(
        detect_format(name, text), text, lenient_conf=name.lower().endswith(".conf")
    )


def _show(entry: tuple[str, Leaf, bool], masker: Masker) -> str:
    _, leaf, forced = entry
    value: Any = leaf.value
    return masker.show(value, leaf.keys, secret=forced)


def _object_changes(
    old: dict[str | None, Settings], new: dict[str | None, Settings], masker: Masker
) -> list[ConfigChange]:
    changes: list[ConfigChange] = []
    for label, after in new.items():
        before = old.get(label)
        if before is None:
            changes.append(ConfigChange(object=label, path="", before=None, after="added"))
            continue
        for path, entry in after.items():
            prior = before.get(path)
            if prior is None:
                changes.append(
                    ConfigChange(object=label, path=path, before=None, after=_show(entry, masker))
                )
            elif prior[0] != entry[0]:
                changes.append(
                    ConfigChange(
                        object=label,
                        path=path,
                        before=_show(prior, masker),
                        after=_show(entry, masker),
                    )
                )
        for path, entry in before.items():
            if path not in after:
                changes.append(
                    ConfigChange(object=label, path=path, before=_show(entry, masker), after=None)
                )
    for label in old:
        if label not in new:
            changes.append(ConfigChange(object=label, path="", before="present", after=None))
    return changes


def diff_configs(
    name: str,
    old: bytes,
    new: bytes,
    redactor: Redactor | None = None,
    *,
    limit: int = MAX_CHANGES,
) -> ConfigDiff:
    """Changes from `old` to `new` (two versions of the file `name`), secrets masked.

    A version that does not parse is reported in `errors` instead of a misleading list of
    removed settings. Unreadable (binary, empty) input raises EvidenceRejected.
    """
    before, after = _parse(name, old), _parse(name, new)
    masker = Masker(redactor or Redactor())
    errors = [
        f"{label}: {masker.scrub(parsed.error)}"
        for label, parsed in (("before", before), ("after", after))
        if parsed.error is not None
    ]
    changes = [] if errors else _object_changes(_by_label(before), _by_label(after), masker)
    for change in changes[:limit]:
        change.path = masker.scrub(change.path)  # map keys can be tokens too
    return ConfigDiff(
        name=name,
        format=after.format,
        changes=changes[:limit],
        more=max(0, len(changes) - limit),
        errors=errors,
    )
