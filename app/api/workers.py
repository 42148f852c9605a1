"""N uvicorn workers on one port, each listening on a socket of its own (SO_REUSEPORT).

uvicorn's own multi-worker mode shares one listening socket between its workers: whichever wakes
first accepts. WebSockets are long-lived and a page full of widgets connects in a burst, so one
worker could keep twice the sockets of the other for as long as they stay open (measured under the
service benchmark: 5.3 against 2.6 CPU seconds between two workers). With a listening socket per
worker bound with SO_REUSEPORT, the kernel spreads new connections over the workers by a hash of
their addresses, evenly whatever the timing.

The parent only supervises: it starts the workers, starts a new one when one dies (unless workers
keep dying at start-up, which is a configuration error to report, not to loop on), and stops them
all on SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

APP = "app.api.server:app_factory"
QUICK_DEATH_S = 10.0  # a worker that dies this soon after starting is failing at start-up
QUICK_DEATHS_ALLOWED = 3


def reuseport_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    sock = reuseport_socket(host, port)
    uvicorn.Server(uvicorn.Config(APP, factory=True, **options)).run(sockets=[sock])


def run_workers(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Run `workers` processes serving the app on host:port until SIGTERM or SIGINT."""
    # Fail here, clearly, when something that is not one of ours holds the port.
    reuseport_socket(host, port).close()
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_worker, args=(host, port, options), daemon=False)
        process.start()
        return process, time.monotonic()

    running = [start() for _ in range(workers)]
    quick_deaths = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (process, started) in enumerate(running):
                if process.is_alive() or stopping:
                    continue
                quick = time.monotonic() - started < QUICK_DEATH_S
                quick_deaths = quick_deaths + 1 if quick else 0
                if quick_deaths >= QUICK_DEATHS_ALLOWED:
                    raise SystemExit(
                        f"assistant workers keep exiting at start-up (the last with code {process.exitcode}); "
                        "see the errors above."
                    )
                log.warning("worker %s exited with code %s; starting another", process.pid, process.exitcode)
                _forget_metrics_of(process.pid)
                running[i] = start()
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()
        for process, _ in running:
            process.join(20)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _forget_metrics_of(pid: int | None) -> None:
    """A dead worker's open-socket gauge must stop counting (prometheus_client's multiprocess mode
    keeps its file until told)."""
    if pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
