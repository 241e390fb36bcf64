"""workersim's pytest plugin, used the way a tester would: fixtures, failing on worker errors, and the README's
property test with ``virtual_time`` under ``@given``, each in a test file of its own run by pytester."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

WORKER = """
from workers import Response

async def fetch(request, env, ctx):
    if request.url.endswith("/boom"):
        raise ValueError("boom")
    await env.KV.put("seen", request.url)
    return Response("ok")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".py", worker=WORKER)
    pytester.makefile(".toml", wrangler='main = "worker.py"\nkv_namespaces = [{ binding = "KV", id = "x" }]\n')
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    return pytester


def test_the_fixtures_run_a_worker_and_fail_on_its_errors(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_user=textwrap.dedent(
            """
            import pytest, trio

            async def test_from_the_config(workersim_worker, autojump_clock):
                sim = workersim_worker(".", edges=("SFO", "LHR"))
                async with sim:
                    assert (await sim.fetch("https://w/x", edge="SFO")).status == 200
                    assert await sim.env("SFO").KV.get("seen") == "https://w/x"

            async def test_a_simulation_of_the_store(workersim_simulation, autojump_clock):
                sim = workersim_simulation(edges=("SFO",), kv_namespaces=("KV",))
                async with sim:
                    await sim.env("SFO").KV.put("k", "v")

            async def test_a_worker_error_fails_the_test(workersim_worker, autojump_clock):
                sim = workersim_worker("worker.py", kv_namespaces=("KV",))
                async with sim:
                    assert (await sim.fetch("https://w/boom")).status == 500  # the client only sees a 500

            @pytest.mark.workersim_allow_worker_errors
            async def test_unless_allowed(workersim_worker, autojump_clock):
                sim = workersim_worker("worker.py", kv_namespaces=("KV",))
                async with sim:
                    assert (await sim.fetch("https://w/boom")).status == 500
            """
        )
    )
    result = project.runpytest("-p", "no:cacheprovider")
    # The test whose worker raised passes its own body, then fails at the fixture's teardown: pytest counts it as
    # a pass plus an error, and the run fails.
    result.assert_outcomes(passed=4, errors=1)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*the worker raised 1 time(s) in this test:*", "*ValueError: boom*"])


def test_a_property_test_on_virtual_time_under_given(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_property=textwrap.dedent(
            """
            import trio
            from hypothesis import given, settings, strategies as st
            import workersim
            from workersim.testing import HypothesisDelay, virtual_time

            @settings(max_examples=30, deadline=None)
            @given(st.data())
            @virtual_time
            async def test_counter_counts(data):
                sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",), delays=HypothesisDelay(data))
                async with sim:
                    for edge in ("SFO", "LHR"):
                        kv = sim.env(edge).KV
                        await kv.put("count", str(int(await kv.get("count") or 0) + 1))
                        await trio.sleep(1)
                    await trio.sleep(10)
                    assert await sim.env("SFO").KV.get("count") == "2"
            """
        )
    )
    result = project.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(failed=1)  # hypothesis finds the lost update, with no health-check complaint
    # The report tells the shrunk run: its timeline, the delay chosen, the seed, and how to replay it.
    result.stdout.fnmatch_lines(
        [
            "*workersim: the last run*",
            "*LHR      get 'count' -> (missing)  <- stale: missed write #1*",
            "*delays chosen (ms): [[]1001]*",
            "*replay: pytest 'test_property.py::test_counter_counts'*",
        ]
    )
    result.stdout.fnmatch_lines(["*Draw 1 (delay (ms) of write #1 (put 'count' at SFO) to LHR): 1001*"])
    assert "FailedHealthCheck" not in result.stdout.str()


@pytest.mark.parametrize("hash_seed", [None, "0"])
def test_the_header_says_when_string_hashes_are_salted_at_random(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hash_seed: str | None
) -> None:
    if hash_seed is None:
        monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    else:
        monkeypatch.setenv("PYTHONHASHSEED", hash_seed)
    project.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    told = any("PYTHONHASHSEED is not set" in line for line in result.outlines)
    assert told is (hash_seed is None)
