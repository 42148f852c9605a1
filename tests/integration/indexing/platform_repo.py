"""A small "platform" codebase written by the tests: routes, a domain entity, a workflow service,
API and workflow docs, a SQL migration, a YAML config, a TypeScript client, and a few files that
must never be searched (secrets) or that hold credentials to redact."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

ROUTES = '''
"""HTTP endpoints for learning tracks."""

from fastapi import APIRouter, Depends, HTTPException

from domain.track import Track
from services.enrollment_service import EnrollmentService

router = APIRouter(prefix="/api/v1/tracks", tags=["tracks"])


@router.get("")
async def list_tracks(project_id: str, user=Depends(current_user)) -> list[dict]:
    """List the tracks of a project, newest first."""
    return [t.as_dict() for t in await Track.of_project(project_id)]


@router.post("", status_code=201)
async def create_track(body: dict, user=Depends(current_user)) -> dict:
    """Create a draft track inside a project."""
    return (await Track.create(**body)).as_dict()


@router.post("/{track_id}/enroll", status_code=201)
async def enroll_students(track_id: str, body: dict, user=Depends(current_user)) -> dict:
    """Enroll a list of students into a track."""
    service = EnrollmentService()
    return await service.enroll_many(track_id, body["student_ids"], actor=user)


@router.delete("/{track_id}/instructors/{instructor_id}", status_code=204)
async def remove_instructor(track_id: str, instructor_id: str, user=Depends(current_user)) -> None:
    """Unassign an instructor from a track."""
    track = await Track.get(track_id)
    if track is None:
        raise HTTPException(404, "no such track")
    track.instructors.remove(instructor_id)
'''

TRACK = '''
"""The learning track entity and its business rules."""

from dataclasses import dataclass, field

MAX_INSTRUCTORS = 5
DIFFICULTY_LEVELS = ("beginner", "intermediate", "advanced")


@dataclass
class Track:
    """A learning track: an ordered sequence of courses inside a project."""

    id: str
    project_id: str
    name: str
    difficulty: str = "beginner"
    status: str = "draft"
    instructors: list[str] = field(default_factory=list)
    course_ids: list[str] = field(default_factory=list)
    approved_course_ids: set[str] = field(default_factory=set)

    def can_publish(self) -> bool:
        """A track may go live only when it has at least one course, every course has been
        approved by a reviewer, and at least one instructor is assigned to teach it."""
        if not self.course_ids or not self.instructors:
            return False
        return all(course in self.approved_course_ids for course in self.course_ids)

    def publish(self) -> None:
        if self.status != "draft" or not self.can_publish():
            raise ValueError("only a complete, fully approved draft track can be published")
        self.status = "published"

    def assign_instructor(self, instructor_id: str) -> None:
        """At most MAX_INSTRUCTORS instructors may teach one track."""
        if len(self.instructors) >= MAX_INSTRUCTORS:
            raise ValueError("a track cannot have more than five instructors")
        if instructor_id not in self.instructors:
            self.instructors.append(instructor_id)
'''

ENROLLMENT = '''
"""Enrolling students into tracks: capacity, waitlist, welcome email, progress records."""

import logging

log = logging.getLogger(__name__)


class TrackFullError(Exception):
    """The track has no seat left; the student was put on the waitlist instead."""


class EnrollmentService:
    """The enrollment workflow, step by step."""

    def __init__(self, repo=None, mailer=None, capacity: int = 30) -> None:
        self.repo = repo
        self.mailer = mailer
        self.capacity = capacity

    async def enroll_many(self, track_id: str, student_ids: list[str], actor) -> dict:
        enrolled, waitlisted = [], []
        for student_id in student_ids:
            try:
                await self.enroll(track_id, student_id)
                enrolled.append(student_id)
            except TrackFullError:
                waitlisted.append(student_id)
        return {"enrolled": enrolled, "waitlisted": waitlisted}

    async def enroll(self, track_id: str, student_id: str) -> None:
        """1. check the seat count, 2. create the enrollment, 3. start progress tracking,
        4. send the welcome email."""
        seats_taken = await self.repo.count_enrollments(track_id)
        if seats_taken >= self.capacity:
            await self.repo.add_to_waitlist(track_id, student_id)
            log.info("track %s is full: student %s waitlisted", track_id, student_id)
            raise TrackFullError(track_id)
        await self.repo.create_enrollment(track_id, student_id)
        await self.repo.create_progress(track_id, student_id, percent_complete=0)
        await self.mailer.send_welcome(student_id, track_id)
'''

API_DOC = """
# Tracks API reference

All endpoints need a bearer token of a member of the organization.

## Listing tracks

`GET /api/v1/tracks?project_id=...` answers with a JSON array. Each element carries `id`,
`name`, `difficulty`, `status` and the number of enrolled students, sorted newest first.

## Enrolling students

`POST /api/v1/tracks/{track_id}/enroll` with `{"student_ids": [...]}`. The answer lists who was
enrolled and who was waitlisted because the track was full.
"""

WORKFLOW_DOC = """
# Workflows

## Onboarding a new instructor

1. An organization admin sends an invitation email from the Members page.
2. The instructor accepts the invitation and sets a password.
3. The admin assigns the instructor to one or more tracks (at most five instructors per track).
4. The instructor receives a welcome message with the teaching guide.

## Archiving a project

Archived projects become read-only; their tracks stay visible to enrolled students.
"""

MIGRATION = """
-- 0003: bookable rooms for live sessions
CREATE TYPE room_kind AS ENUM ('lecture_hall', 'computer_lab', 'seminar', 'virtual');

-- Rooms an organization books for live sessions
CREATE TABLE meeting_rooms (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    kind room_kind NOT NULL,
    seats INTEGER NOT NULL CHECK (seats > 0)
);
"""

LIMITS = """
# Quotas and throttling for every organization
limits:
  max_projects_per_org: 25
  max_tracks_per_project: 40
  max_students_per_track: 30

rate_limits:
  login_attempts_per_minute: 5
  api_requests_per_minute: 600

session:
  idle_timeout_minutes: 30
"""

TRACK_CLIENT = """
import axios from 'axios';

/**
 * Browser-side client of the tracks endpoints, used by the React pages.
 */
export const trackClient = {
  list: (projectId: string) => axios.get(`/api/v1/tracks?project_id=${projectId}`),
  enrollLearners: (trackId: string, studentIds: string[]) =>
    axios.post(`/api/v1/tracks/${trackId}/enroll`, { student_ids: studentIds }),
};
"""

FILES: dict[str, str] = {
    "api/routes/tracks.py": ROUTES,
    "domain/track.py": TRACK,
    "services/enrollment_service.py": ENROLLMENT,
    "docs/api.md": API_DOC,
    "docs/workflows.md": WORKFLOW_DOC,
    "migrations/0003_meeting_rooms.sql": MIGRATION,
    "config/limits.yaml": LIMITS,
    "frontend/src/services/trackClient.ts": TRACK_CLIENT,
}

# (question, the file that answers it): worded the way an admin asks, not the way the code reads
QUESTIONS: list[tuple[str, str]] = [
    ("What kinds of rooms can be reserved for live sessions?", "migrations/0003_meeting_rooms.sql"),
    ("How many projects may one organization create at most?", "config/limits.yaml"),
    (
        "What happens to a student who signs up when there are no seats left?",
        "services/enrollment_service.py",
    ),
    ("When is a learning track allowed to go live?", "domain/track.py"),
    ("What are the steps to bring a new teacher on board?", "docs/workflows.md"),
    ("Which HTTP call unassigns a teacher from a track?", "api/routes/tracks.py"),
    ("What fields come back when I list the tracks of a project through the API?", "docs/api.md"),
    ("Which browser code calls the server to sign learners up?", "frontend/src/services/trackClient.ts"),
]

# Values that must never reach the index (the secrets in SECRET_FILES and in REDACTED_FILES).
SECRET_VALUES = [
    "sk-ant-api03-Zx9Kq2Lm8Pn4Rt6Vw1Zx9Kq2Lm8Pn4Rt6Vw1",
    "Xk9#mP2$vL",
    "AKIAIOSFODNN7EXAMPLE",
    "s3cretPass",
    "MIIEpAIBAAKCAQEA1c7",
]
SECRET_FILES: dict[str, str] = {
    ".env": "ANTHROPIC_API_KEY=sk-ant-api03-Zx9Kq2Lm8Pn4Rt6Vw1Zx9Kq2Lm8Pn4Rt6Vw1\n",
    ".env.production": "DB_PASSWORD=Xk9#mP2$vL\n",
    "deploy/id_rsa": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7\n-----END RSA PRIVATE KEY-----\n",
    "deploy/key.pem": "-----BEGIN PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7\n-----END PRIVATE KEY-----\n",
}
REDACTED_FILES: dict[str, str] = {
    "config/database.ini": "[database]\nhost = db.internal\nuser = platform\npassword = Xk9#mP2$vL\n",
    "deploy/settings.py": (
        '"""Deployment settings."""\n\n'
        'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n'
        'DATABASE_URL = "postgresql://platform:s3cretPass@db.internal:5432/platform"\n'
        "SIGNING_KEY = '''\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7\n-----END RSA PRIVATE KEY-----\n'''\n"
    ),
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")


def write_platform(root: Path, with_secrets: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_tree(root, FILES)
    if with_secrets:
        write_tree(root, SECRET_FILES)
        write_tree(root, REDACTED_FILES)
    return root
