# ruff: noqa: E501
"""The shop the scenarios happen in: request handlers of each service, and their chatter.

ingress-nginx -> api-gateway -> inventory | cart | checkout | recommendations
checkout -> cart, inventory, payments, kafka (order-events)
cart -> cart-cache (redis), inventory; inventory -> inventory-db (postgres)
payments -> payments-db (postgres), api.paystream.io (external payment provider)

Each handler logs the way its stack does: api-gateway and inventory are Go (logfmt, zap),
checkout and payments Java (Spring text, logstash JSON), cart Node (pino), recommendations
Python (structlog). Messages about a failed call are written in the caller's own words.

Every random draw of a request happens in a fixed order (span id, pod, then what the handler
needs), so the same seed gives the same traffic: keep that order when changing a handler.
"""

from __future__ import annotations

import random

from tests.scenarios.sim import (
    PROVIDER,
    REASONS,
    Handling,
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
# ingress-nginx's upstreams: (upstream name in the access log, pod IPs behind it)
UPSTREAMS = {
    "frontend": ("shop-frontend-80", ("10.244.1.9", "10.244.3.12")),
    "api-gateway": ("shop-api-gateway-8080", ("10.244.1.23", "10.244.2.41")),
}
JAVA_PKG = "com.shopfast"
CHECKOUT_SERVICE = f"{JAVA_PKG}.checkout.service.CheckoutService"
CHARGE_SERVICE = f"{JAVA_PKG}.payments.ChargeService"
PAYSTREAM_CLIENT = f"{JAVA_PKG}.payments.provider.PayStreamClient"
PAYMENT_INTENTS = f"https://{PROVIDER}/v1/payment_intents"
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "SEK", "PLN")  # what payments accepts
CHECKOUT_STEPS = (  # (step, callee, method, route); the path fills in the user
    ("cart", "cart", "GET", "/v1/carts/{userId}"),
    ("reserve", "inventory", "POST", "/v1/reservations"),
    ("payment", "payments", "POST", "/v1/charges"),
)
PAYMENTS_DB_WRITES = (  # (operation, statement, median ms) before and after the provider call
    (
        "INSERT payments",
        "INSERT INTO payments (id, order_id, amount, status) VALUES ($1, $2, $3, 'pending')",
        2.2,
    ),
    (
        "UPDATE payments",
        "UPDATE payments SET status = $1, provider_ref = $2 WHERE order_id = $3",
        1.6,
    ),
)


# -- how each stack words a failed call ------------------------------------------------------


def go_http_error(out: Outcome, method: str, url: str, callee: str) -> str:
    """Go's net/http client."""
    if out.failure == "timeout":
        return f'{method.title()} "{url}": context deadline exceeded'
    if out.failure == "refused":
        return f"dial tcp {service_addr(callee)}: connect: connection refused"
    return out.message


def axios_error(out: Outcome, timeout_ms: float, callee: str) -> str:
    """Node's axios."""
    if out.failure == "timeout":
        return f"timeout of {timeout_ms:.0f}ms exceeded"
    if out.failure == "refused":
        return f"connect ECONNREFUSED {service_addr(callee)}"
    if out.failure == "status":
        return f"Request failed with status code {out.status}"
    return out.message


def rest_template_error(
    rng: random.Random, out: Outcome, method: str, callee: str, path: str
) -> tuple[str, int, tuple[str, ...]]:
    """Spring's RestTemplate in checkout: the message, the status checkout answers, the stack."""
    url = service_url(callee) + path
    if out.failure == "client":
        text = f'I/O error on {method} request for "{url}": {out.message}'
        stack: tuple[str, ...] = (
            f"org.springframework.web.client.ResourceAccessException: {text}",
            f"Caused by: {out.message}",
            "\t... 121 common frames omitted",
        )
        return text, 502, stack
    if out.failure in ("timeout", "refused"):
        host = f"{callee}.shop.svc.cluster.local"
        if out.failure == "timeout":
            text = f'I/O error on {method} request for "{url}": Read timed out'
            cause = "java.net.SocketTimeoutException: Read timed out"
        else:
            ip = service_addr(callee).split(":")[0]
            text = (
                f'I/O error on {method} request for "{url}": Connect to http://{host}:8080 '
                f"[{host}/{ip}] failed: Connection refused"
            )
            cause = "java.net.ConnectException: Connection refused"
        client = f"{callee.title()}Client"
        stack = (
            f"org.springframework.web.client.ResourceAccessException: {text}",
            "\tat org.springframework.web.client.RestTemplate.createResourceAccessException(RestTemplate.java:905)",
            f"\tat {JAVA_PKG}.checkout.client.{client}.call({client}.java:{rng.choice((57, 61))})",
            f"Caused by: {cause}",
            "\t... 118 common frames omitted",
        )
        return text, to_outcome_status(out), stack
    status = out.status or 500
    text = f"{status} {REASONS.get(status, '')} from {method} {url}".replace("  ", " ")
    if status < 500 and out.message:
        text += f"; response: {out.message}"
    return text, 502 if status >= 500 else 500, ()


def paystream_error(out: Outcome) -> str:
    """payments' PayStream client."""
    if out.failure == "timeout":
        return f'PayStream call timed out: I/O error on POST request for "{PAYMENT_INTENTS}": Read timed out'
    if out.failure == "status":
        return f"PayStream API returned {out.status} {REASONS.get(out.status or 500, '')}: {out.message}"
    return f"PayStream call failed: {out.message}"


def provider_stack(out: Outcome) -> tuple[str, ...]:
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


def db_stack(text: str) -> tuple[str, ...]:
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


class Shop(Sim):
    """The shop's request handlers on top of the simulator."""

    recs_fallback = True  # the gateway answers 200 with fallback content when recs fail
    users: list[str]
    skus: list[str]
    clients: list[str]  # the shoppers' IP addresses

    def setup(self) -> None:
        rng = self.rng
        self.users = [f"u-{rng.randint(100000, 999999)}" for _ in range(420)]
        self.skus = [f"SKU-{rng.randint(10000, 99999)}" for _ in range(260)]
        self.clients = [
            f"{rng.choice((81, 84, 88, 91, 93, 176, 185, 212))}.{rng.randint(1, 254)}."
            f"{rng.randint(1, 254)}.{rng.randint(1, 254)}"
            for _ in range(150)
        ]

    # -- ids --------------------------------------------------------------------------

    def rid(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def next_order(self) -> int:
        self.order_seq += self.rng.randint(1, 3)
        return self.order_seq

    # -- edge (ingress-nginx) -----------------------------------------------------------

    def edge(self, t: float, flow: str) -> None:
        rng = self.rng
        entry: dict[str, object] = {
            "t": t,
            "ip": rng.choice(self.clients),
            "agent": rng.choice(AGENTS),
            "req_id": self.rid() + self.rid(),
        }
        answer = self.static_file() if flow == "static" else self.api_call(t, flow)
        self.access.append(entry | answer)

    def proxied(
        self,
        upstream: str,
        method: str,
        path: str,
        status: int,
        size: int,
        rt: float,
        up_status: int | None,
        referer: str,
    ) -> dict[str, object]:
        """The fields of an access log line for a request passed to `upstream`."""
        name, addrs = UPSTREAMS[upstream]
        return {
            "method": method,
            "path": path,
            "status": status,
            "bytes": size,
            "rt": rt,
            "upstream": name,
            "up_addr": self.rng.choice(addrs),
            "up_status": up_status,
            "referer": referer,
        }

    def static_file(self) -> dict[str, object]:
        rng = self.rng
        path = rng.choice(STATIC)
        status = 304 if path.startswith("/static") and rng.random() < 0.4 else 200
        rt = lognormal(rng, 2.0) / 1000
        size = 0 if status == 304 else rng.randint(900, 180_000)
        return self.proxied(
            "frontend", "GET", path, status, size, rt, status, "https://shop.example.com/"
        )

    def api_call(self, t: float, flow: str) -> dict[str, object]:
        rng = self.rng
        method, route, *_ = ROUTES[flow]
        user = rng.choice(self.users)
        sku = rng.choice(self.skus)
        path = route.replace("{sku}", sku)
        if flow == "recs":
            path += f"?user={user}&slot=home"
        trace = Trace(self)
        root = self.gateway(trace, flow, method, path, route, t, user=user, sku=sku)
        self.traces.append(trace)
        failed = root.status and root.status >= 400
        size = rng.randint(80, 400) if failed else rng.randint(400, 9000)
        page = "cart" if "checkout" in path else ""
        rt = root.dur_ms / 1000 + 0.0006
        return self.proxied(
            "api-gateway",
            method,
            path,
            root.status or 200,
            size,
            rt,
            root.status,
            f"https://shop.example.com/{page}",
        )

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
        h = self.handle(trace, None, "api-gateway", method, path, route, t)
        _, _, upstream, up_method, up_route = ROUTES[flow]
        up_path = up_route.replace("{sku}", sku).replace("{userId}", user)
        h.lead = {"method": method, "path": path.split("?")[0], "request_id": self.rid()}
        if flow in ("cart_add", "checkout", "cart_view") and rng.random() < 0.006:
            end = t + lognormal(rng, 0.8) / 1000
            h.log(end, "WARN", "auth rejected", status=401, reason="token expired", user=user)
            return h.finish(end, 401)
        cur = t + lognormal(rng, 0.9) / 1000
        out = self.http(
            trace, h.span, upstream, up_method, up_path, up_route, cur, user=user, sku=sku
        )
        end = cur + out.dur_ms / 1000 + lognormal(rng, 0.4) / 1000
        took = round((end - t) * 1000, 1)
        if out.ok or (out.failure == "status" and (out.status or 500) < 500):
            status = out.status or 200
            # Errors always, successes 1 in `gateway_info_every` (sampled INFO logging).
            if status >= 400 or rng.random() * self.gateway_info_every < 1:
                level = "WARN" if status >= 400 and status != 404 else "INFO"
                h.log(
                    end,
                    level,
                    "request completed",
                    status=status,
                    duration_ms=took,
                    upstream=upstream,
                )
            return h.finish(end, status)
        if flow == "recs" and self.recs_fallback:
            h.log(
                end,
                "WARN",
                "recommendations unavailable, serving fallback",
                status=200,
                upstream=upstream,
                upstream_status=out.status or 0,
                duration_ms=took,
            )
            return h.finish(end, 200)
        status = to_outcome_status(out)
        if out.failure == "status":  # the upstream answered with an error
            err = f"upstream {upstream} returned {status}"
            msg = "upstream returned error"
            h.log(end, "ERROR", msg, status=status, upstream=upstream, duration_ms=took)
        else:  # no answer at all
            err = go_http_error(out, up_method, service_url(upstream) + up_path, upstream)
            msg = "upstream request failed"
            h.log(end, "ERROR", msg, status=status, upstream=upstream, duration_ms=took, err=err)
        return h.finish(end, status, err)

    # -- inventory (Go, zap) ----------------------------------------------------------

    def h_inventory(self, h: Handling, **kw: object) -> Span:
        rng, trace = self.rng, h.trace
        h.tail = {"trace_id": trace.id}
        cur = h.arrive(0.5)
        if crash := h.crash(cur, 2.0):
            h.log(
                crash.end,
                "ERROR",
                "request failed",
                logger="api/handler.go:142",
                method=h.method,
                path=h.path,
                status=crash.status,
                error=crash.message,
            )
            return h.finish(crash.end, crash.status, crash.message)
        sku = str(kw.get("sku") or rng.choice(self.skus))
        if h.route.startswith("/v1/reservations"):
            return self.reserve(h, cur, kw.get("order"))
        stock = h.route.startswith("/v1/stock")
        statement = (
            "SELECT qty, reserved FROM stock WHERE sku = $1"
            if stock
            else "SELECT p.*, s.qty FROM products p JOIN stock s USING (sku) WHERE p.sku = $1"
        )
        attrs: dict[str, str | int] = {"db.system": "postgresql", "db.statement": statement}
        op = "SELECT stock" if stock else "SELECT products"
        out, cur = h.depend("inventory-db", op, cur, 1.8, attrs)
        if not out.ok:
            err = out.message or "context deadline exceeded"
            end = cur + 0.0003
            h.log(end, "ERROR", "lookup failed", logger="catalog/store.go:61", sku=sku, error=err)
            return h.finish(end, 500, err)
        end = cur + lognormal(rng, 0.4) / 1000
        if not stock and rng.random() < 0.03:
            return h.finish(end, 404)
        if stock and rng.random() < 0.02:
            qty = rng.randint(1, 4)
            h.log(
                end, "WARN", "low stock", logger="catalog/stock.go:40", tail=False, sku=sku, qty=qty
            )
        return h.finish(end, 200)

    def reserve(self, h: Handling, cur: float, order: object) -> Span:
        """POST /v1/reservations: one UPDATE of the stock rows."""
        rng = self.rng
        items = rng.randint(1, 4)
        attrs: dict[str, str | int] = {
            "db.system": "postgresql",
            "db.statement": "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2",
        }
        out, cur = h.depend("inventory-db", "UPDATE stock", cur, 5.0, attrs)
        if not out.ok:
            err = out.message or "context deadline exceeded"
            if out.failure == "refused":
                err = f"failed to connect to `host=inventory-db user=inventory database=inventory`: dial error (dial tcp {service_addr('inventory-db')}: connect: connection refused)"
            end = cur + 0.0004
            h.log(
                end,
                "ERROR",
                "reserve stock failed",
                logger="reserve/service.go:88",
                order=order,
                items=items,
                error=err,
            )
            return h.finish(end, 500, err)
        end = cur + lognormal(rng, 0.6) / 1000
        h.log(
            end,
            "INFO",
            "reservation created",
            logger="reserve/service.go:112",
            order=order,
            items=items,
            took=f"{(end - h.t) * 1000:.1f}ms",
        )
        return h.finish(end, 201)

    # -- cart (Node, pino) ------------------------------------------------------------

    def h_cart(self, h: Handling, **kw: object) -> Span:
        rng, trace, t = self.rng, h.trace, h.t
        h.lead = {"req": {"id": self.rid()[:12], "method": h.method, "url": h.path}}
        h.tail = {"trace_id": trace.id}
        cur = h.arrive(0.6)
        if crash := h.crash(cur, 3.0):
            msg = crash.message
            h.log(
                crash.end,
                "ERROR",
                "request errored",
                res={"statusCode": crash.status},
                err={
                    "type": "Error",
                    "message": msg,
                    "stack": "\n".join((f"Error: {msg}", *crash.stack)),
                },
                responseTime=round((crash.end - t) * 1000),
            )
            return h.finish(crash.end, crash.status, msg)
        if h.method == "POST":
            sku = str(kw.get("sku") or rng.choice(self.skus))
            out = self.http(
                trace, h.span, "inventory", "GET", f"/v1/stock/{sku}", "/v1/stock/{sku}", cur
            )
            cur += out.dur_ms / 1000
            if not out.ok and not (out.status and out.status < 500):
                end = cur + 0.0005
                message = axios_error(out, self.timeout_ms("cart", "inventory"), "inventory")
                status = to_outcome_status(out)
                code = "ECONNABORTED" if out.failure == "timeout" else "ERR_BAD_RESPONSE"
                h.log(
                    end,
                    "ERROR",
                    "stock check failed",
                    err={"type": "AxiosError", "message": message, "code": code},
                    sku=sku,
                )
                return self.cart_answer(h, end, status, message)
        command = "HSET" if h.method == "POST" else "HGETALL"
        attrs: dict[str, str | int] = {"db.system": "redis"}
        out, cur = h.depend("cart-cache", command, cur, 0.7, attrs)
        if not out.ok:
            message = out.message or "Command timed out"
            if out.failure == "timeout":
                message = f"Command timed out after {self.timeout_ms('cart', 'cart-cache'):.0f}ms"
            end = cur + 0.0003
            code = message.split()[1] if message.startswith("connect E") else "ERR"
            h.log(
                end,
                "ERROR",
                "failed to load cart" if h.method == "GET" else "failed to update cart",
                err={
                    "type": "Error",
                    "message": message,
                    "code": code,
                    "stack": f"Error: {message}\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)",
                },
            )
            return self.cart_answer(h, end, 503, message)
        end = cur + lognormal(rng, 0.5) / 1000
        return self.cart_answer(h, end, 201 if h.method == "POST" else 200)

    def cart_answer(self, h: Handling, end: float, status: int, error: str | None = None) -> Span:
        """pino-http's 'request completed' line; `error` (None when it went well) is logged
        just before it."""
        failed = error is not None
        took = round((end - h.t) * 1000) if failed else round((end - h.t) * 1000, 1)
        at = end + 0.0002 if failed else end
        level = "ERROR" if failed else "INFO"
        h.log(
            at,
            level,
            "request completed",
            tail=False,
            res={"statusCode": status},
            responseTime=took,
        )
        return h.finish(end, status, error)

    # -- checkout (Java, Spring Boot text) ---------------------------------------------

    def h_checkout(self, h: Handling, **kw: object) -> Span:
        rng, trace, t = self.rng, h.trace, h.t
        h.logger, h.thread = CHECKOUT_SERVICE, f"nio-8080-exec-{rng.randint(1, 24)}"
        user = str(kw.get("user"))
        order = self.next_order()
        cur = h.arrive(1.5)

        def fail(step: str, message: str, status: int, stack: tuple[str, ...] = ()) -> Span:
            end = cur + lognormal(rng, 0.8) / 1000
            h.log(end, "ERROR", f"Order {order} failed at step={step}: {message}", stack=stack)
            return h.finish(end, status, message)

        if crash := h.crash(cur, 4.0, pause=0.001):
            h.log(
                crash.end,
                "ERROR",
                f"Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed: {crash.message}] with root cause",
                logger="o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                stack=crash.stack,
            )
            return h.finish(crash.end, crash.status, crash.message)

        amount = round(rng.uniform(9, 240), 2)
        currency = self.setting("checkout", h.pod, "currency", "EUR")
        for step, callee, m, r in CHECKOUT_STEPS:
            p = r.replace("{userId}", user)
            out = self.http(
                trace,
                h.span,
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
            if out.failure == "status" and out.status == 402:
                end = cur + 0.0008
                h.log(end, "INFO", f"Order {order} not placed: payment declined")
                return h.finish(end, 402)
            text, status, stack = rest_template_error(rng, out, m, callee, p)
            return fail(step, text, status, stack)
        attrs: dict[str, str | int] = {"messaging.system": "kafka"}
        out, cur = h.depend("kafka", "order-events send", cur, 3.5, attrs)
        if not out.ok:
            text = out.message or (
                "org.apache.kafka.common.errors.TimeoutException: Topic order-events not "
                "present in metadata after 5000 ms."
            )
            return fail("publish", f"could not publish OrderPlaced: {text}", 500)
        end = cur + lognormal(rng, 1.0) / 1000
        took = (end - t) * 1000
        h.log(end, "INFO", f"Order {order} placed for {user}: {amount:.2f} EUR in {took:.0f} ms")
        return h.finish(end, 201)

    # -- payments (Java, logstash JSON) ------------------------------------------------

    def h_payments(self, h: Handling, **kw: object) -> Span:
        rng, trace, t = self.rng, h.trace, h.t
        h.logger, h.thread = CHARGE_SERVICE, f"http-nio-8080-exec-{rng.randint(1, 40)}"
        order = kw.get("order")
        h.tail = {"order_id": order, "trace_id": trace.id}
        amount = float(str(kw.get("amount") or 42.0))
        charge = f"ch_{self.rid()[:14]}"
        cur = h.arrive(1.0)
        if crash := h.crash(cur, 2.0):
            level = "WARN" if crash.status < 500 else "ERROR"
            h.log(crash.end, level, crash.message, stack=crash.stack)
            return h.finish(crash.end, crash.status, crash.message)
        currency = str(kw.get("currency") or "EUR")
        if currency not in CURRENCIES:
            end = cur + lognormal(rng, 0.6) / 1000
            problem = f"invalid value for currency: '{currency}' (expected ISO 4217 code)"
            h.log(
                end,
                "WARN",
                f"Rejected charge request for order {order}: {problem}",
                logger=f"{JAVA_PKG}.payments.web.ChargeController",
            )
            return h.finish(end, 400, f'{{"error":"invalid_request","message":"{problem}"}}')
        before, after = PAYMENTS_DB_WRITES
        cur, failed = self.payments_db(h, before, cur, charge)
        if failed is not None:
            return failed
        cur, failed = self.charge_provider(h, cur, charge)
        if failed is not None:
            return failed
        cur, failed = self.payments_db(h, after, cur, charge)
        if failed is not None:
            return failed
        end = cur + lognormal(rng, 0.8) / 1000
        took = (end - t) * 1000
        h.log(
            end,
            "INFO",
            f"Charge {charge} authorized for order {order}: {amount:.2f} {currency} in {took:.0f} ms",
        )
        if took > 2500:
            h.log(
                end + 0.0001,
                "WARN",
                f"Slow charge {charge}: {took:.0f} ms (threshold 2000 ms)",
                logger=f"{JAVA_PKG}.payments.metrics.SlowCallReporter",
            )
        return h.finish(end, 201)

    def payments_db(
        self, h: Handling, write: tuple[str, str, float], cur: float, charge: str
    ) -> tuple[float, Span | None]:
        """One statement on payments-db; the failed request's span if it failed."""
        op, statement, median = write
        attrs: dict[str, str | int] = {"db.system": "postgresql", "db.statement": statement}
        out, cur = h.depend("payments-db", op, cur, median, attrs)
        if out.ok:
            return cur, None
        text = out.message or "canceling statement due to statement timeout"
        end = cur + 0.0008
        order = h.tail["order_id"]
        msg = f"Charge {charge} for order {order} failed: {text}"
        h.log(end, "ERROR", msg, stack=db_stack(text))
        return cur, h.finish(end, 500, text)

    def charge_provider(self, h: Handling, cur: float, charge: str) -> tuple[float, Span | None]:
        """The payment intent at PayStream; the request's span if it ends here (declined or
        failed)."""
        rng = self.rng
        attrs: dict[str, str | int] = {"http.method": "POST", "http.url": PAYMENT_INTENTS}
        op = "POST /v1/payment_intents"
        out, cur = h.depend(PROVIDER, op, cur, 170.0, attrs)
        declined = out.failure == "status" and out.status == 402
        if declined or (out.ok and rng.random() < 0.025):
            end = cur + 0.002
            reason = rng.choice(("insufficient_funds", "do_not_honor", "expired_card"))
            msg = f"Charge {charge} declined by PayStream: card_declined ({reason})"
            h.log(end, "INFO", msg)
            return cur, h.finish(end, 402)
        if out.ok:
            return cur, None
        text = paystream_error(out)
        end = cur + 0.001
        order = h.tail["order_id"]
        h.log(
            end,
            "ERROR",
            f"Charge {charge} for order {order} failed: {text}",
            logger=PAYSTREAM_CLIENT,
            stack=provider_stack(out),
        )
        return cur, h.finish(end, 503 if out.status == 429 else 502, text)

    # -- recommendations (Python, structlog) -------------------------------------------

    def h_recommendations(self, h: Handling, **kw: object) -> Span:
        rng = self.rng
        h.lead = {"user_id": kw.get("user")}
        cur = h.arrive(2.0, slowed=False)
        attrs: dict[str, str | int] = {"db.system": "redis"}
        out, cur = h.depend("feature-store", "HMGET", cur, 3.0, attrs)
        if not out.ok:
            end = cur + 0.001
            err = out.message or "Timeout reading from socket"
            exc = "TimeoutError" if "Timeout" in err else "ConnectionError"
            h.log(
                end,
                "ERROR",
                "feature lookup failed",
                logger="recs.features",
                error=err,
                exc_type=f"redis.exceptions.{exc}",
            )
            return h.finish(end, 503, err)
        end = cur + lognormal(rng, 12.0) / 1000
        items = rng.randint(4, 12)
        h.log(
            end, "INFO", "recommendations served", logger="recs.api", items=items, model="als-v41"
        )
        return h.finish(end, 200)
