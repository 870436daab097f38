"""Demo data for the local stack: a list of seed steps that features extend.

A step is a callable taking a :class:`SeedContext`; :data:`SEED_STEPS` runs in order after the stack is
ready. Steps create what they need through the APIs a real operator or user would use (Cognito admin APIs,
the HTTP API) or, for items only the domain code knows how to write, through that code run in the owning
function's environment (:meth:`SeedContext.run_in_function`), never through a second copy of it here.

To add data for a feature: write ``def seed_<entity>(ctx: SeedContext) -> None`` and append it to
``SEED_STEPS`` (after the steps it depends on, e.g. courses after users).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests

from local.stack.template import REPO_ROOT

DEMO_PASSWORD = "Passw0rd!demo"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    group: str
    password: str = DEMO_PASSWORD


DEMO_USERS = (
    DemoUser("admin@coursepay.local", "Ada Admin", "admins"),
    DemoUser("teacher@coursepay.local", "Tess Teacher", "teachers"),
    DemoUser("tutor@coursepay.local", "Theo Tutor", "teachers"),  # the tutoring marketplace's demo teacher
    DemoUser("student@coursepay.local", "Sam Student", "students"),
)


@dataclass
class SeedContext:
    """What a seed step can reach: the running stack's endpoints, ids and helpers."""

    api_url: str
    aws_endpoint: str
    stripe_url: str | None
    stripe_secret_key: str
    outputs: Mapping[str, str]  # logical id -> physical id (LocalStack.outputs)
    session: boto3.Session
    function_environments: Mapping[str, Mapping[str, str]]  # logical id -> the function's environment
    log: Callable[[str], None] = print
    users: dict[str, str] = field(default_factory=dict)  # e-mail -> Cognito sub, filled by seed_users

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.aws_endpoint)  # type: ignore[call-overload]

    def login(self, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
        """Tokens for a user, straight from the local Cognito (USER_PASSWORD_AUTH on the template's client)."""
        result = self.client("cognito-idp").initiate_auth(
            ClientId=self.outputs["UserPoolClient"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )["AuthenticationResult"]
        return {
            "access_token": result["AccessToken"],
            "id_token": result["IdToken"],
            "refresh_token": result.get("RefreshToken"),
            "expires_in": result["ExpiresIn"],
            "token_type": result["TokenType"],
        }

    def api(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.api_url + path, headers=headers, timeout=30, **kwargs)

    def run_in_function(self, function: str, target: str, payload: Any) -> Any:
        """Call ``target`` ("module:function") with ``payload`` in a process with ``function``'s environment."""
        environment = dict(self.function_environments[function])
        # The helper module lives in this repository; the function's own path (layers) stays first.
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [environment.get("PYTHONPATH"), str(REPO_ROOT)]))
        completed = subprocess.run(
            [sys.executable, "-m", "local.stack.seed_runner", target],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            env=environment,
            cwd=REPO_ROOT,
            timeout=60,
            check=False,
        )
        for line in completed.stderr.splitlines():
            self.log(f"[seed:{function}] {line}")
        if completed.returncode != 0:
            raise RuntimeError(f"seeding {target} in {function}'s environment failed (see the stack log)")
        return json.loads(completed.stdout or "null")


# ---------------------------------------------------------------------------------------------- steps


def seed_users(ctx: SeedContext) -> None:
    """The demo users: Cognito users with permanent passwords, in their group, each with a profile."""
    cognito = ctx.client("cognito-idp")
    pool_id = ctx.outputs["UserPool"]
    for user in DEMO_USERS:
        created = cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=user.email,
            UserAttributes=[
                {"Name": "email", "Value": user.email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": user.name},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=user.email, Password=user.password, Permanent=True)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=user.email, GroupName=user.group)
        attributes = {item["Name"]: item["Value"] for item in created["User"]["Attributes"]}
        ctx.users[user.email] = attributes["sub"]
    profiles = [
        {"user_id": ctx.users[user.email], "email": user.email, "name": user.name, "group": user.group}
        for user in DEMO_USERS
    ]
    ctx.run_in_function("AccountsFunction", "local.stack.seed:write_profiles", profiles)


def write_profiles(profiles: list[dict[str, str]]) -> int:
    """(Runs in AccountsFunction's environment.) Store each profile the way the accounts function does."""
    from coursepay.accounts.models import Profile
    from coursepay.accounts.repository import AccountsRepository
    from coursepay.clock import iso_now
    from coursepay.settings import AccountsSettings, load_settings

    repository = AccountsRepository(load_settings(AccountsSettings).accounts_table)
    for profile in profiles:
        repository.save_profile(
            Profile(
                user_id=profile["user_id"],
                email=profile["email"],
                name=profile["name"],
                created_at=iso_now(),
                groups=[profile["group"]],
            )
        )
    return len(profiles)


def seed_tracks(ctx: SeedContext) -> None:
    """The paid-track catalogue (DP, FSD) from coursepay/tracks/data/tracks.json, by the tracks context's own seeder."""
    changed = ctx.run_in_function("PaymentsFunction", "coursepay.tracks.seed:seed_in_function", None)
    ctx.log(f"[seed] tracks: {', '.join(changed) or 'unchanged'}")


DEMO_COURSES = (
    {"title": "Python for kids", "description": "Loops, turtles and small games.",
     "outline": ["Variables", "Loops", "Turtle graphics", "A first game"], "monthly_price": 1500,
     "one_time_price": 9900, "currency": "usd"},
    {"title": "Scratch basics", "description": "Make sprites move, talk and play.",
     "outline": ["Sprites", "Events", "Broadcasts"], "monthly_price": 900, "currency": "usd"},
    {"title": "Web pages from scratch", "description": "HTML and CSS, one small page at a time.",
     "outline": ["HTML", "CSS", "Publishing"], "one_time_price": 4900, "currency": "usd"},
)


def seed_courses(ctx: SeedContext) -> None:
    """Demo courses, created through POST /courses as the demo teacher (Stripe Product and Prices included).
    Each has a fixed Idempotency-Key, so seeding again returns the same courses instead of new ones."""
    token = ctx.login("teacher@coursepay.local")["access_token"]
    for number, course in enumerate(DEMO_COURSES, start=1):
        response = ctx.api("POST", "/courses", token=token, json=course,
                           headers={"Idempotency-Key": f"demo-course-{number}"})
        if response.status_code != 201:
            raise RuntimeError(f"seeding course {course['title']!r} failed: {response.status_code} {response.text}")
        ctx.log(f"[seed] course {response.json()['course_id']}: {course['title']}")


DEMO_GIGS = (
    {"title": "Algebra, step by step", "description": "Equations, functions and graphs without fear.",
     "subject": "maths", "language": "en", "hourly_rate": 5000, "currency": "usd", "durations": [30, 60, 90],
     "time_zone": "Europe/Berlin", "min_notice_hours": 12,
     "availability": [{"weekday": 0, "start": "09:00", "end": "12:00"},
                      {"weekday": 2, "start": "14:00", "end": "18:00"}]},
    {"title": "Conversational Spanish", "description": "Speak from the first lesson.", "subject": "spanish",
     "language": "es", "hourly_rate": 3500, "currency": "usd", "durations": [45, 60],
     "time_zone": "America/New_York", "min_notice_hours": 24,
     "availability": [{"weekday": 1, "start": "17:00", "end": "20:00"},
                      {"weekday": 5, "start": "10:00", "end": "13:00"}]},
)
DEMO_ONBOARDING_FORM = {
    "business_type": "individual", "first_name": "Theo", "last_name": "Tutor", "email": "tutor@coursepay.local",
    "dob": "1985-12-10", "ssn_last_4": "0000", "business_url": "https://tutor.coursepay.local",
    "routing_number": "110000000", "account_number": "000123456789", "tos": "accept"}


def seed_tutoring(ctx: SeedContext) -> None:
    """The demo tutor: a Connect account onboarded through the sandbox's hosted onboarding form (what the
    tutor would submit in a browser), payouts enabled by the account.updated event the stack delivers, and
    two published gigs (fixed Idempotency-Keys: seeding again finds the same ones)."""
    token = ctx.login("tutor@coursepay.local")["access_token"]
    payouts = ctx.api("GET", "/teacher/payouts", token=token)
    if not (payouts.status_code == 200 and payouts.json()["payouts_enabled"]):
        origin = ctx.api_url.rstrip("/")
        started = ctx.api("POST", "/teacher/payouts/onboarding", token=token,
                          json={"refresh_url": f"{origin}/payouts", "return_url": f"{origin}/payouts/done"})
        if started.status_code != 201:
            raise RuntimeError(f"seeding the tutor's onboarding failed: {started.status_code} {started.text}")
        submitted = requests.post(started.json()["url"], data=DEMO_ONBOARDING_FORM, allow_redirects=False,
                                  timeout=30)
        if submitted.status_code != 303:
            raise RuntimeError(f"the sandbox's onboarding form refused the demo tutor: {submitted.status_code}")
        deadline = time.monotonic() + 30
        while not ctx.api("GET", "/teacher/payouts", token=token).json()["payouts_enabled"]:
            if time.monotonic() > deadline:
                raise RuntimeError("the tutor's account.updated event did not enable payouts within 30 s")
            time.sleep(0.2)
    for number, gig in enumerate(DEMO_GIGS, start=1):
        created = ctx.api("POST", "/teacher/gigs", token=token, json=gig,
                          headers={"Idempotency-Key": f"demo-gig-{number}"})
        if created.status_code != 201:
            raise RuntimeError(f"seeding gig {gig['title']!r} failed: {created.status_code} {created.text}")
        gig_id = created.json()["gig_id"]
        published = ctx.api("POST", f"/teacher/gigs/{gig_id}/publish", token=token)
        if published.status_code != 200:
            raise RuntimeError(f"publishing gig {gig_id} failed: {published.status_code} {published.text}")
        ctx.log(f"[seed] gig {gig_id}: {gig['title']}")


SEED_STEPS: list[Callable[[SeedContext], None]] = [seed_users, seed_tracks, seed_courses, seed_tutoring]


def run_seed(ctx: SeedContext, steps: list[Callable[[SeedContext], None]] | None = None) -> None:
    for step in SEED_STEPS if steps is None else steps:
        ctx.log(f"[seed] {step.__name__}")
        step(ctx)
