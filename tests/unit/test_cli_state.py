"""Other CLIs' state as evidence: argocd apps, Kafka consumer groups, RabbitMQ clusters and
queues read into objects and findings, in their own words with the lines that show them.

The samples keep the tools' real column layouts (Go's tabwriter for argocd, the padded columns
of kafka-consumer-groups.sh, rabbitmqctl's sections and tab-separated tables).
"""

# ruff: noqa: E501

from __future__ import annotations

import pytest

from engine.cases.pasted import pasted_outputs
from engine.core.redact import Redactor
from engine.evidence.analyze import analyze, describe_report, detect_kind, summarize_report
from engine.evidence.cli_state.analyze import analyze_cli
from engine.evidence.cli_state.registry import READERS
from engine.evidence.cli_state.report import CliStateReport
from engine.investigate.reasoner import investigate_offline

ARGOCD_DEGRADED = """\
Name:               argocd/checkout
Project:            default
Server:             https://kubernetes.default.svc
Namespace:          shop
URL:                https://argocd.example.com/applications/checkout
Source:
- Repo:             https://git.example.com/platform/deploy.git
  Target:           main
  Path:             apps/checkout
SyncWindow:         Sync Allowed
Sync Policy:        Automated (Prune)
Sync Status:        OutOfSync from main (4f1c2a9)
Health Status:      Degraded

GROUP  KIND        NAMESPACE  NAME          STATUS     HEALTH    HOOK  MESSAGE
       ConfigMap   shop       checkout-env  Synced                     configmap/checkout-env configured
       Service     shop       checkout      Synced     Healthy         service/checkout unchanged
apps   Deployment  shop       checkout      OutOfSync  Degraded        Deployment "checkout" exceeded its progress deadline
"""

ARGOCD_FAILED_SYNC = """\
$ argocd app get payments --show-operation
Name:               argocd/payments
Project:            default
Server:             https://kubernetes.default.svc
Namespace:          shop
URL:                https://argocd.example.com/applications/payments
Repo:               https://git.example.com/platform/deploy.git
Target:             main
Path:               apps/payments
SyncWindow:         Sync Allowed
Sync Policy:        <none>
Sync Status:        OutOfSync from main (9b2e7d1)
Health Status:      Healthy

CONDITION  MESSAGE                                                                          LAST TRANSITION
SyncError  Failed sync attempt to 9b2e7d1: one or more objects failed to apply (dry run)  2024-03-11 08:40:12 +0000 UTC


Operation:          Sync
Sync Revision:      9b2e7d1c0a4f8e6b2d9c7a5e3f1b0d8c6a4e2f09
Phase:              Failed
Start:              2024-03-11 08:40:02 +0000 UTC
Finished:           2024-03-11 08:40:09 +0000 UTC
Duration:           7s
Message:            one or more objects failed to apply, reason: Deployment.apps "payments" is invalid: spec.template.spec.containers[0].image: Required value

GROUP  KIND        NAMESPACE  NAME      STATUS     HEALTH   HOOK  MESSAGE
       Service     shop       payments  Synced     Healthy        service/payments unchanged
apps   Deployment  shop       payments  OutOfSync  Healthy        Deployment.apps "payments" is invalid: spec.template.spec.containers[0].image: Required value
"""

ARGOCD_HEALTHY = """\
Name:               argocd/cart
Project:            default
Server:             https://kubernetes.default.svc
Namespace:          shop
URL:                https://argocd.example.com/applications/cart
Source:
- Repo:             https://git.example.com/platform/deploy.git
  Target:           main
  Path:             apps/cart
SyncWindow:         Sync Allowed
Sync Policy:        Automated (Prune)
Sync Status:        Synced to main (4f1c2a9)
Health Status:      Healthy

GROUP  KIND        NAMESPACE  NAME  STATUS  HEALTH   HOOK  MESSAGE
       Service     shop       cart  Synced  Healthy        service/cart unchanged
apps   Deployment  shop       cart  Synced  Healthy        deployment.apps/cart unchanged
"""

ARGOCD_LIST = """\
NAME               CLUSTER                         NAMESPACE  PROJECT  STATUS     HEALTH       SYNCPOLICY  CONDITIONS       REPO                                         PATH           TARGET
argocd/cart        https://kubernetes.default.svc  shop       default  Synced     Healthy      Auto-Prune  <none>           https://git.example.com/platform/deploy.git  apps/cart      main
argocd/checkout    https://kubernetes.default.svc  shop       default  OutOfSync  Degraded     Auto-Prune  <none>           https://git.example.com/platform/deploy.git  apps/checkout  main
argocd/payments    https://kubernetes.default.svc  shop       default  Unknown    Healthy      Auto        ComparisonError  https://git.example.com/platform/deploy.git  apps/payments  main
argocd/search      https://kubernetes.default.svc  search     default  OutOfSync  Healthy      Manual      <none>           https://git.example.com/platform/deploy.git  apps/search    main
"""

KAFKA_NO_MEMBERS = """\

Consumer group 'order-processor' has no active members.

GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID
order-processor orders          0          1045221         1067342         22121           -               -               -
order-processor orders          1          1039980         1061102         21122           -               -               -
order-processor orders          2          1051003         1072998         21995           -               -               -
"""

KAFKA_STUCK = """\
GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                                   HOST            CLIENT-ID
billing         invoices        0          880412          880415          3               consumer-billing-1-5c0b2f4e-8d1a-4a6e-9f3b-2a7c1d9e0b11       /10.42.1.17     consumer-billing-1
billing         invoices        1          879998          880001          3               consumer-billing-1-5c0b2f4e-8d1a-4a6e-9f3b-2a7c1d9e0b11       /10.42.1.17     consumer-billing-1
billing         invoices        2          402113          881240          479127          consumer-billing-2-77e1c3aa-0f5d-4b8e-a1c2-6d3e9f7b2c44       /10.42.3.9      consumer-billing-2
billing         invoices        3          880771          880772          1               consumer-billing-2-77e1c3aa-0f5d-4b8e-a1c2-6d3e9f7b2c44       /10.42.3.9      consumer-billing-2
"""

KAFKA_HEALTHY = """\

GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                          HOST            CLIENT-ID
search-indexer  products        0          55120           55120           0               consumer-1-0d9c6a1e-3b7f-4c2e-8a5d-1f0e9b8c7a66      /10.42.2.4      consumer-1
search-indexer  products        1          54987           54988           1               consumer-1-0d9c6a1e-3b7f-4c2e-8a5d-1f0e9b8c7a66      /10.42.2.4      consumer-1

GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                          HOST            CLIENT-ID
notifier        emails          0          10220           10220           0               consumer-2-6e5d4c3b-2a19-4f8e-b7d6-c5b4a3928170      /10.42.5.6      consumer-2
notifier        emails          1          10110           10131           21              consumer-2-6e5d4c3b-2a19-4f8e-b7d6-c5b4a3928170      /10.42.5.6      consumer-2
"""

KAFKA_STATE = """\
GROUP                     COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           #MEMBERS
billing                   kafka-1:9092 (1)          range                Stable          2
order-processor           kafka-0:9092 (0)                               Empty           0
"""

KAFKA_MEMBERS = """\
GROUP           CONSUMER-ID                                                   HOST            CLIENT-ID           #PARTITIONS
billing         consumer-billing-1-5c0b2f4e-8d1a-4a6e-9f3b-2a7c1d9e0b11       /10.42.1.17     consumer-billing-1  2
billing         consumer-billing-2-77e1c3aa-0f5d-4b8e-a1c2-6d3e9f7b2c44       /10.42.3.9      consumer-billing-2  2
"""

RABBIT_PARTITIONED = """\
Cluster status of node rabbit@rabbitmq-0 ...
Basics

Cluster name: rabbit@rabbitmq-0

Disk Nodes

rabbit@rabbitmq-0
rabbit@rabbitmq-1
rabbit@rabbitmq-2

Running Nodes

rabbit@rabbitmq-0
rabbit@rabbitmq-1

Versions

rabbit@rabbitmq-0: RabbitMQ 3.8.9 on Erlang 23.1.5
rabbit@rabbitmq-1: RabbitMQ 3.8.9 on Erlang 23.1.5

Maintenance status

Node: rabbit@rabbitmq-0, status: not under maintenance
Node: rabbit@rabbitmq-1, status: not under maintenance

Alarms

Memory alarm on node rabbit@rabbitmq-1

Network Partitions

Node rabbit@rabbitmq-0 cannot communicate with rabbit@rabbitmq-2

Listeners

Node: rabbit@rabbitmq-0, interface: [::], port: 25672, protocol: clustering, purpose: inter-node and CLI tool communication
Node: rabbit@rabbitmq-0, interface: [::], port: 5672, protocol: amqp, purpose: AMQP 0-9-1 and AMQP 1.0

Feature flags

Flag: drop_unroutable_metric, state: enabled
Flag: quorum_queue, state: enabled
"""

RABBIT_HEALTHY = """\
Cluster status of node rabbit@mq-0 ...
Basics

Cluster name: rabbit@mq-0

Disk Nodes

rabbit@mq-0
rabbit@mq-1
rabbit@mq-2

Running Nodes

rabbit@mq-0
rabbit@mq-1
rabbit@mq-2

Versions

rabbit@mq-0: RabbitMQ 3.12.13 on Erlang 26.2.2

Alarms

(none)

Network Partitions

(none)

Listeners

Node: rabbit@mq-0, interface: [::], port: 5672, protocol: amqp, purpose: AMQP 0-9-1 and AMQP 1.0
"""

RABBIT_ERLANG = """\
Cluster status of node 'rabbit@mq-0' ...
[{nodes,[{disc,['rabbit@mq-0','rabbit@mq-1','rabbit@mq-2']}]},
 {running_nodes,['rabbit@mq-1','rabbit@mq-0']},
 {cluster_name,<<"rabbit@mq-0">>},
 {partitions,[{'rabbit@mq-0',['rabbit@mq-2']}]},
 {alarms,[{'rabbit@mq-1',[]},{'rabbit@mq-0',[disk]}]}]
"""

RABBIT_QUEUES = (
    "Timeout: 60.0 seconds ...\n"
    "Listing queues for vhost / ...\n"
    "name\tmessages\tconsumers\n"
    "email.send\t0\t2\n"
    "orders.created\t48213\t0\n"
    "audit.events\t12\t1\n"
    "orders.dlq\t3120\t0\n"
)

RABBIT_PRETTY = """\
Timeout: 60.0 seconds ...
Listing queues for vhost / ...
┌─────────────────┬──────────┬───────────┐
│ name            │ messages │ consumers │
├─────────────────┼──────────┼───────────┤
│ reports.daily   │ 0        │ 0         │
│ payments.events │ 250311   │ 4         │
└─────────────────┴──────────┴───────────┘
"""

SAMPLES = {
    "argocd": [ARGOCD_DEGRADED, ARGOCD_FAILED_SYNC, ARGOCD_HEALTHY, ARGOCD_LIST],
    "kafka": [KAFKA_NO_MEMBERS, KAFKA_STUCK, KAFKA_HEALTHY, KAFKA_STATE, KAFKA_MEMBERS],
    "rabbitmq": [RABBIT_PARTITIONED, RABBIT_HEALTHY, RABBIT_ERLANG, RABBIT_QUEUES, RABBIT_PRETTY],
}
ALL = [(tool, text) for tool, texts in SAMPLES.items() for text in texts]


def read(text: str, name: str = "state.txt") -> CliStateReport:
    report = analyze(name, text.encode())
    assert isinstance(report, CliStateReport), report.kind
    return report


def strong(report: CliStateReport) -> list[str]:
    return [f.signature for f in report.findings if f.severity >= 0.5]


def assert_verbatim(report: CliStateReport, text: str) -> None:
    lines = set(text.split("\n"))
    for finding in report.findings:
        assert finding.lines, finding
        assert all(line in lines for line in finding.lines), finding.lines


@pytest.mark.parametrize(("tool", "text"), ALL)
def test_each_output_is_read_as_cli_state_by_its_tool(tool: str, text: str) -> None:
    # A name that says nothing: the content decides.
    assert detect_kind("output.txt", text.encode()) == "cli"
    report = read(text)
    assert report.tool == tool and report.objects
    assert_verbatim(report, text)
    others = [r for r in READERS if r.tool != tool]
    assert not any(r.detect(text) for r in others), "two readers claim one output"
    assert isinstance(describe_report(report, 4), list)


def test_a_degraded_argocd_app_names_the_resource_and_says_why() -> None:
    report = read(ARGOCD_DEGRADED)
    top = report.findings[0]
    assert (top.signature, top.component, top.object) == (
        "app-degraded",
        "checkout",
        "deployment/checkout",
    )
    assert 0.6 <= top.severity <= 0.7
    assert top.summary == (
        'ArgoCD app checkout: Deployment checkout is Degraded: Deployment "checkout" exceeded '
        "its progress deadline"
    )
    assert top.lines[0].startswith("apps   Deployment  shop       checkout")
    drift = next(f for f in report.findings if f.signature == "sync-failed")
    assert drift.severity < 0.5 and "OutOfSync from main (4f1c2a9)" in drift.summary
    assert summarize_report(report) == (
        "argocd app get: app checkout Degraded, OutOfSync; 1 of 3 resources not healthy; "
        + top.summary
    )
    assert describe_report(report, 3)[0] == f"⚠ deployment/checkout: {top.summary}"


def test_a_failed_sync_cites_the_operation_and_the_condition() -> None:
    report = read(ARGOCD_FAILED_SYNC)
    failed = [f for f in report.findings if f.signature == "sync-failed"]
    assert [f.severity for f in failed] == [0.6, 0.55]
    assert failed[0].summary.startswith("ArgoCD app payments: the last sync failed: one or more")
    assert failed[0].lines[0] == "Phase:              Failed"
    assert failed[1].summary.startswith("ArgoCD app payments: SyncError: Failed sync attempt")
    assert "app-degraded" not in strong(report)  # every resource is Healthy


def test_argocd_app_list_rows() -> None:
    report = read(ARGOCD_LIST)
    assert report.format == "app list" and [o.name for o in report.objects] == [
        "cart",
        "checkout",
        "payments",
        "search",
    ]
    found = {(f.component, f.signature): f for f in report.findings}
    assert (
        found["checkout", "app-degraded"].summary == "ArgoCD app checkout is Degraded (OutOfSync)"
    )
    assert found["payments", "sync-failed"].severity >= 0.5
    assert found["search", "sync-failed"].severity < 0.5  # OutOfSync alone: drift, not a cause
    assert ("checkout", "sync-failed") not in found  # already said with its health
    assert summarize_report(report).startswith("argocd app list: 4 apps (3 Healthy, 1 Degraded)")


def test_kafka_group_with_no_members_and_lag_is_strong() -> None:
    report = read(KAFKA_NO_MEMBERS)
    (finding,) = report.findings
    assert finding.signature == "consumer-lag" and finding.component == "order-processor"
    assert finding.severity >= 0.7
    assert finding.summary == (
        "consumer group order-processor on orders: no active members and a lag of 65,238 "
        "(p0: 22,121, p2: 21,995, p1: 21,122)"
    )
    assert finding.lines[0] == "Consumer group 'order-processor' has no active members."
    assert report.notes == ["Consumer group 'order-processor' has no active members."]


def test_kafka_lag_on_one_partition_is_a_stuck_consumer() -> None:
    report = read(KAFKA_STUCK)
    (finding,) = report.findings
    assert finding.severity >= 0.5 and finding.component == "billing"
    assert "479,127 on partition 2 alone (consumer-billing-2 on /10.42.3.9)" in finding.summary
    assert "stuck" in finding.summary
    assert finding.lines[0].startswith("billing         invoices        2          402113")


def test_kafka_state_and_members_variants() -> None:
    state = read(KAFKA_STATE)
    assert {o.name: o.status for o in state.objects} == {
        "billing": "Stable",
        "order-processor": "Empty",
    }
    assert strong(state) == []  # Empty says nobody reads, not that anything waits
    members = read(KAFKA_MEMBERS)
    assert [o.name for o in members.objects] == ["consumer-billing-1", "consumer-billing-2"]
    assert (
        summarize_report(members)
        == "kafka-consumer-groups --describe --members: 1 group, 2 members"
    )


def test_rabbitmq_partition_alarm_and_stopped_node() -> None:
    report = read(RABBIT_PARTITIONED)
    by = {f.signature: f for f in report.findings}
    assert report.findings[0].signature == "network-partition"
    assert by["network-partition"].severity == 0.8
    assert by["network-partition"].lines == [
        "Node rabbit@rabbitmq-0 cannot communicate with rabbit@rabbitmq-2"
    ]
    assert by["resource-alarm"].severity == 0.7
    assert by["resource-alarm"].summary.startswith("RabbitMQ memory alarm on rabbit@rabbitmq-1")
    assert by["node-down"].summary == (
        "RabbitMQ disk node rabbit@rabbitmq-2 is not running (2 of 3 nodes running)"
    )
    # The replicas are one cluster: one suspect holds all three findings.
    assert {f.component for f in report.findings} == {"rabbitmq"}
    assert summarize_report(report).startswith("rabbitmqctl cluster_status: 3 nodes, 2 running;")


def test_rabbitmq_erlang_terms_of_older_versions() -> None:
    report = read(RABBIT_ERLANG)
    assert sorted(strong(report)) == ["network-partition", "node-down", "resource-alarm"]
    alarm = next(f for f in report.findings if f.signature == "resource-alarm")
    assert "free disk space alarm on rabbit@mq-0" in alarm.summary


def test_rabbitmq_queue_backlog_without_consumers() -> None:
    report = read(RABBIT_QUEUES)
    found = {f.component: f for f in report.findings}
    assert found["orders.created"].severity == 0.6
    assert found["orders.created"].summary == (
        "RabbitMQ queue orders.created holds 48,213 messages and nobody consumes it"
    )
    assert found["orders.created"].lines == ["orders.created\t48213\t0"]
    assert found["orders.dlq"].severity < 0.5  # a dead-letter queue waits for people
    pretty = read(RABBIT_PRETTY)
    assert [o.name for o in pretty.objects] == ["reports.daily", "payments.events"]
    assert strong(pretty) == []  # 4 consumers on a big queue: slow, worth saying, not a cause


@pytest.mark.parametrize("text", [ARGOCD_HEALTHY, KAFKA_HEALTHY, RABBIT_HEALTHY])
def test_healthy_outputs_give_no_suspect(text: str) -> None:
    report = read(text)
    assert strong(report) == []
    assert investigate_offline("anything wrong?", [], [report]).suspects == []


NEAR_MISSES = {
    "a log line about lag": (
        "2024-03-11 08:44:01 WARN [consumer] GROUP TOPIC PARTITION CURRENT-OFFSET LAG high\n"
        "2024-03-11 08:44:02 ERROR [consumer] LAG 48213 on orders-0\n"
        "2024-03-11 08:44:03 INFO [consumer] rebalancing\n"
    ),
    "a CSV of offsets": (
        "GROUP,TOPIC,PARTITION,CURRENT-OFFSET,LOG-END-OFFSET,LAG\n"
        "billing,invoices,0,880412,880415,3\n"
        "billing,invoices,1,879998,880001,3\n"
    ),
    "a kubectl get table": (
        "NAME                        READY   STATUS             RESTARTS   AGE\n"
        "checkout-7d9f8c6b5-x2k4p    0/1     CrashLoopBackOff   5          4m\n"
        "cart-5b6c7d8e9f-abcde       1/1     Running            0          2d\n"
    ),
    "a kubectl describe": (
        "Name:         checkout-7d9f8c6b5-x2k4p\n"
        "Namespace:    shop\n"
        "Status:       Running\n"
        "Labels:       app=checkout\n"
    ),
    "a config": "name: checkout\nsync:\n  status: OutOfSync\nhealth: Degraded\n",
    "notes": "argocd says checkout is Degraded and OutOfSync; kafka lag is 48213 on orders\n",
}


@pytest.mark.parametrize("case", sorted(NEAR_MISSES))
def test_near_misses_are_not_claimed(case: str) -> None:
    data = NEAR_MISSES[case].encode()
    assert detect_kind("argocd-app-get.txt", data) != "cli"
    assert not any(reader.detect(NEAR_MISSES[case]) for reader in READERS)


def test_an_investigation_names_the_degraded_app_first() -> None:
    result = investigate_offline(
        "checkout is down", [], [analyze("app.txt", ARGOCD_DEGRADED.encode())]
    )
    assert result.suspects[0].component == "checkout"
    top = result.hypotheses[0]
    assert (top.signature, top.component) == ("app-degraded", "checkout")
    assert "exceeded its progress deadline" in top.statement
    assert top.supporting[0].text.startswith("apps   Deployment  shop       checkout")


def test_a_partitioned_cluster_and_a_dead_group_lead_their_cases() -> None:
    rabbit = investigate_offline("?", [], [read(RABBIT_PARTITIONED)])
    assert rabbit.suspects[0].component == "rabbitmq"
    assert rabbit.hypotheses[0].signature == "network-partition"
    kafka = investigate_offline("?", [], [read(KAFKA_NO_MEMBERS)])
    assert kafka.hypotheses[0].component == "order-processor"


def test_pasted_cli_output_is_evidence_and_reading_redacts() -> None:
    assert pasted_outputs(KAFKA_NO_MEMBERS) != []
    secret = ARGOCD_HEALTHY.replace(
        "https://git.example.com", "https://deploy:s3cr3t-t0ken-value@git.example.com"
    )
    report = analyze_cli("app.txt", secret.encode(), redactor=Redactor())
    assert "s3cr3t" not in report.model_dump_json()
