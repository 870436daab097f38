"""A throwaway PostgreSQL cluster for the learning tools (the DP track's schemas), started with the stack and
removed when it stops: ``initdb`` into a fresh data directory, the server on a free port of 127.0.0.1 with
SCRAM password authentication over TCP (and trust only on its private Unix socket), tuned for speed over
durability (``fsync=off``: nothing in it outlives the stack).

Debian's server binaries (``/usr/lib/postgresql/<version>/bin``, ``make system-deps``) refuse to run as root, so
under root the cluster runs as the ``postgres`` user, its data directory a private temporary directory owned by
that user (the state directory may sit where that user cannot enter); otherwise ``<state dir>/postgres``.

Inside: the superuser ``coursepay_admin`` (used only here, to set up), the provisioner login
``coursepay_provisioner`` (CREATEROLE, member of ``pg_signal_backend``, owner of the database
``coursepay_tools``: what the production provisioner needs, and no more), and nothing granted to PUBLIC on
that database or its ``public`` schema.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ADMIN_USER = "coursepay_admin"
PROVISIONER_USER = "coursepay_provisioner"
TOOLS_DATABASE = "coursepay_tools"
SERVER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "60",
                   "shared_buffers": "32MB", "log_min_messages": "warning", "password_encryption": "scram-sha-256"}


def server_binaries() -> Path:
    """The newest installed server's bin directory (``POSTGRES_BIN`` overrides)."""
    if os.environ.get("POSTGRES_BIN"):
        return Path(os.environ["POSTGRES_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: run `make system-deps` (Debian's postgresql)")
    return Path(found[-1]).parent


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Login:
    host: str
    port: int
    database: str
    user: str
    password: str


class PostgresCluster:
    def __init__(self, state_dir: Path, *, host: str = "127.0.0.1", port: int = 0,
                 log: Callable[[str], None] = print) -> None:
        self._state_dir = Path(state_dir)
        self.host = host
        self.port = port or _free_port(host)
        self._log = log
        self._as_postgres = os.geteuid() == 0
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._admin_password = secrets.token_urlsafe(18)
        self.provisioner = Login(host, self.port, TOOLS_DATABASE, PROVISIONER_USER, secrets.token_urlsafe(18))

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _run_kwargs(self) -> dict[str, Any]:
        if not self._as_postgres:
            return {}
        account = pwd.getpwnam("postgres")
        return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def start(self) -> PostgresCluster:
        started = time.perf_counter()
        binaries = server_binaries()
        if self._as_postgres:
            self._root = Path(tempfile.mkdtemp(prefix="coursepay-postgres-"))
            shutil.chown(self._root, "postgres", "postgres")
        else:
            self._root = self._state_dir / "postgres"
            shutil.rmtree(self._root, ignore_errors=True)
            self._root.mkdir(parents=True)
        data = self._root / "data"
        password_file = self._root / "admin-password"
        password_file.write_text(self._admin_password + "\n", encoding="utf-8")
        password_file.chmod(0o600)
        if self._as_postgres:
            shutil.chown(password_file, "postgres", "postgres")
        subprocess.run([str(binaries / "initdb"), "-D", str(data), "-U", ADMIN_USER, "--pwfile", str(password_file),
                        "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync",
                        "--no-instructions"], check=True, capture_output=True, **self._run_kwargs())
        password_file.unlink()
        settings = [arg for name, value in SERVER_SETTINGS.items() for arg in ("-c", f"{name}={value}")]
        self._process = subprocess.Popen(
            [str(binaries / "postgres"), "-D", str(data), "-h", self.host, "-p", str(self.port), "-k", str(self._root),
             *settings], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            **self._run_kwargs())
        assert self._process.stdout is not None
        threading.Thread(target=self._forward, args=(self._process.stdout,), daemon=True, name="postgres-log").start()
        self._await_ready()
        self._set_up()
        self._log(f"[postgres] ready on {self.host}:{self.port} in {time.perf_counter() - started:.2f} s")
        return self

    def _forward(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self._log(f"[postgres] {raw.decode(errors='replace').rstrip()}")

    def admin_connection(self, database: str = "postgres") -> Any:
        import pg8000.native

        return pg8000.native.Connection(ADMIN_USER, host=self.host, port=self.port, database=database,
                                        password=self._admin_password, timeout=10)

    def _await_ready(self) -> None:
        from pg8000.exceptions import DatabaseError, InterfaceError

        deadline = time.monotonic() + 30
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self._process.returncode}; see the stack log")
            try:
                self.admin_connection().close()
                return
            except (InterfaceError, DatabaseError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError("postgres did not accept connections within 30 s") from None
                time.sleep(0.05)

    def _set_up(self) -> None:
        from pg8000.native import identifier, literal

        provisioner = identifier(PROVISIONER_USER)
        admin = self.admin_connection()
        try:
            admin.run(f"CREATE ROLE {provisioner} WITH LOGIN CREATEROLE PASSWORD {literal(self.provisioner.password)}")
            admin.run(f"GRANT pg_signal_backend TO {provisioner}")
            admin.run(f"CREATE DATABASE {identifier(TOOLS_DATABASE)} OWNER {provisioner}")
            admin.run(f"REVOKE ALL ON DATABASE {identifier(TOOLS_DATABASE)} FROM PUBLIC")
        finally:
            admin.close()
        tools = self.admin_connection(TOOLS_DATABASE)
        try:
            tools.run("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        finally:
            tools.close()

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: sessions ended, no checkpoint wait
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._process = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
