# ruff: noqa: E501
"""The shop the scenarios happen in: request handlers of each service, and their chatter.

ingress-nginx -> api-gateway -> inventory | cart | checkout | recommendations
checkout -> cart, inventory, payments, kafka (order-events)
cart -> cart-cache (redis), inventory; inventory -> inventory-db (postgres)
payments -> payments-db (postgres), api.paystream.io (external payment provider)

Each handler logs the way its stack does: api-gateway and inventory are Go (logfmt, zap),
checkout and payments Java (Spring text, logstash JSON), cart Node (pino), recommendations
Python (structlog). Messages about a failed call are written in the caller's own words.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tests.scenarios.sim import (
    LANG,
    PROVIDER,
    REASONS,
    Outcome,
    Sim,
    Span,
    Trace,
    lognormal,
    service_addr,
    service_url,
    to_outcome_status,
)

ROUTES = {
    "product": ("GET", "/api/products/{sku}", "inventory", "GET", "/v1/products/{sku}"),
    "cart_view": ("GET", "/api/cart", "cart", "GET", "/v1/carts/{userId}"),
    "cart_add": ("POST", "/api/cart/items", "cart", "POST", "/v1/carts/{userId}/items"),
    "checkout": ("POST", "/api/checkout", "checkout", "POST", "/v1/checkout"),
    "recs": ("GET", "/api/recommendations", "recommendations", "GET", "/v1/recs/{userId}"),
}
STATIC = (
    "/",
    "/cart",
    "/checkout",
    "/static/js/main.4f1c2a7e.js",
    "/static/css/app.9b2e41.css",
    "/static/img/logo.svg",
    "/favicon.ico",
)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "ShopFast/5.12.0 (Android 14; Pixel 8)",
)
JAVA_PKG = "com.shopfast"


def java_transport(kind: str, method: str, url: str, host: str, ip: str, port: int) -> str:
    if kind == "timeout":
        return f'I/O error on {method} request for "{url}": Read timed out'
    return (
        f'I/O error on {method} request for "{url}": Connect to http://{host}:{port} '
        f"[{host}/{ip}] failed: Connection refused"
    )


class Shop(Sim):
    """The shop's request handlers on top of the simulator."""

    def __init__(
        self,
        rng: random.Random,
        start: float,
        end: float,
        *,
        rates: dict[str, float] | None = None,
        surge: Callable[[float], float] | None = None,
    ) -> None:
        super().__init__(rng, start, end, rates=rates, surge=surge)
        self.users = [f"u-{rng.randint(100000, 999999)}" for _ in range(420)]
        self.skus = [f"SKU-{rng.randint(10000, 99999)}" for _ in range(260)]
        self.clients = [
            f"{rng.choice((81, 84, 88, 91, 93, 176, 185, 212))}.{rng.randint(1, 254)}."
            f"{rng.randint(1, 254)}.{rng.randint(1, 254)}"
            for _ in range(150)
        ]
        self.upstream_ips = {
            "api-gateway": ["10.244.1.23", "10.244.2.41"],
            "frontend": ["10.244.1.9", "10.244.3.12"],
        }
        self.recs_fallback = True

    # -- ids --------------------------------------------------------------------------

    def rid(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"

    def next_order(self) -> int:
        self.order_seq += self.rng.randint(1, 3)
        return self.order_seq

    # -- edge -------------------------------------------------------------------------

    def edge(self, t: float, flow: str) -> None:
        rng = self.rng
        entry: dict[str, object] = {
            "t": t,
            "ip": rng.choice(self.clients),
            "agent": rng.choice(AGENTS),
            "req_id": self.rid() + self.rid(),
        }
        if flow == "static":
            path = rng.choice(STATIC)
            status = 304 if path.startswith("/static") and rng.random() < 0.4 else 200
            rt = lognormal(rng, 2.0) / 1000
            size = 0 if status == 304 else rng.randint(900, 180_000)
            entry |= {
                "method": "GET",
                "path": path,
                "status": status,
                "bytes": size,
                "rt": rt,
                "upstream": "shop-frontend-80",
                "up_addr": rng.choice(self.upstream_ips["frontend"]),
                "up_status": status,
                "referer": "https://shop.example.com/",
            }
            self.access.append(entry)
            return
        method, route, *_ = ROUTES[flow]
        user = rng.choice(self.users)
        sku = rng.choice(self.skus)
        path = route.replace("{sku}", sku)
        if flow == "recs":
            path += f"?user={user}&slot=home"
        trace = Trace(self)
        root = self.gateway(trace, flow, method, path, route, t, user=user, sku=sku)
        self.traces.append(trace)
        size = (
            rng.randint(80, 400) if root.status and root.status >= 400 else rng.randint(400, 9000)
        )
        entry |= {
            "method": method,
            "path": path,
            "status": root.status or 200,
            "bytes": size,
            "rt": root.dur_ms / 1000 + 0.0006,
            "upstream": "shop-api-gateway-8080",
            "up_addr": rng.choice(self.upstream_ips["api-gateway"]),
            "up_status": root.status,
            "referer": "https://shop.example.com/cart"
            if "checkout" in path
            else "https://shop.example.com/",
        }
        self.access.append(entry)

    # -- api-gateway (Go, logfmt) -----------------------------------------------------

    def gateway(
        self,
        trace: Trace,
        flow: str,
        method: str,
        path: str,
        route: str,
        t: float,
        *,
        user: str,
        sku: str,
    ) -> Span:
        rng = self.rng
        span = self.server_span(trace, None, "api-gateway", method, route, t)
        pod = self.pod("api-gateway", t)
        _, _, upstream, up_method, up_route = ROUTES[flow]
        up_path = up_route.replace("{sku}", sku).replace("{userId}", user)
        rid = self.rid()
        common: dict[str, Any] = {"method": method, "path": path.split("?")[0], "request_id": rid}
        if flow in ("cart_add", "checkout", "cart_view") and rng.random() < 0.006:
            end = t + lognormal(rng, 0.8) / 1000
            self.finish(span, end, 401)
            self.log(
                "api-gateway",
                end,
                "WARN",
                "auth rejected",
                pod=pod,
                **common,
                status=401,
                reason="token expired",
                user=user,
            )
            return span
        cur = t + lognormal(rng, 0.9) / 1000
        out = self.http(
            trace, span, upstream, up_method, up_path, up_route, cur, user=user, sku=sku
        )
        end = cur + out.dur_ms / 1000 + lognormal(rng, 0.4) / 1000
        took = round((end - t) * 1000, 1)
        if out.ok or (out.failure == "status" and (out.status or 500) < 500):
            status = out.status or 200
            self.finish(span, end, status)
            if status >= 400:
                self.log(
                    "api-gateway",
                    end,
                    "WARN" if status != 404 else "INFO",
                    "request completed",
                    pod=pod,
                    **common,
                    status=status,
                    duration_ms=took,
                    upstream=upstream,
                )
            elif rng.random() * self.gateway_info_every < 1:
                self.log(
                    "api-gateway",
                    end,
                    "INFO",
                    "request completed",
                    pod=pod,
                    **common,
                    status=status,
                    duration_ms=took,
                    upstream=upstream,
                )
            return span
        if flow == "recs" and self.recs_fallback:
            self.finish(span, end, 200)
            self.log(
                "api-gateway",
                end,
                "WARN",
                "recommendations unavailable, serving fallback",
                pod=pod,
                **common,
                status=200,
                upstream=upstream,
                upstream_status=out.status or 0,
                duration_ms=took,
            )
            return span
        status = to_outcome_status(out)
        if out.failure == "status":
            self.finish(span, end, status, f"upstream {upstream} returned {status}")
            self.log(
                "api-gateway",
                end,
                "ERROR",
                "upstream returned error",
                pod=pod,
                **common,
                status=status,
                upstream=upstream,
                duration_ms=took,
            )
            return span
        url = service_url(upstream) + up_path
        if out.failure == "timeout":
            err = f'{up_method.title()} "{url}": context deadline exceeded'
        elif out.failure == "refused":
            err = f"dial tcp {service_addr(upstream)}: connect: connection refused"
        else:
            err = out.message
        self.finish(span, end, status, err)
        self.log(
            "api-gateway",
            end,
            "ERROR",
            "upstream request failed",
            pod=pod,
            **common,
            status=status,
            upstream=upstream,
            duration_ms=took,
            err=err,
        )
        return span

    # -- inventory (Go, zap) ----------------------------------------------------------

    def h_inventory(
        self, trace: Trace, parent: Span, method: str, path: str, route: str, t: float, **kw: object
    ) -> Span:
        rng = self.rng
        span = self.server_span(trace, parent, "inventory", method, route, t)
        pod = self.pod("inventory", t)
        op = f"{method} {route}"
        cur = t + lognormal(rng, 0.5) / 1000
        cur += self.slowdown(parent.service, "inventory", op, t) / 1000
        crash = self.own_fault("inventory", op, t, pod)
        if crash is not None:
            end = cur + lognormal(rng, 2.0) / 1000
            msg = self.crash_text(crash, t)
            self.log(
                "inventory",
                end,
                "ERROR",
                "request failed",
                pod=pod,
                logger="api/handler.go:142",
                method=method,
                path=path,
                status=crash.status,
                error=msg,
                trace_id=trace.id,
            )
            return self.finish(span, end, crash.status, msg)
        sku = str(kw.get("sku") or rng.choice(self.skus))
        if route.startswith("/v1/reservations"):
            items = rng.randint(1, 4)
            attrs: dict[str, str | int] = {
                "db.system": "postgresql",
                "db.statement": "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2",
            }
            out = self.dependency(trace, span, "inventory-db", "UPDATE stock", cur, 5.0, attrs)
            cur += out.dur_ms / 1000
            if not out.ok:
                err = out.message or "context deadline exceeded"
                if out.failure == "refused":
                    err = f"failed to connect to `host=inventory-db user=inventory database=inventory`: dial error (dial tcp {service_addr('inventory-db')}: connect: connection refused)"
                end = cur + 0.0004
                self.log(
                    "inventory",
                    end,
                    "ERROR",
                    "reserve stock failed",
                    pod=pod,
                    logger="reserve/service.go:88",
                    order=kw.get("order"),
                    items=items,
                    error=err,
                    trace_id=trace.id,
                )
                return self.finish(span, end, 500, err)
            end = cur + lognormal(rng, 0.6) / 1000
            self.log(
                "inventory",
                end,
                "INFO",
                "reservation created",
                pod=pod,
                logger="reserve/service.go:112",
                order=kw.get("order"),
                items=items,
                took=f"{(end - t) * 1000:.1f}ms",
                trace_id=trace.id,
            )
            return self.finish(span, end, 201)
        stock = route.startswith("/v1/stock")
        statement = (
            "SELECT qty, reserved FROM stock WHERE sku = $1"
            if stock
            else ("SELECT p.*, s.qty FROM products p JOIN stock s USING (sku) WHERE p.sku = $1")
        )
        attrs = {"db.system": "postgresql", "db.statement": statement}
        out = self.dependency(
            trace,
            span,
            "inventory-db",
            "SELECT stock" if stock else "SELECT products",
            cur,
            1.8,
            attrs,
        )
        cur += out.dur_ms / 1000
        if not out.ok:
            err = out.message or "context deadline exceeded"
            end = cur + 0.0003
            self.log(
                "inventory",
                end,
                "ERROR",
                "lookup failed",
                pod=pod,
                logger="catalog/store.go:61",
                sku=sku,
                error=err,
                trace_id=trace.id,
            )
            return self.finish(span, end, 500, err)
        end = cur + lognormal(rng, 0.4) / 1000
        if not stock and rng.random() < 0.03:
            return self.finish(span, end, 404)
        if stock and rng.random() < 0.02:
            self.log(
                "inventory",
                end,
                "WARN",
                "low stock",
                pod=pod,
                logger="catalog/stock.go:40",
                sku=sku,
                qty=rng.randint(1, 4),
            )
        return self.finish(span, end, 200)

    # -- cart (Node, pino) ------------------------------------------------------------

    def h_cart(
        self, trace: Trace, parent: Span, method: str, path: str, route: str, t: float, **kw: object
    ) -> Span:
        rng = self.rng
        span = self.server_span(trace, parent, "cart", method, route, t)
        pod = self.pod("cart", t)
        op = f"{method} {route}"
        req = {"id": self.rid()[:12], "method": method, "url": path}
        cur = t + lognormal(rng, 0.6) / 1000 + self.slowdown(parent.service, "cart", op, t) / 1000
        crash = self.own_fault("cart", op, t, pod)
        if crash is not None:
            end = cur + lognormal(rng, 3.0) / 1000
            msg = self.crash_text(crash, t)
            self.log(
                "cart",
                end,
                "ERROR",
                "request errored",
                pod=pod,
                req=req,
                res={"statusCode": crash.status},
                err={
                    "type": "Error",
                    "message": msg,
                    "stack": "\n".join((f"Error: {msg}", *crash.stack)),
                },
                responseTime=round((end - t) * 1000),
                trace_id=trace.id,
            )
            return self.finish(span, end, crash.status, msg)
        if method == "POST":
            sku = str(kw.get("sku") or rng.choice(self.skus))
            out = self.http(
                trace, span, "inventory", "GET", f"/v1/stock/{sku}", "/v1/stock/{sku}", cur
            )
            cur += out.dur_ms / 1000
            if not out.ok and not (out.status and out.status < 500):
                end = cur + 0.0005
                if out.failure == "timeout":
                    message = f"timeout of {self.timeout_ms('cart', 'inventory'):.0f}ms exceeded"
                elif out.failure == "refused":
                    message = f"connect ECONNREFUSED {service_addr('inventory')}"
                elif out.failure == "status":
                    message = f"Request failed with status code {out.status}"
                else:
                    message = out.message
                status = to_outcome_status(out)
                self.log(
                    "cart",
                    end,
                    "ERROR",
                    "stock check failed",
                    pod=pod,
                    req=req,
                    err={
                        "type": "AxiosError",
                        "message": message,
                        "code": "ECONNABORTED" if out.failure == "timeout" else "ERR_BAD_RESPONSE",
                    },
                    sku=sku,
                    trace_id=trace.id,
                )
                self.log(
                    "cart",
                    end + 0.0002,
                    "ERROR",
                    "request completed",
                    pod=pod,
                    req=req,
                    res={"statusCode": status},
                    responseTime=round((end - t) * 1000),
                )
                return self.finish(span, end, status, message)
        command = "HSET" if method == "POST" else "HGETALL"
        attrs: dict[str, str | int] = {"db.system": "redis"}
        out = self.dependency(trace, span, "cart-cache", command, cur, 0.7, attrs)
        cur += out.dur_ms / 1000
        if not out.ok:
            message = out.message or "Command timed out"
            if out.failure == "timeout":
                message = f"Command timed out after {self.timeout_ms('cart', 'cart-cache'):.0f}ms"
            end = cur + 0.0003
            code = message.split()[1] if message.startswith("connect E") else "ERR"
            self.log(
                "cart",
                end,
                "ERROR",
                "failed to load cart" if method == "GET" else "failed to update cart",
                pod=pod,
                req=req,
                err={
                    "type": "Error",
                    "message": message,
                    "code": code,
                    "stack": f"Error: {message}\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)",
                },
                trace_id=trace.id,
            )
            self.log(
                "cart",
                end + 0.0002,
                "ERROR",
                "request completed",
                pod=pod,
                req=req,
                res={"statusCode": 503},
                responseTime=round((end - t) * 1000),
            )
            return self.finish(span, end, 503, message)
        end = cur + lognormal(rng, 0.5) / 1000
        status = 201 if method == "POST" else 200
        self.log(
            "cart",
            end,
            "INFO",
            "request completed",
            pod=pod,
            req=req,
            res={"statusCode": status},
            responseTime=round((end - t) * 1000, 1),
        )
        return self.finish(span, end, status)

    # -- checkout (Java, Spring Boot text) ---------------------------------------------

    def h_checkout(
        self, trace: Trace, parent: Span, method: str, path: str, route: str, t: float, **kw: object
    ) -> Span:
        rng = self.rng
        span = self.server_span(trace, parent, "checkout", method, route, t)
        pod = self.pod("checkout", t)
        thread = f"nio-8080-exec-{rng.randint(1, 24)}"
        user = str(kw.get("user"))
        order = self.next_order()
        op = f"{method} {route}"
        cur = (
            t + lognormal(rng, 1.5) / 1000 + self.slowdown(parent.service, "checkout", op, t) / 1000
        )

        def fail(
            step: str, out: Outcome | None, message: str, status: int, stack: tuple[str, ...] = ()
        ) -> Span:
            end = cur + lognormal(rng, 0.8) / 1000
            self.log(
                "checkout",
                end,
                "ERROR",
                f"Order {order} failed at step={step}: {message}",
                pod=pod,
                logger=f"{JAVA_PKG}.checkout.service.CheckoutService",
                thread=thread,
                stack=stack,
            )
            return self.finish(span, end, status, message)

        crash = self.own_fault("checkout", op, t, pod)
        if crash is not None:
            cur += lognormal(rng, 4.0) / 1000
            msg = self.crash_text(crash, t)
            end = cur + 0.001
            self.log(
                "checkout",
                end,
                "ERROR",
                f"Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed: {msg}] with root cause",
                pod=pod,
                logger="o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                thread=thread,
                stack=crash.stack,
            )
            return self.finish(span, end, crash.status, msg)

        steps = (
            ("cart", "cart", "GET", f"/v1/carts/{user}", "/v1/carts/{userId}"),
            ("reserve", "inventory", "POST", "/v1/reservations", "/v1/reservations"),
            ("payment", "payments", "POST", "/v1/charges", "/v1/charges"),
        )
        amount = round(rng.uniform(9, 240), 2)
        currency = self.setting("checkout", pod, "currency", "EUR")
        for step, callee, m, p, r in steps:
            out = self.http(
                trace,
                span,
                callee,
                m,
                p,
                r,
                cur,
                user=user,
                order=order,
                amount=amount,
                currency=currency,
            )
            cur += out.dur_ms / 1000
            if out.ok:
                continue
            url = service_url(callee) + p
            host = f"{callee}.shop.svc.cluster.local"
            if out.failure == "client":
                text = f'I/O error on {m} request for "{url}": {out.message}'
                return fail(
                    step,
                    out,
                    text,
                    502,
                    (
                        f"org.springframework.web.client.ResourceAccessException: {text}",
                        f"Caused by: {out.message}",
                        "\t... 121 common frames omitted",
                    ),
                )
            if out.failure in ("timeout", "refused"):
                text = java_transport(
                    out.failure, m, url, host, service_addr(callee).split(":")[0], 8080
                )
                cause = (
                    "java.net.SocketTimeoutException: Read timed out"
                    if out.failure == "timeout"
                    else ("java.net.ConnectException: Connection refused")
                )
                stack = (
                    f"org.springframework.web.client.ResourceAccessException: {text}",
                    "\tat org.springframework.web.client.RestTemplate.createResourceAccessException(RestTemplate.java:905)",
                    f"\tat {JAVA_PKG}.checkout.client.{callee.title()}Client.call({callee.title()}Client.java:{rng.choice((57, 61))})",
                    f"Caused by: {cause}",
                    "\t... 118 common frames omitted",
                )
                return fail(step, out, text, to_outcome_status(out), stack)
            status = out.status or 500
            text = f"{status} {REASONS.get(status, '')} from {m} {url}".replace("  ", " ")
            if status == 402:
                end = cur + 0.0008
                self.log(
                    "checkout",
                    end,
                    "INFO",
                    f"Order {order} not placed: payment declined",
                    pod=pod,
                    logger=f"{JAVA_PKG}.checkout.service.CheckoutService",
                    thread=thread,
                )
                return self.finish(span, end, 402)
            if status < 500 and out.message:
                text += f"; response: {out.message}"
            return fail(step, out, text, 502 if status >= 500 else 500)
        attrs: dict[str, str | int] = {"messaging.system": "kafka"}
        out = self.dependency(trace, span, "kafka", "order-events send", cur, 3.5, attrs)
        cur += out.dur_ms / 1000
        if not out.ok:
            text = out.message or (
                "org.apache.kafka.common.errors.TimeoutException: Topic order-events not "
                "present in metadata after 5000 ms."
            )
            return fail("publish", out, f"could not publish OrderPlaced: {text}", 500)
        end = cur + lognormal(rng, 1.0) / 1000
        self.log(
            "checkout",
            end,
            "INFO",
            f"Order {order} placed for {user}: {amount:.2f} EUR in {(end - t) * 1000:.0f} ms",
            pod=pod,
            logger=f"{JAVA_PKG}.checkout.service.CheckoutService",
            thread=thread,
        )
        return self.finish(span, end, 201)

    # -- payments (Java, logstash JSON) ------------------------------------------------

    def h_payments(
        self, trace: Trace, parent: Span, method: str, path: str, route: str, t: float, **kw: object
    ) -> Span:
        rng = self.rng
        span = self.server_span(trace, parent, "payments", method, route, t)
        pod = self.pod("payments", t)
        thread = f"http-nio-8080-exec-{rng.randint(1, 40)}"
        order = kw.get("order")
        amount = float(str(kw.get("amount") or 42.0))
        charge = f"ch_{self.rid()[:14]}"
        op = f"{method} {route}"
        logger = f"{JAVA_PKG}.payments.ChargeService"
        cur = (
            t + lognormal(rng, 1.0) / 1000 + self.slowdown(parent.service, "payments", op, t) / 1000
        )
        crash = self.own_fault("payments", op, t, pod)
        if crash is not None:
            end = cur + lognormal(rng, 2.0) / 1000
            msg = self.crash_text(crash, t)
            self.log(
                "payments",
                end,
                "WARN" if crash.status < 500 else "ERROR",
                msg,
                pod=pod,
                logger=logger,
                thread=thread,
                stack=crash.stack,
                order_id=order,
                trace_id=trace.id,
            )
            return self.finish(span, end, crash.status, msg)
        currency = str(kw.get("currency") or "EUR")
        if currency not in ("EUR", "USD", "GBP", "CHF", "SEK", "PLN"):
            end = cur + lognormal(rng, 0.6) / 1000
            body = (
                '{"error":"invalid_request","message":"invalid value for currency: '
                f"'{currency}' (expected ISO 4217 code)\"}}"
            )
            self.log(
                "payments",
                end,
                "WARN",
                f"Rejected charge request for order {order}: invalid value for currency: "
                f"'{currency}' (expected ISO 4217 code)",
                pod=pod,
                logger=f"{JAVA_PKG}.payments.web.ChargeController",
                thread=thread,
                order_id=order,
                trace_id=trace.id,
            )
            return self.finish(span, end, 400, body)
        db: dict[str, str | int] = {"db.system": "postgresql"}
        for step, (op_name, statement) in enumerate(
            (
                (
                    "INSERT payments",
                    "INSERT INTO payments (id, order_id, amount, status) VALUES ($1, $2, $3, 'pending')",
                ),
                ("provider", ""),
                (
                    "UPDATE payments",
                    "UPDATE payments SET status = $1, provider_ref = $2 WHERE order_id = $3",
                ),
            )
        ):
            if op_name == "provider":
                attrs: dict[str, str | int] = {
                    "http.method": "POST",
                    "http.url": f"https://{PROVIDER}/v1/payment_intents",
                }
                out = self.dependency(
                    trace, span, PROVIDER, "POST /v1/payment_intents", cur, 170.0, attrs
                )
                cur += out.dur_ms / 1000
                declined = out.failure == "status" and out.status == 402
                if declined or (out.ok and rng.random() < 0.025):
                    end = cur + 0.002
                    reason = rng.choice(("insufficient_funds", "do_not_honor", "expired_card"))
                    self.log(
                        "payments",
                        end,
                        "INFO",
                        f"Charge {charge} declined by PayStream: card_declined ({reason})",
                        pod=pod,
                        logger=logger,
                        thread=thread,
                        order_id=order,
                        trace_id=trace.id,
                    )
                    return self.finish(span, end, 402)
                if not out.ok:
                    if out.failure == "timeout":
                        text = f'PayStream call timed out: I/O error on POST request for "https://{PROVIDER}/v1/payment_intents": Read timed out'
                    elif out.failure == "status":
                        text = f"PayStream API returned {out.status} {REASONS.get(out.status or 500, '')}: {out.message}"
                    else:
                        text = f"PayStream call failed: {out.message}"
                    end = cur + 0.001
                    self.log(
                        "payments",
                        end,
                        "ERROR",
                        f"Charge {charge} for order {order} failed: {text}",
                        pod=pod,
                        logger=f"{JAVA_PKG}.payments.provider.PayStreamClient",
                        thread=thread,
                        order_id=order,
                        trace_id=trace.id,
                        stack=self.provider_stack(out),
                    )
                    status = 503 if out.status == 429 else 502
                    return self.finish(span, end, status, text)
                continue
            attrs = db | {"db.statement": statement}
            out = self.dependency(
                trace, span, "payments-db", op_name, cur, 2.2 if step == 0 else 1.6, attrs
            )
            cur += out.dur_ms / 1000
            if not out.ok:
                text = out.message or "canceling statement due to statement timeout"
                end = cur + 0.0008
                self.log(
                    "payments",
                    end,
                    "ERROR",
                    f"Charge {charge} for order {order} failed: {text}",
                    pod=pod,
                    logger=logger,
                    thread=thread,
                    order_id=order,
                    trace_id=trace.id,
                    stack=self.db_stack(text),
                )
                return self.finish(span, end, 500, text)
        end = cur + lognormal(rng, 0.8) / 1000
        took = (end - t) * 1000
        self.log(
            "payments",
            end,
            "INFO",
            f"Charge {charge} authorized for order {order}: {amount:.2f} {currency} in {took:.0f} ms",
            pod=pod,
            logger=logger,
            thread=thread,
            order_id=order,
            trace_id=trace.id,
        )
        if took > 2500:
            self.log(
                "payments",
                end + 0.0001,
                "WARN",
                f"Slow charge {charge}: {took:.0f} ms (threshold 2000 ms)",
                pod=pod,
                logger=f"{JAVA_PKG}.payments.metrics.SlowCallReporter",
                thread=thread,
                order_id=order,
                trace_id=trace.id,
            )
        return self.finish(span, end, 201)

    def provider_stack(self, out: Outcome) -> tuple[str, ...]:
        if out.failure != "client":
            return ()
        head = out.message.split(": ")[0]
        return (
            f"{head}: {out.message.split(': ', 1)[-1]}" if ": " in out.message else out.message,
            "\tat java.base/sun.security.ssl.Alert.createSSLException(Alert.java:130)"
            if "SSL" in head
            else "\tat java.base/java.net.InetAddress$CachedLookup.get(InetAddress.java:988)",
            f"\tat {JAVA_PKG}.payments.provider.PayStreamClient.createIntent(PayStreamClient.java:74)",
            "\t... 96 common frames omitted",
        )

    def db_stack(self, text: str) -> tuple[str, ...]:
        if "HikariPool" in text:
            return (
                f"java.sql.SQLTransientConnectionException: {text}",
                "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
                "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)",
                f"\tat {JAVA_PKG}.payments.repo.PaymentRepository.insert(PaymentRepository.java:48)",
            )
        return (
            f"org.postgresql.util.PSQLException: {text}",
            "\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2725)",
            f"\tat {JAVA_PKG}.payments.repo.PaymentRepository.insert(PaymentRepository.java:48)",
        )

    # -- recommendations (Python, structlog) -------------------------------------------

    def h_recommendations(
        self, trace: Trace, parent: Span, method: str, path: str, route: str, t: float, **kw: object
    ) -> Span:
        rng = self.rng
        span = self.server_span(trace, parent, "recommendations", method, route, t)
        pod = self.pod("recommendations", t)
        cur = t + lognormal(rng, 2.0) / 1000
        attrs: dict[str, str | int] = {"db.system": "redis"}
        out = self.dependency(trace, span, "feature-store", "HMGET", cur, 3.0, attrs)
        cur += out.dur_ms / 1000
        user = kw.get("user")
        if not out.ok:
            end = cur + 0.001
            err = out.message or "Timeout reading from socket"
            self.log(
                "recommendations",
                end,
                "ERROR",
                "feature lookup failed",
                pod=pod,
                logger="recs.features",
                user_id=user,
                error=err,
                exc_type="redis.exceptions.TimeoutError"
                if "Timeout" in err
                else "redis.exceptions.ConnectionError",
            )
            return self.finish(span, end, 503, err)
        end = cur + lognormal(rng, 12.0) / 1000
        self.log(
            "recommendations",
            end,
            "INFO",
            "recommendations served",
            pod=pod,
            logger="recs.api",
            user_id=user,
            items=rng.randint(4, 12),
            model="als-v41",
        )
        return self.finish(span, end, 200)


def lang(service: str) -> str:
    return LANG.get(service, "go")
