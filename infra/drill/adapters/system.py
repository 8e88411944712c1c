"""The real clock and the caller-supplied probes (a command, an HTTP GET)."""

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from infra.drill.record import Check


class SystemClock:
    """`Clock` port on the system clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class SystemProbes:
    """`Probes` port: subprocess without a shell, urllib with a timeout (http/https only)."""

    def command(self, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Check:
        name = " ".join(argv[:1]) or "(empty)"
        if not argv:
            return Check(name, False, "empty command")
        try:
            # The operator's own command, as a list (no shell); DRILL_* tell it where the copy is.
            done = subprocess.run(  # nosec B603
                list(argv),
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Check(name, False, f"no answer within {timeout:g}s")
        except OSError as error:
            return Check(name, False, f"cannot run: {error}")
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
        return Check(name, done.returncode == 0, f"exit {done.returncode} {tail[0][:200]}".strip())

    def http(self, url: str, timeout: float) -> Check:
        if not url.startswith(("http://", "https://")):
            return Check(url, False, "http:// or https:// only")
        request = urllib.request.Request(url, headers={"User-Agent": "infra-drill-probe"})
        try:
            # The scheme is http(s), checked above (no file:// or custom handlers).
            with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310
                status = response.status
        except urllib.error.HTTPError as error:
            return Check(url, False, f"HTTP {error.code}")
        except (urllib.error.URLError, OSError) as error:
            return Check(url, False, str(getattr(error, "reason", error)))
        return Check(url, 200 <= status < 300, f"HTTP {status}")


def pulumi_outputs(stack: str, work_dir: str, timeout: float = 120.0) -> str:
    """`pulumi stack output --json --stack <stack>` (no secrets: the drill needs none)."""
    # A fixed argument list (no shell); `pulumi` from PATH, as the release tool's Automation API.
    done = subprocess.run(  # nosec B603 B607
        ["pulumi", "stack", "output", "--json", "--stack", stack],
        cwd=work_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pulumi stack output failed: {done.stderr.strip()}")
    return done.stdout
