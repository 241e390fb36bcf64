"""A long-running REST server's memory stays bounded: history rows are bounded in bytes, and deleted namespaces
free their data."""

from __future__ import annotations

import tracemalloc

import httpx
import pytest
from _rest_support import TOKEN, running_server

from workersim import Simulation
from workersim.server import _history

MIB = 1024 * 1024


def test_big_values_and_namespace_cycles_leave_memory_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = 16 * MIB
    monkeypatch.setattr(_history, "UNSAVED_BYTES", budget)
    sim = Simulation(edges=("SFO", "LHR"), kv_namespaces=("MY_KV",))
    _history.keep_history(sim, None)  # what `workersim api` does without --history
    headers = {"Authorization": f"Bearer {TOKEN}"}
    tracemalloc.start()
    try:
        with running_server(sim) as server, httpx.Client(headers=headers, timeout=60) as client:
            namespaces = server.namespaces_url()
            first = client.post(namespaces, json={"title": "big"}).json()["result"]["id"]
            client.put(f"{namespaces}/{first}/values/big", content=b"b" * (2 * MIB)).raise_for_status()
            baseline = tracemalloc.get_traced_memory()[0]
            for _ in range(300):
                assert len(client.get(f"{namespaces}/{first}/values/big").content) == 2 * MIB
            for cycle in range(100):
                made = client.post(namespaces, json={"title": f"cycle {cycle}"}).json()["result"]["id"]
                value = bytes([cycle]) * (2 * MIB)  # a new value each time: nothing shared
                client.put(f"{namespaces}/{made}/values/k", content=value).raise_for_status()
                client.delete(f"{namespaces}/{made}").raise_for_status()
            grown = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    # 300 reads and 100 x 2 MiB of writes would hold over 200 MiB if rows or deleted namespaces kept them; the
    # history may hold its budget, and a few values in flight besides.
    assert grown < budget + 12 * MIB, f"grew by {grown / MIB:.1f} MiB"
    assert sim.history.held_bytes <= budget
