"""Project progress through the learning function: a student submits, a teacher or admin completes, the next
project unlocks once (a conditional write), with an audit entry per change and ``track.project.unlocked`` on
the bus."""

from __future__ import annotations

import json
import uuid

import pytest

from coursepay.billing.enrollments import Enrollment, EnrollmentsRepository
from coursepay.errors import ConditionFailed
from coursepay.tracks.catalogue import TracksRepository
from coursepay.tracks.progress import ProgressRepository, initial_progress
from coursepay.tracks.seed import seed_tracks
from tests.support.tracks import call, drain, new_student, sent_emails

SUBMIT = "/me/tracks/{trackId}/projects/{projectId}/submit"
COMPLETE = "/tracks/{trackId}/students/{userId}/projects/{projectId}/complete"


@pytest.fixture
def learning(aws, load_function):
    seed_tracks(aws.name("CoursesTable"), aws.name("AuditTable"))
    return load_function("LearningFunction", "learning")


def enrolled(aws, name="Sam", track_id="DP", status="active"):
    student = new_student(aws, name)
    EnrollmentsRepository(aws.name("EnrollmentsTable")).save(Enrollment(
        user_id=student.user_id, kind="track", item_id=track_id, source=f"pi_{uuid.uuid4().hex[:10]}",
        status=status))
    track = TracksRepository(aws.name("CoursesTable")).get(track_id)
    ProgressRepository(aws.name("EnrollmentsTable")).create(initial_progress(student.user_id, track))
    return student


def submit(learning, ctx, who, project="DP-P1", body=None, track="DP"):
    return call(learning, ctx, "POST", f"/me/tracks/{track}/projects/{project}/submit", route=SUBMIT, who=who,
                body=body if body is not None else {"submission_url": "https://github.com/nora/sales-mart"})


def complete(learning, ctx, who, student_id, project="DP-P1", body=None, track="DP"):
    return call(learning, ctx, "POST", f"/tracks/{track}/students/{student_id}/projects/{project}/complete",
                route=COMPLETE, who=who, body=body or {})


def audit(aws, user_id, track="DP"):
    items = aws.table("AuditTable").query(KeyConditionExpression="pk = :p",
                                          ExpressionAttributeValues={":p": f"enrollment#{user_id}#track#{track}"})
    return [item["action"] for item in items["Items"]]


def test_completing_project_one_unlocks_project_two_once_with_an_event(aws, learning, lambda_context, load_function):
    student = enrolled(aws, "Nora")
    teacher = new_student(aws, "Tess", "teachers")

    # only a submitted project can be completed
    status, body = complete(learning, lambda_context, teacher, student.user_id)
    assert (status, body["error"]["code"], body["error"]["field"]) == (409, "project_unlocked", "projectId")

    status, body = submit(learning, lambda_context, student)
    assert status == 200, body
    assert (body["project"]["state"], body["project"]["submission_url"]) == ("submitted",
                                                                             "https://github.com/nora/sales-mart")
    status, body = complete(learning, lambda_context, teacher, student.user_id, body={"feedback": "Clean model."})
    assert status == 200, body
    assert (body["project"]["state"], body["project"]["completed_by"]) == ("completed", f"user:{teacher.user_id}")
    assert {step["state"] for step in body["project"]["steps"]} == {"completed"}
    assert (body["unlocked"]["project_id"], body["unlocked"]["state"]) == ("DP-P2", "unlocked")
    assert {step["state"] for step in body["unlocked"]["steps"]} == {"unlocked"}
    assert body["projects"][2]["state"] == "locked"

    # the bus carried track.project.unlocked to the notifications consumer
    [record] = [r for r in drain(aws, "NotificationsQueue")
                if json.loads(r["body"])["detail-type"] == "track.project.unlocked"]
    event = json.loads(record["body"])["detail"]
    assert event["id"] == f"ev_track_project_unlocked_{student.user_id}_DP_DP-P2"
    assert (event["source"], event["version"]) == ("coursepay.enrollment", "1")
    assert {k: event["data"][k] for k in ("user_id", "track_id", "completed_project_id", "project_id")} == {
        "user_id": student.user_id, "track_id": "DP", "completed_project_id": "DP-P1", "project_id": "DP-P2"}

    # ... whose handler e-mails the student
    aws.client("ses").verify_email_identity(EmailAddress="no-reply@example.com")
    notifications = load_function("NotificationsFunction", "notifications")
    assert notifications.lambda_handler({"Records": [record]}, lambda_context) == {"batchItemFailures": []}
    [mail] = [m for m in sent_emails() if m["to"] == [student.email]]
    assert mail["subject"] == "Pipelines with Prefect is unlocked"
    assert '"SQL foundations: a sales data mart" is marked completed' in mail["body"]
    learning = load_function("LearningFunction", "learning")

    # completing again changes nothing; the event goes out again under the same id (consumers act once)
    status, again = complete(learning, lambda_context, teacher, student.user_id)
    assert (status, again["project"]["completed_at"]) == (200, body["project"]["completed_at"])
    assert [json.loads(r["body"])["detail"]["id"] for r in drain(aws, "NotificationsQueue")] == [event["id"]]
    assert audit(aws, student.user_id) == ["progress.project_submitted", "progress.project_completed",
                                           "progress.project_unlocked"]

    # the student sees it on GET /me/tracks' progress (the same item)
    progress = ProgressRepository(aws.name("EnrollmentsTable")).get(student.user_id, "DP", consistent=True)
    assert [p.state for p in progress.projects] == ["completed", "unlocked", "locked"]


def test_who_may_act(aws, learning, lambda_context):
    student, classmate = enrolled(aws, "Nora"), enrolled(aws, "Omar")
    admin = new_student(aws, "Ada", "admins")
    submit(learning, lambda_context, student)

    # a student cannot complete anyone's project, their own included
    assert complete(learning, lambda_context, classmate, student.user_id)[0] == 403
    assert complete(learning, lambda_context, student, student.user_id)[0] == 403
    # a student submits only in their own enrollment: another track is a 404
    status, body = submit(learning, lambda_context, student, project="FSD-P1", track="FSD")
    assert (status, body["error"]["field"]) == (404, "trackId")
    # an admin completes; an unknown student or project is a 404 naming it
    status, body = complete(learning, lambda_context, admin, "no-such-user")
    assert (status, body["error"]["field"]) == (404, "userId")
    status, body = complete(learning, lambda_context, admin, student.user_id, project="DP-P9")
    assert (status, body["error"]["field"]) == (404, "projectId")
    assert complete(learning, lambda_context, admin, student.user_id)[0] == 200
    # a locked project cannot be submitted
    status, body = submit(learning, lambda_context, classmate, project="DP-P2")
    assert (status, body["error"]["code"]) == (409, "project_locked")
    # and nobody signed in is a 401
    assert call(learning, lambda_context, "POST", "/me/tracks/DP/projects/DP-P1/submit", route=SUBMIT, who=None,
                body={})[0] == 401


def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(aws, learning, lambda_context):
    student = enrolled(aws)
    teacher = new_student(aws, "Tess", "teachers")
    for body, field in (({"submission_url": "ftp://x.example/y"}, "submission_url"),
                        ({"note": ""}, "note"), ({"grade": "A"}, "grade")):
        status, answer = submit(learning, lambda_context, student, body=body)
        assert (status, answer["error"]["field"]) == (400, field)
    submit(learning, lambda_context, student, body={})
    status, answer = complete(learning, lambda_context, teacher, student.user_id, body={"feedback": "x" * 2001})
    assert (status, answer["error"]["field"]) == (400, "feedback")
    progress = ProgressRepository(aws.name("EnrollmentsTable")).get(student.user_id, "DP", consistent=True)
    assert progress.projects[0].state == "submitted"
    assert audit(aws, student.user_id) == ["progress.project_submitted"]


def test_a_withdrawn_enrollment_cannot_progress(aws, learning, lambda_context):
    student = enrolled(aws, status="withdrawn")
    status, body = submit(learning, lambda_context, student)
    assert (status, body["error"]["code"]) == (409, "enrollment_inactive")


def test_concurrent_writes_cannot_lose_one_another(aws, learning):
    repository = ProgressRepository(aws.name("EnrollmentsTable"))
    student = enrolled(aws)
    read_once = repository.get(student.user_id, "DP", consistent=True)
    repository.replace(read_once.submitted("DP-P1", url=None, note="first"))
    with pytest.raises(ConditionFailed):  # a second writer that read the same version loses
        repository.replace(read_once.submitted("DP-P1", url=None, note="second"))
    assert repository.get(student.user_id, "DP", consistent=True).projects[0].submission_note == "first"
