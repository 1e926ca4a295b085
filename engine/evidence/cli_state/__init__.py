"""State that other CLIs print (ArgoCD apps, Kafka consumer groups, RabbitMQ clusters and
queues) as one evidence kind, `cli`: each tool is one module in registry.READERS."""
