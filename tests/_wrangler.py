"""Finding and running wrangler (npm) for the tests that drive it against a workersim server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

WRANGLER_VERSION = "4.86.0"
"""The wrangler the reference captured (it still runs on Node 20; later 4.x need Node 22)."""
CACHE = Path.home() / ".cache" / "workersim-wrangler"
INSTALL_HINT = f'npm install --prefix "{CACHE}" wrangler@{WRANGLER_VERSION}'


def find_wrangler() -> tuple[str | None, str]:
    """The wrangler executable to use, or ``None`` and why there is none."""
    if shutil.which("node") is None:
        return None, f"wrangler not installed: node is missing (with node, install wrangler with: {INSTALL_HINT})"
    chosen = os.environ.get("WORKERSIM_WRANGLER")
    if chosen:
        # A wrangler named explicitly is the one to test: falling back to another would hide a wrong path.
        if Path(chosen).is_file():
            return chosen, ""
        return None, f"wrangler not installed: WORKERSIM_WRANGLER={chosen} is not a file"
    cached = CACHE / "node_modules" / ".bin" / "wrangler"
    if cached.is_file():
        return str(cached), ""
    found = shutil.which("wrangler")
    if found:
        return found, ""
    return None, (
        f"wrangler not installed: npm install failed or was not run (CI installs it with: {INSTALL_HINT}, "
        "or set WORKERSIM_WRANGLER to a wrangler executable)"
    )


def run_wrangler(
    wrangler: str, args: list[str], *, base_url: str, account: str, token: str, home: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``wrangler ARGS`` against ``base_url`` non-interactively, in a throwaway home and working folder."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CLOUDFLARE_", "CF_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        CI="1",
        WRANGLER_SEND_METRICS="false",
        CLOUDFLARE_API_BASE_URL=base_url,
        CLOUDFLARE_API_TOKEN=token,
        CLOUDFLARE_ACCOUNT_ID=account,
    )
    return subprocess.run(
        [wrangler, *args], cwd=home, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
