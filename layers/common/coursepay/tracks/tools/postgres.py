"""PostgreSQL (the DP track): a schema and a login role per student, the role privileged on that schema only.

Provisioning, in one transaction, as the provisioner's login (CREATEROLE and CREATE on the database, not a
superuser): the role ``<workspace>`` (``dp_<12 hex>``) is created, or given LOGIN and its password again if it
exists; the schema of the same name is created, owned by the provisioner, so that no student can grant it to
anyone; the role gets USAGE and CREATE on it and ``search_path`` set to it, nothing on ``public`` and nothing on
any other schema (schemas grant nothing to PUBLIC). The password is sent as a SCRAM-SHA-256 verifier computed
here, so the plain password is not in the server's statement log either.

Revocation keeps the student's tables (a re-enrolment gets them back) and takes the access away: REVOKE ALL on
the schema, NOLOGIN, and every open session of the role terminated (the provisioner is a member of
``pg_signal_backend``). Both are idempotent. Connection failures and serialisation conflicts are
``ToolUnavailable`` (retried); any other database error is ``ToolRejected``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from coursepay.tracks.catalogue import Tool
from coursepay.tracks.tools.config import PostgresToolConfig
from coursepay.tracks.tools.interface import ProvisionedTool, Student, ToolRejected, ToolUnavailable

if TYPE_CHECKING:
    from pg8000.native import Connection

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
PASSWORD = re.compile(r"^[A-Za-z0-9]{20,128}$")
SCRAM_ITERATIONS = 4096
CONNECTION_LIMIT = 5
RETRYABLE_SQLSTATES = {"40001", "40P01", "42710", "23505", "55P03", "57P01"}  # conflicts of concurrent runs


def role_name(student: Student) -> str:
    name = student.workspace.replace("-", "_")
    if not ROLE_NAME.match(name):
        raise ToolRejected(f"workspace {student.workspace!r} is not a usable PostgreSQL role name")
    return name


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677, PostgreSQL's format)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    encode = base64.b64encode
    return (f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{encode(salt).decode()}$"
            f"{encode(stored_key).decode()}:{encode(server_key).decode()}")


class PostgresProvisioner:
    def __init__(self, config: Callable[[], PostgresToolConfig]) -> None:
        self._config = config

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        import pg8000.native
        from pg8000.exceptions import DatabaseError, InterfaceError

        config = self._config()
        try:
            connection = pg8000.native.Connection(
                user=config.user, password=config.password.get_secret_value(), host=config.host, port=config.port,
                database=config.database, ssl_context=True if config.ssl else None, timeout=10,
                application_name="coursepay-provisioning")
        except (InterfaceError, OSError) as error:
            raise ToolUnavailable(f"PostgreSQL at {config.host}:{config.port} unreachable: {error}") from error
        except DatabaseError as error:
            raise ToolRejected(f"PostgreSQL refused the provisioner's login: {_sqlstate(error)}") from error
        try:
            connection.run("START TRANSACTION")
            yield connection
            connection.run("COMMIT")
        except DatabaseError as error:
            state = _sqlstate(error)
            if state in RETRYABLE_SQLSTATES:
                raise ToolUnavailable(f"PostgreSQL conflict ({state}), retried") from error
            raise ToolRejected(f"PostgreSQL refused a provisioning statement ({state})") from error
        except (InterfaceError, OSError) as error:
            raise ToolUnavailable(f"PostgreSQL connection lost: {error}") from error
        finally:
            connection.close()

    def provision(self, student: Student, tool: Tool) -> ProvisionedTool:
        from pg8000.native import identifier, literal

        if not PASSWORD.match(student.password):
            raise ToolRejected("the student's tool password is missing or not of the generated form")
        name = role_name(student)
        config = self._config()
        role, verifier = identifier(name), literal(scram_verifier(student.password))
        with self._transaction() as db:
            exists = db.run("SELECT 1 FROM pg_roles WHERE rolname = :name", name=name)
            if exists:
                db.run(f"ALTER ROLE {role} WITH LOGIN PASSWORD {verifier} CONNECTION LIMIT {CONNECTION_LIMIT}")
            else:
                db.run(f"CREATE ROLE {role} WITH LOGIN NOINHERIT NOCREATEDB NOCREATEROLE PASSWORD {verifier} "
                       f"CONNECTION LIMIT {CONNECTION_LIMIT}")
            db.run(f"CREATE SCHEMA IF NOT EXISTS {role}")
            db.run(f"GRANT USAGE, CREATE ON SCHEMA {role} TO {role}")
            db.run(f"REVOKE ALL ON SCHEMA public FROM {role}")
            db.run(f"GRANT CONNECT ON DATABASE {identifier(config.database)} TO {role}")
            db.run(f"ALTER ROLE {role} SET search_path = {role}")
        host, port = config.student_host or config.host, config.student_port or config.port
        return ProvisionedTool(
            tool_id=tool.tool_id, name=tool.name, kind="postgres", username=name, uses_password=True,
            url=f"postgresql://{name}@{host}:{port}/{config.database}",
            details={"host": host, "port": str(port), "database": config.database, "schema": name,
                     "sslmode": "require" if config.ssl else "disable"})

    def revoke(self, student: Student, tool: Tool, provisioned: ProvisionedTool) -> None:
        from pg8000.native import identifier

        name = role_name(student)
        config = self._config()
        role = identifier(name)
        with self._transaction() as db:
            if not db.run("SELECT 1 FROM pg_roles WHERE rolname = :name", name=name):
                return  # never provisioned: nothing to take away
            db.run(f"ALTER ROLE {role} WITH NOLOGIN")
            if db.run("SELECT 1 FROM pg_namespace WHERE nspname = :name", name=name):
                db.run(f"REVOKE ALL ON SCHEMA {role} FROM {role}")
            db.run(f"REVOKE CONNECT ON DATABASE {identifier(config.database)} FROM {role}")
            db.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :name", name=name)


def _sqlstate(error: Exception) -> str:
    detail = error.args[0] if error.args else {}
    return str(detail.get("C", "?")) if isinstance(detail, dict) else "?"
