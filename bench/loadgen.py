"""A small closed-loop HTTP load generator: N threads, each with its own keep-alive connection.

Python threads rather than wrk so that signed-in sessions, CSRF tokens and one-time work
(a job claimed once, a voucher scanned once, a volunteer checked in once per event) are
handled in the same language as the rest of the benchmark. The generator shares the machine's
two cores with the server; its own cost per request is about 0.1 ms of CPU, which the
hello-world baseline pays too, so ratios to hello-world are fair.
"""

import http.client
import threading
import time
import urllib.parse
from dataclasses import dataclass, field


class Client:
    """One keep-alive connection with a fixed cookie header (the session made at login).

    Responses' Set-Cookie headers are ignored after login, on purpose: a flash message would
    otherwise make the session cookie grow with every request the benchmark makes."""

    def __init__(self, host: str, port: int, cookie: str = ""):
        self.host, self.port, self.cookie = host, port, cookie
        self.conn = None

    def request(self, method: str, path: str, fields: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(fields).encode() if fields is not None else None
        sent = {"Host": f"{self.host}:{self.port}", "Accept-Language": "zh-CN", **(headers or {})}
        if self.cookie:
            sent["Cookie"] = self.cookie
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, response.headers, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed an idle keep-alive connection: once more, fresh
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def login(host: str, port: int, phone: str, password: str, form_page: str = "/account") -> tuple[str, str]:
    """Sign in like a browser; returns (cookie header, CSRF token of the session)."""
    import re

    client = Client(host, port)
    jar: dict[str, str] = {}

    def remember(headers):
        for raw in headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
        client.cookie = "; ".join(f"{k}={v}" for k, v in jar.items())

    token_pattern = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')  # either attribute order
    status, headers, body = client.request("GET", "/login")
    remember(headers)
    token = token_pattern.search(body.decode()).group(1)
    status, headers, body = client.request("POST", "/login", {"phone": phone, "password": password, "csrf_token": token})
    remember(headers)
    if status != 302:
        raise RuntimeError(f"login as {phone} failed: {status}")
    status, headers, body = client.request("GET", form_page)
    remember(headers)
    match = token_pattern.search(body.decode())
    if match is None:
        raise RuntimeError(f"no CSRF token on {form_page} for {phone}")
    client.close()
    return client.cookie, match.group(1)


@dataclass
class Result:
    # Seconds, of every request started in the measured window (a page slower than the window
    # still gets its latency); throughput counts those that also finished inside it.
    latencies: list = field(default_factory=list)
    completed: int = 0
    ok: int = 0
    failed: int = 0
    statuses: dict = field(default_factory=dict)
    seconds: float = 0.0
    exhausted: bool = False  # a one-time pool ran out before the time was up
    slow: bool = False  # no request fitted in the window; figures over the whole run

    @property
    def rps(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(host: str, port: int, next_request, connections: int, seconds: float, warmup: float) -> Result:
    """Drive `next_request(thread_index)` -> (method, path, fields, cookie, is_ok) or None (pool
    used up) from `connections` threads: `warmup` seconds not counted, then `seconds` counted."""
    result = Result()
    lock = threading.Lock()
    every: list[tuple[float, float, bool]] = []  # all requests, warm-up included
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    done_at = [stop_at]

    def worker(index):
        clients: dict[str, Client] = {}
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                return
            job = next_request(index)
            if job is None:
                with lock:
                    result.exhausted = True
                    done_at[0] = min(done_at[0], time.perf_counter())
                return
            method, path, fields, cookie, is_ok = job
            client = clients.get(cookie)
            if client is None:
                client = clients[cookie] = Client(host, port, cookie)
            began = time.perf_counter()
            try:
                status, headers, body = client.request(method, path, fields)
                good = is_ok(status, headers, body)
            except OSError:
                status, good = "error", False
            ended = time.perf_counter()
            with lock:
                every.append((began, ended, good))
            if began >= measure_from:
                with lock:
                    result.latencies.append(ended - began)
                    result.completed += ended <= stop_at
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if good:
                        result.ok += 1
                    else:
                        result.failed += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = max(0.001, min(done_at[0], stop_at) - measure_from)
    if not result.latencies and every:
        # A page slower than the whole run (seconds per request): no request started inside the
        # window, so take every request, warm-up included, over the time they took.
        result.latencies = [end - begin for begin, end, _good in every]
        result.completed = len(every)
        result.ok = sum(good for _b, _e, good in every)
        result.failed = len(every) - result.ok
        result.seconds = max(end for _b, end, _good in every) - start
        result.slow = True
    return result
