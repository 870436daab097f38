"""The orchestrator: starts moto and the Stripe sandbox, provisions template.yaml, serves the HTTP API,
runs the functions, the SQS event sources and the schedules, seeds demo data; stops all of it.

    stack = LocalStack(api_port=0, aws_port=0, stripe_port=0, seed=True)
    stack.start()            # returns when ready
    stack.api_url, stack.aws_endpoint, stack.stripe_url, stack.outputs["AccountsTable"]
    stack.stop()
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import boto3

from local.stack.api_docs import DOCS_PATH, OPENAPI_PATH, ApiDocs
from local.stack.api_gateway import ApiGateway, ApiServer, HttpResponse
from local.stack.jwt_authorizer import JwtAuthorizer, http_jwks_fetcher
from local.stack.lambda_runtime import DUMMY_CREDENTIALS, LambdaRuntime, max_workers_setting
from local.stack.learning_tools import LearningTools
from local.stack.outbox import OUTBOX_JSON_PATH, OUTBOX_PATH, Outbox
from local.stack.poller_thread import PollerThread
from local.stack.provision import ProvisionedStack, provision
from local.stack.sam import SamModel, build_model
from local.stack.scheduler import Scheduler, run_now_response
from local.stack.seed import DEMO_USERS, SeedContext, run_seed
from local.stack.sqs_poller import SqsPoller
from local.stack.stream_poller import StreamPoller
from local.stack.stripe_webhooks import register_webhook_endpoints
from local.stack.template import DEFAULT_REGION, DEFAULT_STACK_NAME, DEFAULT_TEMPLATE, REPO_ROOT

STRIPE_SECRET_KEY = "sk_test_local_coursepay"
STRIPE_PUBLISHABLE_KEY = "pk_test_local_coursepay"
LOCAL_ORIGINS = ("http://localhost:{api}", "http://127.0.0.1:{api}", "http://localhost:8080")
HEALTH_PATH = "/_local/health"
RUN_SCHEDULE_PATH = "/_local/schedules/{function}/run"


class StackLog:
    """The stack's log: a file in the state directory, optionally echoed to the console."""

    def __init__(self, path: Path, echo: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():  # keep the previous run's log, one generation
            path.replace(path.with_name(path.name + ".1"))
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8", buffering=1)
        self._echo = echo
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            if self._file.closed:
                return
            self._file.write(f"{time.strftime('%H:%M:%S')} {line}\n")
            if self._echo:
                print(line, flush=True)

    def close(self) -> None:
        with self._lock:
            self._file.close()


class _Phases:
    """Logs how long each start-up phase took (start-up time is a feature of the stack)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self._log(f"[stack] {name}: {now - self._last:.2f} s")
        self._last = now


class LocalStack:
    def __init__(
        self,
        api_port: int = 3000,
        aws_port: int = 5050,
        stripe_port: int = 12111,
        seed: bool = True,
        *,
        state_dir: Path | str = REPO_ROOT / ".local-state",
        template: Path | str = DEFAULT_TEMPLATE,
        parameter_overrides: Mapping[str, str | int] | None = None,
        host: str = "127.0.0.1",
        region: str = DEFAULT_REGION,
        stack_name: str = DEFAULT_STACK_NAME,
        max_workers_per_function: int | None = None,
        warm: bool = False,
        echo_logs: bool = False,
        schedule_interval: float | None = None,
    ) -> None:
        """``schedule_interval``: seconds between runs of every ``Schedule`` event (None: the template's rate);
        ``max_workers_per_function``: how far each function scales out (None: ``max_workers_setting()``)."""
        self._ports = {"api": api_port, "aws": aws_port, "stripe": stripe_port}
        self._seed = seed
        self.state_dir = Path(state_dir).resolve()
        self._template = template
        self._extra_overrides = dict(parameter_overrides or {})
        self.host = host
        self.region = region
        self.stack_name = stack_name
        self._max_workers = max_workers_per_function or max_workers_setting()
        self._warm = warm
        self._echo = echo_logs
        self._schedule_interval = schedule_interval

        self.api_url = ""
        self.aws_endpoint = ""
        self.stripe_url: str | None = None
        self.outputs: dict[str, str] = {}
        self.parameters: dict[str, Any] = {}
        self.provisioned: ProvisionedStack | None = None
        self.model: SamModel | None = None
        self.runtime: LambdaRuntime | None = None
        self.webhook_secret: str | None = None
        self.connect_webhook_secret: str | None = None
        self.startup_seconds: float | None = None
        self.log: StackLog | None = None

        self._moto: subprocess.Popen[bytes] | None = None
        self._moto_log_thread: threading.Thread | None = None
        self._stripe: Any = None
        self._api: ApiServer | None = None
        self._pollers: list[PollerThread] = []
        self.scheduler: Scheduler | None = None
        self.learning_tools: LearningTools | None = None  # the tool stand-ins and PostgreSQL
        self._stopped = False

    # ------------------------------------------------------------------------------------------ start

    def start(self) -> LocalStack:
        started = time.perf_counter()
        self.log = StackLog(self.state_dir / "stack.log", self._echo)
        self.log(f"[stack] starting (pid {os.getpid()}, template {self._template})")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        self.log(f"[stack] ready in {self.startup_seconds:.1f} s")
        self._write_state()
        return self

    def _start(self) -> None:
        log = self._require_log()
        self._api = ApiServer(self.host, self._ports["api"], log)  # bind first: the port goes into parameters
        self.api_url = self._api.url
        phase = _Phases(log)
        self._spawn_moto()
        self._start_stripe()  # while moto imports
        tools_ready = self._start_learning_tools()  # initdb too
        self._await_moto()
        phase("moto server and Stripe sandbox")
        tools_ready()
        phase("tool stand-ins and PostgreSQL")
        overrides: dict[str, str | int] = {
            "QueueVisibilitySeconds": 2,  # failed messages come back (and reach the DLQ) in seconds
            "MeetingProvider": "zoom",  # the real Zoom adapter, against the Zoom stand-in (ZoomMeetingsSecret)
            "AllowedRedirectOrigins": ",".join(origin.format(api=self._api.port) for origin in LOCAL_ORIGINS),
        }
        if self.stripe_url:
            overrides["StripeApiBase"] = self.stripe_url
        overrides.update(self._extra_overrides)
        session = self.session()
        self.provisioned = provision(
            self._template, session, overrides, endpoint_url=self.aws_endpoint, stack_name=self.stack_name
        )
        self.parameters = dict(self.provisioned.resolver.parameters)
        self.outputs = self.provisioned.physical_ids
        phase(f"{len(self.outputs)} resources from the template")
        self._configure_aws(session)
        phase("secrets, SES sender, webhook endpoint")
        self.model = build_model(self.provisioned.template, self.provisioned.resolver)
        self.runtime = LambdaRuntime(
            self.model.functions,
            region=self.region,
            aws_endpoint=self.aws_endpoint,
            log=log,
            max_workers=self._max_workers,
        )
        self.scheduler = Scheduler(
            self.model.schedules,
            self.runtime.invoke,
            region=self.region,
            account_id=self.provisioned.resolver.account_id,
            stack_name=self.stack_name,
            log=log,
            interval_override_s=self._schedule_interval,
        )
        self._api.start(self._gateway(log))
        self._pollers = [
            SqsPoller(
                source,
                session.client("sqs", endpoint_url=self.aws_endpoint),
                self.runtime.invoke,
                region=self.region,
                log=log,
            )
            for source in self.model.sqs_sources
        ]
        self._pollers += [
            StreamPoller(
                source,
                session.client("dynamodbstreams", endpoint_url=self.aws_endpoint),
                session.client("sqs", endpoint_url=self.aws_endpoint),
                self.runtime.invoke,
                log=log,
            )
            for source in self.model.stream_sources
        ]
        for poller in self._pollers:
            poller.start()
        self.scheduler.start()
        phase("API, functions, queue and stream pollers, schedules")
        if self._seed:
            run_seed(self.seed_context())
            phase("demo data")
        if self._warm:
            threading.Thread(target=self._warm_functions, name="warm", daemon=True).start()

    def _require_log(self) -> StackLog:
        assert self.log is not None, "start() first"
        return self.log

    def session(self) -> boto3.Session:
        """A boto3 session for the local AWS (pass ``endpoint_url=stack.aws_endpoint`` to its clients)."""
        return boto3.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=self.region,
        )

    def client(self, service: str) -> Any:
        return self.session().client(service, endpoint_url=self.aws_endpoint)  # type: ignore[call-overload]

    def _spawn_moto(self) -> None:
        self._moto = subprocess.Popen(
            [sys.executable, "-m", "local.stack.aws_server", "--host", self.host, "--port", str(self._ports["aws"])],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,  # closing it (or our death) ends the server
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def _await_moto(self) -> None:
        """Read moto's output up to its ``READY <port>`` line (an exit before it is a failed start)."""
        log = self._require_log()
        assert self._moto is not None
        assert self._moto.stdout is not None
        deadline = time.monotonic() + 30
        while True:
            line = self._moto.stdout.readline().decode(errors="replace").strip()
            if line.startswith("READY "):
                port = int(line.split()[1])
                break
            if not line and self._moto.poll() is not None:
                raise RuntimeError(f"moto server exited ({self._moto.returncode}); see {log.path}")
            if line:
                log(f"[moto] {line}")
            if time.monotonic() > deadline:
                raise RuntimeError("moto server did not start within 30 s")
        self.aws_endpoint = f"http://{self.host}:{port}"
        self._moto_log_thread = threading.Thread(
            target=self._forward, args=(self._moto.stdout, "[moto]"), name="moto-log", daemon=True
        )
        self._moto_log_thread.start()

    def _forward(self, stream: IO[bytes], prefix: str) -> None:
        log = self._require_log()
        for raw in stream:
            log(f"{prefix} {raw.decode(errors='replace').rstrip()}")

    def _start_stripe(self) -> None:
        try:  # imported by name: the sandbox is another package, type-checked on its own
            sandbox = importlib.import_module("local.stripe_sandbox.server")
        except ImportError as error:
            self._require_log()(f"[stack] Stripe sandbox unavailable ({error}); StripeApiBase keeps its default")
            return
        self._stripe = sandbox.SandboxServer(host=self.host, port=self._ports["stripe"]).start()
        self.stripe_url = str(self._stripe.url)

    def _start_learning_tools(self) -> Callable[[], None]:
        """Starts the tool stand-ins and PostgreSQL in a thread; the returned call waits for them (and raises
        what their start raised)."""
        self.learning_tools = LearningTools(self.state_dir, host=self.host, log=self._require_log())
        failure: list[BaseException] = []

        def start() -> None:
            try:
                assert self.learning_tools is not None
                self.learning_tools.start()
            except BaseException as error:
                failure.append(error)

        thread = threading.Thread(target=start, name="learning-tools", daemon=True)
        thread.start()

        def ready() -> None:
            thread.join(timeout=60)
            if failure:
                raise RuntimeError(f"the learning tools did not start: {failure[0]}") from failure[0]
            if thread.is_alive():
                raise RuntimeError("the learning tools did not start within 60 s")

        return ready

    def _configure_aws(self, session: boto3.Session) -> None:
        """Set what the template leaves to the operator: secret values, the SES sender, the Stripe webhook."""
        assert self.provisioned is not None
        secrets = session.client("secretsmanager", endpoint_url=self.aws_endpoint)
        if self.learning_tools is not None:
            for logical_id, value in self.learning_tools.secret_values().items():
                secrets.put_secret_value(SecretId=self.outputs[logical_id], SecretString=value)
        secrets.put_secret_value(
            SecretId=self.outputs["StripeApiKeySecret"],
            SecretString=json.dumps({"secret_key": STRIPE_SECRET_KEY, "publishable_key": STRIPE_PUBLISHABLE_KEY}),
        )
        sender = str(self.parameters["EmailSender"])
        session.client("ses", endpoint_url=self.aws_endpoint).verify_email_identity(EmailAddress=sender)
        if self.stripe_url:
            self._register_webhook(secrets)

    def _register_webhook(self, secrets: Any) -> None:
        """The sandbox's webhook endpoints for our API (platform, Connect); each signing secret goes where the
        function reads it."""
        assert self.stripe_url is not None
        registered = register_webhook_endpoints(self.stripe_url, STRIPE_SECRET_KEY, self._api_port(), secrets,
                                                self.outputs, self._require_log())
        self.webhook_secret = registered["StripeWebhookSecret"]
        self.connect_webhook_secret = registered["StripeConnectWebhookSecret"]

    def _api_port(self) -> int:
        assert self._api is not None
        return self._api.port

    def authorizers(self) -> dict[str, JwtAuthorizer]:
        assert self.model is not None
        authorizers: dict[str, JwtAuthorizer] = {}
        for api in self.model.http_apis.values():
            for route in api.routes:
                spec = route.authorizer
                if spec is None or spec.name in authorizers:
                    continue
                # The issuer's JWKS is served by moto under the pool id (the issuer URL's last segment).
                pool_id = spec.issuer.rstrip("/").rsplit("/", 1)[1]
                jwks_url = f"{self.aws_endpoint}/{pool_id}/.well-known/jwks.json"
                authorizers[spec.name] = JwtAuthorizer(spec, http_jwks_fetcher(jwks_url))
        return authorizers

    def _gateway(self, log: Callable[[str], None]) -> ApiGateway:
        assert self.model is not None
        assert self.runtime is not None
        if len(self.model.http_apis) != 1:
            raise RuntimeError(f"the local stack serves exactly one HTTP API, template has {len(self.model.http_apis)}")
        (api,) = self.model.http_apis.values()
        outbox = Outbox(self.aws_endpoint)
        docs = ApiDocs(self.api_url)
        return ApiGateway(
            api,
            self.runtime.invoke,
            self.authorizers(),
            account_id=self.provisioned.resolver.account_id if self.provisioned else "",
            log=log,
            local_routes={
                OUTBOX_PATH: outbox.html_response,
                OUTBOX_JSON_PATH: outbox.json_response,
                HEALTH_PATH: lambda request: HttpResponse.json(200, {"status": "ok"}),
                OPENAPI_PATH: docs.openapi_response,
                DOCS_PATH: docs.page_response,
            },
            local_actions={RUN_SCHEDULE_PATH: self._run_schedule},
        )

    def _run_schedule(self, request: Any, parameters: dict[str, str]) -> HttpResponse:
        assert self.scheduler is not None
        at = parse_qs(urlsplit(request.target).query).get("at", [None])[0]
        return run_now_response(self.scheduler, parameters["function"], at)

    def seed_context(self) -> SeedContext:
        assert self.runtime is not None
        return SeedContext(
            api_url=self.api_url,
            aws_endpoint=self.aws_endpoint,
            stripe_url=self.stripe_url,
            stripe_secret_key=STRIPE_SECRET_KEY,
            outputs=self.outputs,
            session=self.session(),
            function_environments={name: pool.environment for name, pool in self.runtime.pools.items()},
            log=self._require_log(),
        )

    def _warm_functions(self) -> None:
        assert self.runtime is not None
        for pool in self.runtime.pools.values():
            if self._stopped:
                return
            try:
                pool.warm()
            except RuntimeError:
                return

    def _write_state(self) -> None:
        state = {
            "api_url": self.api_url,
            "aws_endpoint": self.aws_endpoint,
            "stripe_url": self.stripe_url,
            "outbox_url": self.api_url + OUTBOX_PATH,
            "tool_standins_url": self.learning_tools.standins.url if self.learning_tools else None,
            "postgres": self._postgres_address(),
            "outputs": self.outputs,
            "parameters": self.parameters,
            # what `python -m local.stack.run_in_function <LogicalId> -- <command>` runs a command with
            "function_environments": {
                name: pool.environment for name, pool in (self.runtime.pools.items() if self.runtime else ())
            },
        }
        (self.state_dir / "outputs.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    def _postgres_address(self) -> dict[str, Any] | None:
        # RECONSTRUCTED (see the stack's history): where the local PostgreSQL listens
        if self.learning_tools is None:
            return None
        login = self.learning_tools.postgres.provisioner
        return {"host": login.host, "port": login.port, "database": login.database}

    # ------------------------------------------------------------------------------------------ stop

    def stop(self) -> None:
        """Stop everything started, in reverse order; safe to call twice and after a failed start."""
        if self._stopped:
            return
        self._stopped = True
        for poller in self._pollers:
            poller.request_stop()
        for poller in self._pollers:
            poller.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self._api is not None:
            self._api.stop()
        if self.runtime is not None:
            self.runtime.stop()
        if self._stripe is not None:
            self._stripe.stop()
        if self.learning_tools is not None:  # RECONSTRUCTED
            self.learning_tools.stop()
        self._stop_moto()
        if self.log is not None:
            self.log("[stack] stopped")
            self.log.close()

    def _stop_moto(self) -> None:
        process = self._moto
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._moto_log_thread is not None:
            self._moto_log_thread.join(timeout=5)

    def child_pids(self) -> list[int]:
        """Every process the stack started (moto, function workers), for checks that none survive."""
        pids = [self._moto.pid] if self._moto is not None else []
        return pids + (self.runtime.spawned_pids() if self.runtime is not None else [])

    # ------------------------------------------------------------------------------------------ banner

    def banner(self) -> str:
        api = self.api_url.replace("127.0.0.1", "localhost")
        lines = [
            "",
            f"coursepay local stack ready in {self.startup_seconds or 0:.1f} s",
            f"  API (HTTP API, payload 2.0)  {api}",
            f"  AWS (moto)                   {self.aws_endpoint}",
            f"  Stripe sandbox               {self.stripe_url or '(not available)'}",
            f"  Outbox (sent e-mail)         {api}{OUTBOX_PATH}",
            f"  API docs (OpenAPI 3.1)       {api}{DOCS_PATH}  ({api}{OPENAPI_PATH})",
            f"  Log                          {self.log.path if self.log else ''}",
            f"  Outputs                      {self.state_dir / 'outputs.json'}",
        ]
        if self._seed:
            lines.append('  Demo logins (POST /auth/login {"email", "password"}):')
            lines += [f"    {user.email:<26} {user.password}   ({user.group})" for user in DEMO_USERS]
        lines.append("Ctrl-C stops everything.")
        return "\n".join(lines)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
