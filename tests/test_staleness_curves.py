"""Staleness curves, measured by running the simulation across seeds, against the closed forms of their models.

For each ``t`` the curve is an average of ``n = seeds * (edges - 1)`` reads, each of which sees the write with the
model's probability ``F(t)``; their draws are independent (each comes from a hash of the seed and the destination
edge), so the estimate is binomial with standard deviation ``sqrt(F(1 - F) / n)``. A point may stray by four of
those: for one point, a chance under 1e-4 (and the runs are seeded, so a pass is a pass on every run).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_sweep import workersim_cli

from workersim import DefaultDelay, FixedDelay, UniformDelay
from workersim.sweep import StalenessProbe, curve, parse_delays, sweep

SEEDS = 300


def measured(probe: StalenessProbe, seeds: int = SEEDS) -> list[dict[str, float]]:
    with ThreadPoolExecutor(1) as executor:
        return curve(probe, sweep(probe, range(seeds), executor, chunk_size=50))


def assert_close(points: list[dict[str, float]], cdf: Callable[[int], float], reads: int) -> None:
    """Every point within four standard deviations of ``cdf`` (of whole milliseconds), exactly where it is 0 or 1."""
    for point in points:
        expected = cdf(round(point["t"] * 1000))
        tolerance = 4 * math.sqrt(expected * (1 - expected) / reads)
        assert abs(point["p"] - expected) <= tolerance + 1e-12, (point, expected, tolerance)


def test_a_fixed_delay_gives_a_step_at_the_delay() -> None:
    points = measured(StalenessProbe(edges=4, span=4, delays=FixedDelay(1.5), points=17), seeds=20)
    assert [point["p"] for point in points] == [0.0 if point["t"] < 1.5 else 1.0 for point in points]


def test_a_uniform_delay_gives_its_linear_distribution_function() -> None:
    low, high = 1000, 3000  # ms: UniformDelay draws a whole millisecond count from [low, high]
    points = measured(StalenessProbe(edges=5, span=4, delays=UniformDelay(1, 3), points=17))
    assert_close(points, lambda t: min(1.0, max(0.0, (t - low + 1) / (high - low + 1))), SEEDS * 4)


def test_the_default_model_rises_from_near_0_to_1_as_its_exponential_does() -> None:
    points = measured(StalenessProbe(edges=5, span=10, points=41))
    ps = [point["p"] for point in points]
    assert ps == sorted(ps), "the curve must never fall"
    assert ps[0] < 0.01 and ps[-1] == 1.0
    mean = DefaultDelay().typical * 1000
    # Exponential with mean 1 s, rounded to the millisecond (a draw under 0.5 ms is 0), capped at max_delay.
    assert_close(points, lambda t: 1.0 if t >= 10_000 else 1 - math.exp(-(t + 0.5) / mean), SEEDS * 4)


def test_the_edge_cache_model_rises_linearly_over_cache_ttl() -> None:
    ttl = 20
    points = measured(StalenessProbe(edges=5, span=ttl, cache_ttl=ttl, points=21))
    # Each reader cached the key's absence at a millisecond r drawn uniformly from [0, ttl) before the write, and
    # refetches once that entry is ttl old: a read t after the write sees it when t >= r.
    assert_close(points, lambda t: min(1.0, (t + 1) / (ttl * 1000)), SEEDS * 4)
    assert points[-1]["p"] == 1.0


def test_the_command_prints_the_curve_as_json_and_draws_it(tmp_path: Path) -> None:
    svg, png = tmp_path / "curve.svg", tmp_path / "curve.png"
    done = workersim_cli(
        "staleness", "--edges", "3", "--max-delay", "4", "--delays", "fixed:2", "--seeds", "10", "--points", "5",
        "--jobs", "2", "--json", "--svg", str(svg), "--png", str(png),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    points = json.loads(done.stdout.splitlines()[0])
    assert points == [{"t": t, "p": 0.0 if t < 2 else 1.0} for t in (0.0, 1.0, 2.0, 3.0, 4.0)]
    texts = "".join(ElementTree.parse(svg).getroot().itertext())
    for words in ("seconds since the write", "P(a read at another edge sees the write)", "How stale, how often"):
        assert words in texts
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_edge_cache_command_defaults_its_span_to_the_ttl() -> None:
    done = workersim_cli("staleness", "--edges", "2", "--cache-ttl", "10", "--seeds", "5", "--points", "3")
    assert done.returncode == 0, done.stderr
    assert "cacheTtl 10 s" in done.stdout and "t=  10.000s  p=1.000" in done.stdout


def test_without_matplotlib_a_plot_is_refused_in_one_line(tmp_path: Path) -> None:
    hidden = tmp_path / "matplotlib"
    hidden.mkdir()
    (hidden / "__init__.py").write_text("raise ImportError('hidden by the test')\n", encoding="utf-8")
    import os

    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    done = workersim_cli("staleness", "--max-delay", "2", "--svg", str(tmp_path / "x.svg"), env=env)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip() == "workersim staleness: --svg and --png need matplotlib: pip install 'workersim[plot]'"


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("fixed:2", FixedDelay(2)),
        ("uniform:0.5:4", UniformDelay(0.5, 4)),
        ("default", DefaultDelay()),
        ("default:2", DefaultDelay(2)),
    ],
)
def test_delay_models_have_a_text_form(text: str, model: object) -> None:
    assert parse_delays(text) == model
