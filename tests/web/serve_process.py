"""`rotation serve` as a real process on a free port, for the tests that need one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
from web_support import CONFIG, TOKEN, FakeSlack, delivery_pids, free_port

ROOT = Path(__file__).resolve().parents[2]
HAS_SLACK_RUNTIME = (ROOT / "bot" / "slack" / "runtime.py").exists()
FALLBACK = ("from bot.web.server import run; from bot.config.settings import Settings; "
            "raise SystemExit(run(Settings.from_env()))")


def serve_command() -> list[str]:
    cli = ROOT / "bot" / "cli.py"
    if cli.exists() and "bot.web.server" in cli.read_text():
        return [sys.executable, "-m", "bot", "serve"]
    return [sys.executable, "-c", FALLBACK]


class Server:
    """One serve process: `start()` waits for /healthz, its output goes to `log`."""

    def __init__(self, tmp: Path, slack: FakeSlack) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = tmp / "routing.yaml"
        config.write_text(CONFIG)
        self.env = os.environ | {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'rotation.db'}", "ROTATION_CONFIG": str(config),
            "ROTATION_INTAKE_TOKEN": TOKEN, "HOST": "127.0.0.1", "PORT": str(self.port),
            "PYTHONPATH": str(ROOT), "ROTATION_DELIVERY": "process",  # as on any multi-core machine
        }
        for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "ROTATION_WEBHOOK_URL"):
            self.env.pop(name, None)
        if HAS_SLACK_RUNTIME:
            self.env |= {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret",
                         "SLACK_API_URL": slack.api_url}
        self.log = tmp / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.open_files: int | None = None  # a hard RLIMIT_NOFILE for the process, if set

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(serve_command(), cwd=ROOT, env=self.env, stdout=log,
                                            preexec_fn=self._limit_open_files,
                                            stderr=subprocess.STDOUT)
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                assert self.process.poll() is None, self.log.read_text()
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"serve did not start:\n{self.log.read_text()}")

    def _limit_open_files(self) -> None:
        if self.open_files is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, timeout: float = 20) -> int:
        assert self.process is not None
        for _ in range(int(timeout * 20)):
            if self.process.poll() is not None:
                return self.process.returncode
            await asyncio.sleep(0.05)
        raise AssertionError(f"serve did not stop:\n{self.log.read_text()}")

    def delivery_pids(self) -> list[int]:
        assert self.process is not None
        return delivery_pids(self.process.pid)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


