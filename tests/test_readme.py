"""The README's code examples run as written."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest
from _rest_support import api_process
from _wrangler import find_wrangler

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_property_test_example_finds_the_lost_update() -> None:
    [block] = [block for block in python_blocks() if "def test_counter_counts" in block]
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    # As the README says: hypothesis finds a schedule under which an increment is lost, and shrinks it to the
    # smallest one: LHR reads the counter at 1 s, so SFO's write must take 1001 ms to arrive there.
    with pytest.raises(AssertionError) as failed:
        namespace["test_counter_counts"]()  # type: ignore[operator]
    # The draw names the write it delays: SFO's put, the run's second operation (after SFO's get).
    assert "Draw 1 (delay (ms) of write #1 (put 'count' at SFO) to LHR): 1001" in getattr(failed.value, "__notes__", [])


pytest_plugins = ["pytester"]


def test_the_plugin_example_passes(pytester: pytest.Pytester) -> None:
    [block] = [block for block in python_blocks() if "workersim_worker(" in block]
    root = README.parent
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(test_example=block.replace('"examples/', f'"{root}/examples/'))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def fenced_blocks() -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def rest_block(marker: str) -> str:
    [block] = [block for block in fenced_blocks() if marker in block]
    return block


def bash(script: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{script}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextlib.contextmanager
def readme_server(tmp_path: Path) -> Iterator[tuple[dict[str, str], Callable[[str], str]]]:
    """The REST section's server, started with its own account and token (on a free port, which each example's
    fixed one is changed to), and the environment its first block exports."""
    start = rest_block("workersim api --host")
    exported = dict(re.findall(r"(\w+)=(\S+)", start.splitlines()[0]))
    # Every curl fails on an HTTP error (the README's lines print bodies; a refused request must stop the run).
    (tmp_path / ".curlrc").write_text("fail-with-body\nsilent\nshow-error\n", encoding="utf-8")
    env = {**os.environ, **exported, "CURL_HOME": str(tmp_path)}
    args = ("--account", exported["A"], "--token", exported["TOKEN"], "--quiet")
    with api_process(*args) as server:
        yield env, lambda text: text.replace("http://127.0.0.1:8787", server.url)


def run_curl_and_sdk(env: dict[str, str], local: Callable[[str], str], tmp_path: Path) -> str:
    """Run the curl block, then the SDK block, as written (against the test's port); the curl block's ``NS``."""
    out = bash(local(rest_block("B=http://127.0.0.1:8787")) + 'echo; echo "NS=$NS"\n', env, tmp_path)
    namespace = out.strip().splitlines()[-1].removeprefix("NS=")
    assert re.fullmatch(r"[0-9a-f]{32}", namespace), out
    assert '"success":true' in out and "hello" in out
    printed = io.StringIO()
    with mock.patch.dict(os.environ, env), contextlib.redirect_stdout(printed):
        exec(compile(local(rest_block("sdk-demo")), "README.md", "exec"), {})
    assert printed.getvalue() == "v\n['k']\n"
    return namespace


NO_CURL = "the README's REST examples use curl, and it is not installed (apt-get install curl)"


@pytest.mark.skipif(shutil.which("curl") is None, reason=NO_CURL)
def test_the_rest_examples_run_as_written_in_sequence(tmp_path: Path) -> None:
    with readme_server(tmp_path) as (env, local):
        run_curl_and_sdk(env, local, tmp_path)


WRANGLER, WHY_NOT = find_wrangler()


@pytest.mark.skipif(shutil.which("curl") is None, reason=NO_CURL)
@pytest.mark.skipif(WRANGLER is None, reason=WHY_NOT)
def test_the_wrangler_example_runs_after_the_others(tmp_path: Path) -> None:
    assert WRANGLER is not None
    with readme_server(tmp_path) as (env, local):
        namespace = run_curl_and_sdk(env, local, tmp_path)
        home = tmp_path / "home"
        home.mkdir()
        script = local(rest_block("CLOUDFLARE_API_BASE_URL")).replace("npx wrangler", shlex.quote(WRANGLER))
        wrangler_env = {**env, "NS": namespace, "HOME": str(home), "CI": "1", "WRANGLER_SEND_METRICS": "false"}
        out = bash(script, wrangler_env, home)
        assert "wrangler-demo" in out and "hello" in out
