"""Command output pasted into a case thread is read as evidence, as an upload would be."""

from __future__ import annotations

import html

from tests.fakes.slack import FakeSlack
from tests.slack.conftest import StartBot

CHANNEL = "C0INCIDENT"
ALICE = "U0ALICE"
# What `kubectl describe pod` prints for a container killed at its memory limit.
DESCRIBE = """Name:             checkout-7d9f8c6b5-x2k4p
Namespace:        shop
Priority:         0
Node:             worker-2/10.0.3.12
Start Time:       Mon, 11 Mar 2024 08:01:12 +0000
Labels:           app=checkout
                  pod-template-hash=7d9f8c6b5
Status:           Running
IP:               10.244.2.17
Controlled By:    ReplicaSet/checkout-7d9f8c6b5
Containers:
  checkout:
    Container ID:   containerd://5f1c2a
    Image:          registry.example.com/checkout:4.2.0
    Port:           8080/TCP
    State:          Running
      Started:      Mon, 11 Mar 2024 08:44:51 +0000
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Mon, 11 Mar 2024 08:40:02 +0000
      Finished:     Mon, 11 Mar 2024 08:44:49 +0000
    Ready:          True
    Restart Count:  5
    Limits:
      cpu:     500m
      memory:  256Mi
    Requests:
      cpu:        250m
      memory:     256Mi
    Environment:  <none>
Conditions:
  Type              Status
  Initialized       True
  Ready             True
  ContainersReady   True
  PodScheduled      True
Events:
  Type     Reason     Age                  From     Message
  ----     ------     ----                 ----     -------
  Normal   Pulled     4m (x6 over 44m)     kubelet  Container image "{image}" already present
  Warning  BackOff    3m (x12 over 30m)    kubelet  Back-off restarting failed container {pod}
""".format(image="registry.example.com/checkout:4.2.0", pod="checkout in pod checkout-7d9f8c6b5")


def summary_text(message: dict[str, object]) -> str:
    return f"{message['text']} {message.get('blocks')}"


async def test_a_pasted_describe_of_an_oomkilled_pod_becomes_the_working_conclusion(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    event = slack.mention_event("checkout keeps restarting, why?", channel=CHANNEL, user=ALICE)
    await slack.send_event(event)
    thread = str(event["ts"])
    pin = await slack.wait_for_call("pins.add", lambda c: c.ok, timeout=20)
    summary = str(pin.params["timestamp"])
    await slack.wait_for_message(
        CHANNEL, summary, lambda m: "⏳" not in m["text"] and "consulting" in m["text"], timeout=20
    )

    pasted = f"here is the describe:\n```\n{DESCRIBE}```"
    await slack.send_event(
        slack.message_event(
            html.escape(pasted, quote=False), channel=CHANNEL, user=ALICE, thread_ts=thread
        )
    )

    shown = await slack.wait_for_message(
        CHANNEL,
        summary,
        lambda m: "⏳" not in m["text"] and "OOMKilled" in summary_text(m),
        timeout=30,
    )
    text = summary_text(shown)
    assert "OOMKilled: the container hit its memory limit" in text
    assert "256Mi" in text  # the limit it hit
    assert "checkout" in text and "kubectl" not in text.split("Next steps")[0].lower()
    assert "Reason:" in text or "Exit Code" in text or "Restart Count" in text  # a cited line
