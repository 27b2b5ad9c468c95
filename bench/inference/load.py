#!/usr/bin/env python3
"""Load for bench/inference: (a) the latency of several paths measured in turn, (b) tokens per
second with N concurrent clients, (c) the time from a stage change to staging until the first
successful inference.

  load.py turns SECONDS NAME URL BODY_JSON HEADER_OR_EMPTY [NAME URL BODY_JSON HEADER_OR_EMPTY ...]
      -> prints "NAME requests p50_ms p99_ms errors" per path
  load.py tokens URL KEY_OR_EMPTY BODY_JSON SECONDS CLIENTS   -> prints "requests tokens seconds errors"
  load.py staging GATEWAY KEY MODEL INFERENCE_BODY_JSON RUNS  -> prints one time (s) per run
"""
import http.client
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def post(url, body, key, timeout=120):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["x-api-key"] = key
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read())


def get(url, key):
    req = urllib.request.Request(url, headers={"x-api-key": key})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def tokens_of(answer):
    if "usage" in answer:
        return answer["usage"]["completion_tokens"]
    return answer["metadata"]["tokens_generated"]


def tokens(url, key, body, seconds, clients):
    body = body.encode()
    totals = {"requests": 0, "tokens": 0, "errors": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client():
        while time.monotonic() < stop_at:
            try:
                _, answer = post(url, body, key)
                with lock:
                    totals["requests"] += 1
                    totals["tokens"] += tokens_of(answer)
            except Exception:  # noqa: BLE001 - counted, the run goes on
                with lock:
                    totals["errors"] += 1
                time.sleep(0.1)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    print(totals["requests"], totals["tokens"], f"{elapsed:.2f}", totals["errors"])


def turns(seconds, paths):
    """One request per path in turn, on one kept-alive connection each, for SECONDS: every path
    sees the same moments of the machine (a JIT compilation, a busy neighbour), which sequential
    runs of each path do not. Each round starts at the next path, so none always follows another."""
    targets = []
    for name, url, body, header in paths:
        parsed = urllib.parse.urlsplit(url)
        headers = {"Content-Type": "application/json"}
        if header:
            field, value = header.split(":", 1)
            headers[field.strip()] = value.strip()
        targets.append({"name": name, "host": parsed.hostname, "port": parsed.port, "path": parsed.path,
                        "body": body.encode(), "headers": headers, "times": [], "errors": 0, "conn": None})

    def once(t):
        if t["conn"] is None:
            t["conn"] = http.client.HTTPConnection(t["host"], t["port"], timeout=120)
        started = time.perf_counter_ns()
        try:
            t["conn"].request("POST", t["path"], body=t["body"], headers=t["headers"])
            response = t["conn"].getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            t["conn"].close()
            t["conn"] = None
            ok = False
        if ok:
            t["times"].append((time.perf_counter_ns() - started) / 1e6)
        else:
            t["errors"] += 1

    stop_at = time.monotonic() + seconds
    first = 0
    while time.monotonic() < stop_at:
        for i in range(len(targets)):
            once(targets[(first + i) % len(targets)])
        first = (first + 1) % len(targets)
    for t in targets:
        times = sorted(t["times"]) or [0.0]
        p50, p99 = (times[min(len(times) - 1, int(q * len(times)))] for q in (0.5, 0.99))
        print(t["name"], len(t["times"]), f"{p50:.3f}", f"{p99:.3f}", t["errors"])


def stage(gateway, key, model, to):
    post(f"{gateway}/v1/models/{model}/stage", json.dumps({"stage": to}).encode(), key)


def staging(gateway, key, model, body, runs):
    body = body.encode()
    for _ in range(runs):
        stage(gateway, key, model, "archived")
        deadline = time.monotonic() + 60
        while get(f"{gateway}/v1/deployments/{model}", key)["state"] != "removed":
            if time.monotonic() > deadline:
                raise SystemExit("the archived model's deployment was not removed within 60 s")
            time.sleep(0.05)
        started = time.monotonic()
        stage(gateway, key, model, "staging")
        while True:
            try:
                status, _ = post(f"{gateway}/v1/inference", body, key)
                if status == 200:
                    break
            except urllib.error.HTTPError as e:
                if e.code not in (409, 503):
                    raise SystemExit(f"inference answered {e.code}: {e.read()[:300]!r}")
            if time.monotonic() - started > 120:
                raise SystemExit("no successful inference within 120 s of the stage change")
            time.sleep(0.02)
        print(f"{time.monotonic() - started:.3f}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "turns":
        args = sys.argv[3:]
        if len(args) % 4:
            raise SystemExit(__doc__)
        turns(float(sys.argv[2]), [args[i:i + 4] for i in range(0, len(args), 4)])
    elif mode == "tokens":
        tokens(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6]))
    elif mode == "staging":
        staging(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        raise SystemExit(__doc__)
