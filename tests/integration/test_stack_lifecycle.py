"""Starting and stopping a stack of its own: ready quickly, and nothing left running afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import requests

from local.stack.stack import LocalStack


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone once reaped, and stop() reaps what it started.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ", 1)[1].startswith("Z"))


def test_stop_leaves_no_child_processes(tmp_path: Path) -> None:
    stack = LocalStack(api_port=0, aws_port=0, stripe_port=0, seed=False, state_dir=tmp_path)
    try:
        stack.start()
        assert stack.startup_seconds is not None
        assert stack.startup_seconds < 30
        # Start a worker for a function (Lambda's init runs at the first call).
        assert requests.post(stack.api_url + "/auth/login", json={}, timeout=30).status_code == 400
        pids = stack.child_pids()
        assert len(pids) >= 2  # moto + at least one function worker
        assert all(_running(pid) for pid in pids)
    finally:
        stack.stop()
    assert not [pid for pid in pids if _running(pid)]
    try:
        requests.get(stack.api_url + "/_local/health", timeout=2)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("the API still answers after stop()")
