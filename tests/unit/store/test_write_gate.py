"""The SQLite write gate: one writer at a time, waiting in the kernel, across threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from app.store.db import Database
from app.store.write_gate import WriteGate

HOLD_S = 0.4


def test_a_second_thread_waits_for_the_holder_then_gets_the_gate(tmp_path: Path) -> None:
    gate = WriteGate(tmp_path / "db.sqlite.write-lock")
    order: list[str] = []
    holding = threading.Event()

    def holder() -> None:
        with gate.held():
            holding.set()
            time.sleep(HOLD_S)
            order.append("first done")

    def waiter() -> None:
        holding.wait()
        with gate.held():
            order.append("second in")

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["first done", "second in"]
    gate.close()


def test_nested_writes_in_one_thread_pass_through(tmp_path: Path) -> None:
    gate = WriteGate(tmp_path / "db.sqlite.write-lock")
    done = threading.Event()

    def nested() -> None:
        with gate.held(), gate.held():
            pass
        with gate.held():  # released properly after the nesting
            done.set()

    thread = threading.Thread(target=nested, daemon=True)
    thread.start()
    thread.join(5)
    assert done.is_set(), "a nested write deadlocked on the gate"
    gate.close()


def test_a_writer_in_another_process_holds_off_this_one(tmp_path: Path) -> None:
    """Another process holding the gate's flock: our write waits until it lets go, then goes through."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    db = Database(url)
    lock_path = tmp_path / "store.db.write-lock"
    script = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(lock_path)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        f"time.sleep({HOLD_S * 2})\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        started = time.monotonic()
        with db.write_connection() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        waited = time.monotonic() - started
    finally:
        child.wait(10)
    assert waited >= HOLD_S, f"the write did not wait for the other process's gate ({waited:.2f} s)"
    with db.read() as session:
        assert session.connection().exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    db.dispose()


def test_only_a_sqlite_file_has_a_gate(tmp_path: Path) -> None:
    assert Database("sqlite://")._gate is None
    assert Database(f"sqlite:///{tmp_path / 'x.db'}")._gate is not None
