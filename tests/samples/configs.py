"""Config files written for the tests: a Deployment+Service manifest, Helm values, and two
versions of the manifest for diffs."""

from __future__ import annotations

DEPLOYMENT = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  labels:
    app: checkout
spec:
  replicas: 1
  selector:
    matchLabels:
      app: checkout
  template:
    metadata:
      labels:
        app: checkout
    spec:
      containers:
        - name: app
          image: acme/checkout:latest
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: DB_HOST
              value: orders-db.prod.svc.cluster.local
            - name: DB_POOL_SIZE
              value: "5"
            - name: DB_PASSWORD
              value: hunter2-in-plain-sight
            - name: STRIPE_KEY
              valueFrom:
                secretKeyRef:
                  name: checkout-secrets
                  key: stripe-key
---
apiVersion: v1
kind: Service
metadata:
  name: checkout
spec:
  selector:
    app: checkout
  ports:
    - name: http
      port: 80
      targetPort: 8080
"""

HELM_VALUES = b"""\
replicaCount: 1
image:
  repository: registry.acme.io/checkout
  tag: 1.10
  pullPolicy: IfNotPresent
resources: {}
database:
  host: orders-db.prod.svc
  port: 5432
  url: postgresql://checkout:Pa55w0rd-in-url@orders-db:5432/orders
  password: "S3cr3t-values-pw"
  pool:
    size: 5
    maxOverflow: 10
  connectTimeout: 2s
redis:
  maxConnections: 50
  commandTimeout: 500ms
http:
  retries: 3
features:
  newCheckoutFlow: true
autoscaling:
  enabled: false
"""


OLD_DEPLOYMENT = DEPLOYMENT.replace(b"replicas: 1", b"replicas: 3").replace(
    b"acme/checkout:latest", b"acme/checkout:1.41"
)
NEW_DEPLOYMENT = DEPLOYMENT.replace(b"acme/checkout:latest", b"acme/checkout:1.42")
