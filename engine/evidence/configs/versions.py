"""Is this config a new version of one the case already has? Then it gets a diff.

People upload versions under the same name, but as often as not under different ones:
`deploy-v1.yaml` and `deploy-v2.yaml`, `values.old.yaml` and `values.yaml`, two exports of
the same Deployment. Two configs are versions of one another when they have the same name,
the same name once version words are removed, or (Kubernetes) the same objects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from engine.core.redact import Redactor
from engine.evidence.configs.analyze import diff_configs
from engine.evidence.configs.report import ConfigReport

T = TypeVar("T")

_VERSION_WORDS = re.compile(
    r"[-_.](?:v?\d+(?:\.\d+)*|old|new|before|after|prev|previous|current|orig|original|"
    r"backup|bak|broken|fixed|good|bad)(?=\.|$)",
    re.IGNORECASE,
)


def base_name(name: str) -> str:
    """'deploy-v2.yaml' -> 'deploy.yaml', 'values.old.yaml' -> 'values.yaml'."""
    path = name.rsplit("/", 1)[-1].lower()
    previous = None
    while previous != path:
        previous, path = path, _VERSION_WORDS.sub("", path, count=1)
    return path


def _objects(report: ConfigReport) -> set[tuple[str, str]]:
    return {(o.kind, o.name) for o in report.objects}


def is_version_of(report: ConfigReport, earlier: ConfigReport) -> bool:
    """Whether `report` is a later version of `earlier` (never of itself)."""
    if report.format != earlier.format:
        return False
    if report.name == earlier.name:
        return True
    mine, theirs = _objects(report), _objects(earlier)
    if mine and theirs:
        return bool(mine & theirs)
    return base_name(report.name) == base_name(earlier.name)


def previous_version(
    report: ConfigReport, earlier: Sequence[tuple[ConfigReport, T]]
) -> tuple[ConfigReport, T] | None:
    """The latest of the `earlier` configs (oldest first, each with what its caller keeps
    beside it: a row id, the bytes) that `report` is a new version of; None if none is."""
    return next((e for e in reversed(earlier) if is_version_of(report, e[0])), None)


def with_changes(
    report: ConfigReport,
    data: bytes,
    earlier: ConfigReport,
    earlier_data: bytes,
    redactor: Redactor | None = None,
) -> ConfigReport:
    """`report` with what changed since `earlier` (the bytes of each version given)."""
    changes = diff_configs(report.name, earlier_data, data, redactor)
    changes = changes.model_copy(update={"previous": earlier.name})
    return report.model_copy(update={"changes": changes})
