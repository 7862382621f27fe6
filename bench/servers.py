"""Starting, timing and stopping server processes on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A server process started by the benchmark, and how long it took to answer."""

    process: subprocess.Popen[bytes]
    base_url: str
    ready_seconds: float
    log_path: Path

    def peak_mib(self) -> float:
        """Return the process's peak resident memory (VmHWM) in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(
    arguments: list[str],
    environment: dict[str, str],
    port: int,
    log_path: Path,
    probe: str = "/health",
    timeout_seconds: float = 1800,
) -> Server:
    """Start `python ARGUMENTS` and wait until GET or POST of `probe` returns 200."""
    env = {**os.environ, **environment}
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, *arguments], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = started + timeout_seconds
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server {' '.join(arguments)} exited with {process.returncode}; see {log_path}"
            )
        if _answers(base_url, probe):
            return Server(process, base_url, time.perf_counter() - started, log_path)
        time.sleep(0.1)
    process.kill()
    raise TimeoutError(f"server {' '.join(arguments)} did not answer in {timeout_seconds} s")


def _answers(base_url: str, probe: str) -> bool:
    try:
        if probe == "/graphql":
            response = httpx.post(base_url + probe, json={"query": "{ __typename }"}, timeout=2)
        else:
            response = httpx.get(base_url + probe, timeout=2)
    except httpx.TransportError:
        return False
    return response.status_code == 200
