"""What config evidence analysis returns: pydantic models, no logic beyond naming objects."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ConfigFormat = Literal["yaml", "json", "toml", "env", "ini", "properties", "unknown"]


class K8sObject(BaseModel):
    kind: str
    name: str
    namespace: str | None = None

    @property
    def ref(self) -> str:
        """'Deployment/checkout', with the namespace when the manifest sets one, since two
        namespaces can hold objects of the same kind and name."""
        base = f"{self.kind}/{self.name}"
        return f"{base} ({self.namespace})" if self.namespace else base


class Notable(BaseModel):
    """One setting worth a look, or one that is missing. Secret values are already masked."""

    path: str = Field(description="dotted path in its document, e.g. spec.replicas")
    value: str | None = Field(description="shown value; None when the point is its absence")
    why: str = Field(description="what it is, or what is wrong with it")
    warn: bool = Field(default=False, description="likely a problem, not just context")
    object: str | None = Field(default=None, description="Kubernetes object, 'Deployment/app'")
    brief: str | None = Field(
        default=None, description="short phrase for the one-line summary (warnings only)"
    )


class ConfigReport(BaseModel):
    """Analysis of one config file (Kubernetes manifest, Helm values, JSON, TOML, .env, INI)."""

    kind: Literal["config"] = "config"
    name: str
    changes: ConfigDiff | None = Field(
        default=None, description="against the earlier upload of this file in the case, if any"
    )
    size_bytes: int
    sha256: str
    format: ConfigFormat
    flavor: str = Field(description="what a person would call it: 'Kubernetes YAML', '.env'")
    documents: int = Field(description="documents parsed (YAML files can hold several)")
    parse_error: str | None = Field(
        default=None, description="'YAML error at line 14, column 3: ...': often the root cause"
    )
    error_line: int | None = None
    error_column: int | None = None
    error_excerpt: str | None = Field(default=None, description="the offending line, masked")
    objects: list[K8sObject] = Field(default_factory=list)
    notable: list[Notable] = Field(default_factory=list)
    notable_count: int = Field(default=0, description="notable settings before the list was cut")
    keys: int = Field(default=0, description="leaf settings (scalars and scalar lists)")
    notes: list[str] = Field(default_factory=list)
    redactions: dict[str, int] = Field(
        default_factory=dict, description="secret values masked in the report, by kind"
    )


class ConfigChange(BaseModel):
    """One setting that differs between two versions of a file; None means absent."""

    object: str | None = Field(default=None, description="'Deployment/app' or 'document 2'")
    path: str = Field(description="dotted path; '' when a whole object was added or removed")
    before: str | None
    after: str | None


class ConfigDiff(BaseModel):
    name: str
    previous: str | None = Field(default=None, description="the earlier version's file name")
    format: ConfigFormat
    changes: list[ConfigChange] = Field(default_factory=list)
    more: int = Field(default=0, description="changes left out of `changes`")
    errors: list[str] = Field(
        default_factory=list, description="'after: YAML error at ...' when a version fails"
    )

    @property
    def total(self) -> int:
        return len(self.changes) + self.more


# ConfigReport names ConfigDiff, defined after it.
ConfigReport.model_rebuild()
