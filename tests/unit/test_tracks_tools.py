"""Learning tools through the provisioning consumer and the learning function, in-process: moto for AWS, the tool
stand-ins over HTTP and a real PostgreSQL cluster (tests/support/tool_services.py)."""

from __future__ import annotations

import json
import uuid

import pg8000.native
import pytest
import requests

from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.tracks.catalogue import TracksRepository
from coursepay.tracks.events import enrolled_envelope, withdrawn_envelope
from coursepay.tracks.seed import seed_tracks
from tests.support.api_events import http_event
from tests.support.tracks import call, drain, new_student, sqs_event

pytest_plugins = ("tests.support.tool_services",)

TOOLS_ROUTE = "/me/tracks/{trackId}/tools"


@pytest.fixture
def world(aws, load_function, tool_secrets, lambda_context):
    seed_tracks(aws.name("CoursesTable"), aws.name("AuditTable"))
    learning = load_function("LearningFunction", "learning")
    provisioning = load_function("ProvisioningFunction", "provisioning")
    return {"learning": learning, "provisioning": provisioning, "tools": tool_secrets, "ctx": lambda_context}


def enroll(aws, student, track_id):
    payment_id = f"pi_{uuid.uuid4().hex[:12]}"
    EnrollmentsRepository(aws.name("EnrollmentsTable")).save(Enrollment(
        user_id=student.user_id, kind="track", item_id=track_id, source=payment_id))
    track = TracksRepository(aws.name("CoursesTable")).get(track_id)
    return track, payment_id


def provision(world, aws, student, track_id):
    track, payment_id = enroll(aws, student, track_id)
    envelope = enrolled_envelope(student.user_id, track, payment_id, correlation_id=None)
    result = world["provisioning"].lambda_handler(sqs_event(envelope), world["ctx"])
    assert result == {"batchItemFailures": []}
    return track, payment_id, envelope


def tools_page(world, student, track_id="DP"):
    status, page = call(world["learning"], world["ctx"], "GET", f"/me/tracks/{track_id}/tools", route=TOOLS_ROUTE,
                        who=student)
    assert status == 200, page
    return page


def standins_state(world):
    return requests.get(f"{world['tools'].standins.url}/_standins/state", timeout=5).json()


def connect(credentials, tool):
    details = tool["details"]
    return pg8000.native.Connection(credentials["username"], password=credentials["password"],
                                    host=details["host"], port=int(details["port"]), database=details["database"])


def test_a_dp_student_gets_their_own_schema_and_tools_and_sees_the_credentials_only_on_their_page(world, aws):
    nora, omar = new_student(aws, "Nora"), new_student(aws, "Omar")
    provision(world, aws, nora, "DP")
    provision(world, aws, omar, "DP")

    page = tools_page(world, nora)
    assert page["state"] == "provisioned"
    tools = {tool["tool_id"]: tool for tool in page["tools"]}
    assert {tool["state"] for tool in tools.values()} == {"provisioned"}
    postgres = tools["postgres"]
    credentials = postgres["credentials"]
    assert credentials["dsn"] == (f"postgresql://{credentials['username']}:{credentials['password']}@"
                                  f"{postgres['details']['host']}:{postgres['details']['port']}/coursepay_tools"
                                  "?sslmode=disable")
    assert all(tool.get("credentials") is None for tool_id, tool in tools.items() if tool_id != "postgres")
    other = {tool["tool_id"]: tool for tool in tools_page(world, omar)["tools"]}["postgres"]

    db = connect(credentials, postgres)
    try:
        db.run("CREATE TABLE sales (id int)")
        db.run("INSERT INTO sales VALUES (1)")
        assert db.run("SELECT current_schema(), count(*) FROM sales GROUP BY 1") == [[postgres["details"]["schema"],
                                                                                      1]]
        for foreign in (f"{other['details']['schema']}.stolen", "public.stolen"):
            with pytest.raises(pg8000.native.DatabaseError, match="permission denied for schema"):
                db.run(f"CREATE TABLE {foreign} (id int)")
    finally:
        db.close()
    omars = connect(other["credentials"], other)
    try:
        with pytest.raises(pg8000.native.DatabaseError, match="permission denied for schema"):
            omars.run(f"SELECT * FROM {postgres['details']['schema']}.sales")
    finally:
        omars.close()

    # the hub user and the single-use Discord invite exist on the stand-ins
    state = standins_state(world)
    assert nora_workspace(tools) in state["hubs"]["jupyter"]
    invite = next(i for i in state["discord"]["invites"] if i["code"] == tools["discord"]["details"]["invite_code"])
    assert (invite["max_uses"], invite["unique"], invite["channel"]["id"]) == (1, True, "1300000000000000001")
    assert tools["discord"]["url"].endswith("/" + invite["code"])

    # the password is nowhere in the tables (only its KMS ciphertext), nor on the bus
    password = credentials["password"]
    for table in ("EnrollmentsTable", "AuditTable", "AccountsTable", "IdempotencyTable"):
        assert password not in json.dumps(aws.table(table).scan()["Items"], default=str)
    for queue in ("ProvisioningQueue", "NotificationsQueue"):
        assert password not in json.dumps(drain(aws, queue))

    # someone else, signed in, does not see Nora's tools: not enrolled is a 404
    stranger = new_student(aws, "Eve")
    status, body = call(world["learning"], world["ctx"], "GET", "/me/tracks/DP/tools", route=TOOLS_ROUTE,
                        who=stranger)
    assert (status, body["error"]["field"]) == (404, "trackId")
    response = world["learning"].lambda_handler(
        http_event("GET", "/me/tracks/DP/tools", route=TOOLS_ROUTE, claims=nora.claims), world["ctx"])
    assert response["headers"]["Cache-Control"] == "no-store"


def nora_workspace(tools):
    return tools["jupyter"]["username"]


def test_provisioning_twice_changes_nothing(world, aws):
    student = new_student(aws)
    *_, envelope = provision(world, aws, student, "DP")
    first = tools_page(world, student)
    before = standins_state(world)
    again = envelope.model_copy(update={"id": f"{envelope.id}_redelivered"})  # past the consumer's claim
    assert world["provisioning"].lambda_handler(sqs_event(again), world["ctx"]) == {"batchItemFailures": []}
    second = tools_page(world, student)
    assert [(t["tool_id"], t["url"], t["username"]) for t in second["tools"]] == [
        (t["tool_id"], t["url"], t["username"]) for t in first["tools"]]
    assert second["tools"][0]["credentials"] == first["tools"][0]["credentials"]
    after = standins_state(world)
    assert len(after["discord"]["invites"]) == len(before["discord"]["invites"])
    assert after["hubs"] == before["hubs"]


def test_an_fsd_student_gets_a_repository_and_the_invitation_waits_for_their_github_username(world, aws):
    student = new_student(aws, "Gita")
    provision(world, aws, student, "FSD")
    github = {t["tool_id"]: t for t in tools_page(world, student, "FSD")["tools"]}["github"]
    repository = github["details"]["repository"]
    assert repository.startswith("coursepay-fsd/fsd-")
    assert (github["waiting_for"], github["details"]["invitation"]) == ("github_username", "waiting_for_username")
    repos = {r["full_name"]: r for r in standins_state(world)["github"]["repositories"]}
    assert repos[repository]["template_repository"]["full_name"] == "coursepay-fsd/fsd-project-template"
    assert repos[repository]["private"] is True

    # a bad username is a 400 naming the field; a good one sends the invitation through the bus
    status, body = call(world["learning"], world["ctx"], "PUT", "/me/tool-accounts", who=student,
                        body={"github_username": "-nope-"})
    assert (status, body["error"]["field"]) == (400, "github_username")
    login = f"gita-{uuid.uuid4().hex[:6]}"
    requests.post(f"{world['tools'].standins.url}/_standins/github/users", json={"login": login}, timeout=5)
    status, body = call(world["learning"], world["ctx"], "PUT", "/me/tool-accounts", who=student,
                        body={"github_username": login})
    assert (status, body) == (200, {"github_username": login})
    records = drain(aws, "ProvisioningQueue")
    assert [json.loads(r["body"])["detail-type"] for r in records] == ["track.tool_accounts.changed"]
    assert world["provisioning"].lambda_handler({"Records": records}, world["ctx"]) == {"batchItemFailures": []}
    github = {t["tool_id"]: t for t in tools_page(world, student, "FSD")["tools"]}["github"]
    assert (github["waiting_for"], github["details"]["invitation"]) == (None, "sent")
    invitations = standins_state(world)["github"]["invitations"][repository]
    assert [i["invitee"]["login"] for i in invitations] == [login]


def test_withdrawal_revokes_every_tool_once(world, aws):
    student = new_student(aws, "Wes")
    login = f"wes-{uuid.uuid4().hex[:6]}"
    requests.post(f"{world['tools'].standins.url}/_standins/github/users", json={"login": login}, timeout=5)
    call(world["learning"], world["ctx"], "PUT", "/me/tool-accounts", who=student, body={"github_username": login})
    drain(aws, "ProvisioningQueue")
    track, payment_id, _ = provision(world, aws, student, "FSD")
    dp_track, dp_payment, _ = provision(world, aws, student, "DP")
    fsd_tools = {t["tool_id"]: t for t in tools_page(world, student, "FSD")["tools"]}
    dp_tools = {t["tool_id"]: t for t in tools_page(world, student, "DP")["tools"]}
    assert fsd_tools["github"]["details"]["invitation"] == "sent"

    for track_obj, payment in ((track, payment_id), (dp_track, dp_payment)):
        enrollments = EnrollmentsRepository(aws.name("EnrollmentsTable"))
        enrollment = enrollments.get(student.user_id, "track", track_obj.track_id)
        enrollments.save(enrollment.model_copy(update={"status": "withdrawn"}))
        withdrawn = withdrawn_envelope(student.user_id, track_obj, payment, "refunded", correlation_id=None)
        for attempt in (withdrawn, withdrawn.model_copy(update={"id": withdrawn.id + "_again"})):
            assert world["provisioning"].lambda_handler(sqs_event(attempt), world["ctx"]) == {
                "batchItemFailures": []}

    page = tools_page(world, student, "DP")
    assert page["state"] == "revoked"
    assert {t["state"] for t in page["tools"]} == {"revoked"}
    assert all(t.get("credentials") is None for t in page["tools"])
    state = standins_state(world)
    repository = fsd_tools["github"]["details"]["repository"]
    repo = next(r for r in state["github"]["repositories"] if r["full_name"] == repository)
    assert repo["archived"] is True
    assert state["github"]["invitations"][repository] == []
    assert fsd_tools["code_server"]["username"] not in state["hubs"]["code_server"]
    assert dp_tools["jupyter"]["username"] not in state["hubs"]["jupyter"]
    codes = {i["code"] for i in state["discord"]["invites"]}
    assert not {fsd_tools["discord"]["details"]["invite_code"], dp_tools["discord"]["details"]["invite_code"]} & codes
    role = dp_tools["postgres"]["username"]
    admin = world["tools"].postgres.admin_connection()
    try:
        assert admin.run("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r", r=role) == [[False]]
    finally:
        admin.close()
    actions = [e["action"] for e in aws.table("AuditTable").scan()["Items"]
               if e["pk"] == f"enrollment#{student.user_id}#track#DP"]
    assert actions.count("tools.revoked") == 1


def test_a_failing_service_fails_the_message_and_the_retry_finishes_without_duplicates(world, aws):
    student = new_student(aws, "Fay")
    track, payment_id = enroll(aws, student, "FSD")
    envelope = enrolled_envelope(student.user_id, track, payment_id, correlation_id=None)
    faults = f"{world['tools'].standins.url}/_standins/faults"
    requests.post(faults, json={"service": "github", "status": 502, "times": 1}, timeout=5).raise_for_status()
    failed = world["provisioning"].lambda_handler(sqs_event(envelope), world["ctx"])
    assert len(failed["batchItemFailures"]) == 1  # SQS retries it (and, in the end, the DLQ holds it)
    partial = tools_page(world, student, "FSD")
    assert partial["state"] == "provisioning"
    assert {t["tool_id"]: t["state"] for t in partial["tools"]} == {
        "code_server": "provisioned", "github": "pending", "discord": "pending"}

    # rate-limited on the retry: still failing, with GitHub's own 403
    requests.post(faults, json={"service": "github", "status": 403, "times": 1}, timeout=5).raise_for_status()
    assert len(world["provisioning"].lambda_handler(sqs_event(envelope), world["ctx"])["batchItemFailures"]) == 1
    assert world["provisioning"].lambda_handler(sqs_event(envelope), world["ctx"]) == {"batchItemFailures": []}
    page = tools_page(world, student, "FSD")
    assert page["state"] == "provisioned"
    workspace = page["workspace"]
    state = standins_state(world)
    assert [r["name"] for r in state["github"]["repositories"]].count(workspace) == 1
    assert state["hubs"]["code_server"].count(workspace) == 1


def test_an_enrollment_withdrawn_before_provisioning_gets_no_tools(world, aws):
    student = new_student(aws, "Late")
    track, payment_id = enroll(aws, student, "DP")
    withdrawn = withdrawn_envelope(student.user_id, track, payment_id, "refunded", correlation_id=None)
    enrollments = EnrollmentsRepository(aws.name("EnrollmentsTable"))
    enrollments.save(enrollments.get(student.user_id, "track", "DP").model_copy(update={"status": "withdrawn"}))
    enrolled = enrolled_envelope(student.user_id, track, payment_id, correlation_id=None)
    # the withdrawal's event first, then the enrollment's, late
    assert world["provisioning"].lambda_handler(sqs_event(withdrawn, enrolled), world["ctx"]) == {
        "batchItemFailures": []}
    page = tools_page(world, student)
    assert (page["state"], page["tools"]) == ("revoked", [])
