"""The thread every local event source mapping runs on: poll, hand over, repeat until asked to stop."""

from __future__ import annotations

import threading
from collections.abc import Callable

STOP_JOIN_S = 11  # a poll's longest wait (SQS long poll, 1 s) plus an invocation's usual length


class PollerThread:
    """Subclasses implement ``poll_once``: one poll and what it hands to the function."""

    def __init__(self, *, thread_name: str, label: str, enabled: bool, log: Callable[[str], None]) -> None:
        self._label = label  # e.g. "[sqs] NotificationsFunction"
        self._enabled = enabled
        self._log = log
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    def start(self) -> None:
        if self._enabled:
            self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to finish its current poll/batch (so that several pollers stop in parallel)."""
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_JOIN_S)

    def poll_once(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception as error:  # moto restarting, a transient socket error: keep polling
                if self._stopping.is_set():
                    return
                self._log(f"{self._label}: poll failed: {error!r}")
                self._stopping.wait(0.5)
