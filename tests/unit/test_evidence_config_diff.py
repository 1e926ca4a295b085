"""Config diffs: what changed between two uploads of one file, secrets masked."""

from __future__ import annotations

from pathlib import Path

from engine.evidence.configs.analyze import describe_diff, diff_configs, summarize_diff
from tests.samples.configs import DEPLOYMENT, NEW_DEPLOYMENT, OLD_DEPLOYMENT


def test_diff_of_two_deployment_versions() -> None:
    diff = diff_configs("deployment.yaml", OLD_DEPLOYMENT, NEW_DEPLOYMENT)
    assert diff.errors == [] and diff.more == 0
    assert summarize_diff(diff) == "deployment.yaml: 2 changes in Deployment/checkout"
    assert describe_diff(diff) == [
        "spec.replicas: 3 → 1",
        "spec.template.spec.containers[app].image: acme/checkout:1.41 → acme/checkout:1.42",
    ]


def test_diff_names_objects_added_keys_and_masks_changed_secrets() -> None:
    new = (
        NEW_DEPLOYMENT.replace(b"hunter2-in-plain-sight", b"rotated-password-2")
        + b"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout-config\n"
        b"data:\n  LOG_LEVEL: debug\n"
    )
    diff = diff_configs("deployment.yaml", OLD_DEPLOYMENT, new)
    lines = describe_diff(diff)
    assert lines[:2] == [
        "Deployment/checkout spec.replicas: 3 → 1",
        "Deployment/checkout spec.template.spec.containers[app].image: "
        "acme/checkout:1.41 → acme/checkout:1.42",
    ]
    password = lines[2]
    assert password.startswith(
        "Deployment/checkout spec.template.spec.containers[app].env[DB_PASSWORD].value: [password:"
    )
    before, after = password.split(": ", 1)[1].split(" → ")
    assert before != after  # the change shows, the values do not
    assert lines[3] == "ConfigMap/checkout-config: added"
    as_json = diff.model_dump_json()
    assert "hunter2" not in as_json and "rotated-password" not in as_json


def test_diff_ignores_order_and_server_bookkeeping() -> None:
    deployment, service = DEPLOYMENT.split(b"---\n")
    live = deployment.replace(
        b"  name: checkout\n", b"  name: checkout\n  resourceVersion: '9'\n", 1
    )
    diff = diff_configs("deployment.yaml", DEPLOYMENT, service + b"---\n" + live)
    assert diff.changes == [] and summarize_diff(diff) == "deployment.yaml: no changes"


def test_diff_caps_changes_and_reports_unparseable_versions() -> None:
    old = "\n".join(f"key{i}: {i}" for i in range(80)).encode()
    new = "\n".join(f"key{i}: {i + 1}" for i in range(80)).encode()
    diff = diff_configs("values.yaml", old, new, limit=50)
    assert len(diff.changes) == 50 and diff.more == 30 and diff.total == 80
    assert describe_diff(diff, limit=10)[-1] == "…and 70 more changes"
    broken = diff_configs("values.yaml", old, b"a: b: c\n")
    assert broken.changes == []
    assert broken.errors == [
        "after: YAML error at line 1, column 5: mapping values are not allowed here"
    ]
    assert summarize_diff(broken).startswith("values.yaml: cannot compare, after: YAML error")


def test_versions_are_found_under_different_names() -> None:
    from engine.evidence.configs.analyze import analyze_config
    from engine.evidence.configs.versions import base_name, is_version_of

    assert base_name("deploy-v2.yaml") == base_name("deploy-v1.yaml") == "deploy.yaml"
    assert base_name("values.old.yaml") == "values.yaml"
    manifest = (
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\nspec:\n  replicas: 2\n"
    )
    first = analyze_config("deploy-v1.yaml", manifest)
    second = analyze_config("cart-after.yaml", manifest.replace(b"2", b"3"))
    other = analyze_config("payments.yaml", manifest.replace(b"cart", b"payments"))
    assert is_version_of(second, first)  # same Deployment, other name
    assert not is_version_of(other, first)


def test_the_cli_diffs_two_versions_given_together(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bot.cli.main import app

    v1, v2 = tmp_path / "deploy-v1.yaml", tmp_path / "deploy-v2.yaml"
    v1.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\nspec:\n  replicas: 2\n"
    )
    v2.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\nspec:\n  replicas: 1\n"
    )
    result = CliRunner().invoke(app, ["analyze", str(v1), str(v2)])
    assert result.exit_code == 0
    assert "since deploy-v1.yaml:" in result.output
    assert "spec.replicas: 2 → 1" in result.output
