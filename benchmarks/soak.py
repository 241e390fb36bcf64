"""Soak a real `workersim api` process with mixed REST traffic and 2 MiB values, sampling its memory.

    python benchmarks/soak.py --minutes 30 --rate 20

Starts the server on a free port, measures a small PUT's latency idle, then sends a steady mix (a second's worth
every second: 2 MiB PUTs to a rotating set of keys, GETs of them, lists, deletes, small PUTs) from a few client
threads for the given minutes. Every 10 s it samples the server's resident memory (VmRSS from /proc). It prints
the memory samples, whether memory stayed flat after the warm-up (the last third against the second third), and
the small PUT's p50/p99 under load against idle, all measured in this one run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "soak-token"
MIB = 1024 * 1024


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def start_server() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "WORKERSIM_ACCOUNT_ID": ACCOUNT, "WORKERSIM_API_TOKEN": TOKEN}
    command = [sys.executable, "-m", "workersim.cli", "api", "--port", "0", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://[0-9.]+:[0-9]+", line)
    if match is None:
        process.kill()
        raise SystemExit(f"the server printed no address: {line!r}")
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    return process, match.group(0)


def small_put_latencies(client: httpx.Client, url: str, count: int, pause: float) -> list[float]:
    times = []
    for index in range(count):
        started = time.perf_counter()
        client.put(f"{url}/values/probe-{index % 10}", content=b"p").raise_for_status()
        times.append(time.perf_counter() - started)
        time.sleep(pause)
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def traffic(url: str, rate: float, stop: threading.Event, worker: int, counts: dict[str, int]) -> None:
    big = bytes([worker]) * (2 * MIB)
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as client:
        step = 0
        while not stop.is_set():
            started = time.monotonic()
            key = f"big-{worker}-{step % 25}"
            kind = ("put", "get", "get", "list", "delete", "small")[step % 6]
            if kind == "put":
                client.put(f"{url}/values/{key}", content=big)
            elif kind == "get":
                client.get(f"{url}/values/{key}")
            elif kind == "list":
                client.get(f"{url}/keys", params={"limit": 100})
            elif kind == "delete":
                client.delete(f"{url}/values/big-{worker}-{(step - 3) % 25}")
            else:
                client.put(f"{url}/values/small-{worker}-{step % 100}", content=b"s" * 100)
            counts[kind] = counts.get(kind, 0) + 1
            step += 1
            time.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to soak (default 30)")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second in all (default 20)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    args = parser.parse_args()
    process, base = start_server()
    try:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(headers=auth, timeout=60) as client:
            namespaces = f"{base}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
            namespace = client.post(namespaces, json={"title": "soak"}).json()["result"]["id"]
            url = f"{namespaces}/{namespace}"
            small_put_latencies(client, url, 20, 0.01)
            idle = small_put_latencies(client, url, 200, 0.01)
            stop = threading.Event()
            counts: dict[str, int] = {}
            threads = [
                threading.Thread(target=traffic, args=(url, args.rate / args.threads, stop, n, counts), daemon=True)
                for n in range(args.threads)
            ]
            for thread in threads:
                thread.start()
            samples: list[tuple[float, float]] = []
            loaded: list[float] = []
            began = time.monotonic()
            deadline = began + args.minutes * 60
            next_sample = began
            while time.monotonic() < deadline:
                if time.monotonic() >= next_sample:
                    samples.append((time.monotonic() - began, rss_mib(process.pid)))
                    next_sample += 10
                loaded += small_put_latencies(client, url, 5, 0.2)
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"soak: {args.minutes:g} min at {args.rate:g} requests/s, {sum(counts.values())} requests {counts}")
    print("server RSS (MiB) every 10 s: " + ", ".join(f"{rss:.0f}" for _, rss in samples))
    third = max(1, len(samples) // 3)
    middle = statistics.mean(rss for _, rss in samples[third : 2 * third]) if len(samples) >= 3 else float("nan")
    last = statistics.mean(rss for _, rss in samples[2 * third :]) if len(samples) >= 3 else float("nan")
    print(f"RSS mean, second third {middle:.0f} MiB, last third {last:.0f} MiB (ratio {last / middle:.2f}); "
          f"max {max(rss for _, rss in samples):.0f} MiB")  # fmt: skip
    print(
        f"small PUT idle p50 {statistics.median(idle) * 1000:.1f} ms p99 {percentile(idle, 0.99) * 1000:.1f} ms; "
        f"under load p50 {statistics.median(loaded) * 1000:.1f} ms p99 {percentile(loaded, 0.99) * 1000:.1f} ms "
        f"(p99 ratio {percentile(loaded, 0.99) / percentile(idle, 0.99):.1f}x)"
    )


if __name__ == "__main__":
    main()
