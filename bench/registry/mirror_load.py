#!/usr/bin/env python3
"""Stage changes at a fixed rate through the gateway, and how long each takes to reach MLflow.

Moves models bench-1 .. bench-N (version v1.0.0, already registered) between staging and
production, --rate changes per second for --seconds, each model at most once in flight. The MLflow
test server (registry-service's MlflowTestServer, run on its own) logs every change it makes with
its time; a stage change has reached MLflow when the server sets the model's alias to the new stage.
Lag of one change = that time minus the time the gateway answered the stage change. Prints the lag
while the load runs (p50, p99, max), how long the mirror needed after the last change, the stage
changes' own latency, and the highest lag the registry's /q/metrics showed while sampling. A
warm-up first moves every model once, slowly, and waits until MLflow has it (not measured).
"""
import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict, deque


def request(method, url, key=None, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if key:
        req.add_header("x-api-key", key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            try:
                return float(line.rsplit(" ", 1)[1])
            except ValueError:
                return None
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--mlflow", required=True, help="base URL of the MLflow test server")
    parser.add_argument("--metrics", required=True, help="registry-service's /q/metrics")
    parser.add_argument("--team", default="default")
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--catch-up-limit", type=float, default=300)
    args = parser.parse_args()

    stage_of = {}        # model -> its stage now, as the load moved it
    lock = threading.Lock()
    free = deque(f"bench-{i}" for i in range(1, args.models + 1))
    free_cv = threading.Condition(lock)

    def drive(rate, total):
        """Sends TOTAL stage changes at RATE per second; (answered, failures, start, seconds)."""
        answered = []    # (model, stage, time the gateway answered, latency)
        failures = []

        def change(model, stage):
            started = time.time()
            status, body = request("POST", f"{args.gateway}/v1/models/{model}/stage", args.key, {"stage": stage})
            done = time.time()
            with free_cv:
                if status == 200:
                    answered.append((model, stage, done, done - started))
                else:
                    failures.append((model, stage, status, body[:200]))
                free.append(model)
                free_cv.notify()

        threads = []
        start = time.time()
        for i in range(total):
            delay = start + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            with free_cv:
                while not free:
                    free_cv.wait()
                model = free.popleft()
                stage = "production" if stage_of.get(model) == "staging" else "staging"
                stage_of[model] = stage
            t = threading.Thread(target=change, args=(model, stage), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        if failures:
            print(f"{len(failures)} stage changes failed, e.g. {failures[0]}", file=sys.stderr)
        return answered, failures, start, time.time() - start

    since = [0]

    def follow(answered, start):
        """Waits for the changes to reach MLflow; (lags, lags by 5 s window, how many reached, last one's time)."""
        # Each answered change is matched, per model and stage, in order, with the server's alias changes.
        expected = defaultdict(deque)
        for model, stage, at, _ in answered:
            expected[(f"{args.team}.{model}", stage)].append(at)
        lags = []
        by_window = defaultdict(list)
        reached = 0
        last_reached_at = None
        deadline = time.time() + args.catch_up_limit
        while reached < len(answered) and time.time() < deadline:
            status, body = request("GET", f"{args.mlflow}/test/changes?since={since[0]}", timeout=10)
            if status != 200:
                sys.exit(f"the MLflow test server answered {status} for its change log")
            for line in body.decode().splitlines():
                since[0] += 1
                c = json.loads(line)
                if c["what"] != "set-alias":
                    continue
                waiting = expected.get((c["model"], c["detail"].split("=", 1)[0]))
                if waiting:
                    answered_at = waiting.popleft()
                    lags.append(c["at"] / 1000.0 - answered_at)
                    by_window[int((answered_at - start) // 5)].append(lags[-1])
                    reached += 1
                    last_reached_at = c["at"] / 1000.0
            if reached < len(answered):
                time.sleep(0.2)
        return lags, by_window, reached, last_reached_at

    # Warm-up, not measured: every model once, slowly (the mirror creates each in MLflow, the JVMs compile).
    warm, warm_failures, warm_start, _ = drive(10, args.models)
    if warm_failures or follow(warm, warm_start)[2] < len(warm):
        sys.exit("the warm-up's stage changes did not all reach MLflow")

    # Metrics sampler: the mirror's own lag gauge, every 200 ms while the load runs and catches up.
    gauge_max = [0.0]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            status, body = request("GET", args.metrics, timeout=5)
            if status == 200:
                value = metric(body.decode(), "mlinfra_registry_mlflow_lag_seconds")
                if value is not None:
                    gauge_max[0] = max(gauge_max[0], value)
            sampling.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    answered, failures, start, sent_for = drive(args.rate, int(args.rate * args.seconds))
    if not answered:
        sys.exit("no stage change succeeded")
    lags, by_window, reached, last_reached_at = follow(answered, start)
    sampling.set()
    sampler.join(timeout=5)

    last_answer = max(at for _, _, at, _ in answered)
    latencies = [latency for _, _, _, latency in answered]
    print(f"stage changes: {len(answered)} answered in {sent_for:.1f} s ({len(answered) / sent_for:.1f}/s,"
          f" target {args.rate:g}/s), {len(failures)} failed; latency p50 {percentile(latencies, 50) * 1000:.1f} ms,"
          f" p99 {percentile(latencies, 99) * 1000:.1f} ms")
    print(f"reached MLflow: {reached} of {len(answered)}")
    if lags:
        print(f"mirror lag per change: p50 {percentile(lags, 50) * 1000:.0f} ms, p99 {percentile(lags, 99) * 1000:.0f} ms,"
              f" max {max(lags) * 1000:.0f} ms")
    if by_window:
        print("lag by when the change was answered (p50 / max, ms): " + ", ".join(
            f"{w * 5}-{w * 5 + 5} s {percentile(v, 50) * 1000:.0f}/{max(v) * 1000:.0f}" for w, v in sorted(by_window.items())))
    if reached == len(answered):
        print(f"caught up {max(0.0, last_reached_at - last_answer) * 1000:.0f} ms after the last stage change was answered")
    else:
        print(f"NOT caught up within {args.catch_up_limit:g} s")
    print(f"highest mlinfra_registry_mlflow_lag_seconds seen in /q/metrics: {gauge_max[0]:.3f}")
    if reached < len(answered) or failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
