"""Python chunking: module / class / method / function pieces, enclosing names, routes."""

from __future__ import annotations

from indexing.chunk import Sizer
from indexing.chunkers import pieces_for
from indexing.tokens import TokenCounter

from .helpers import by_symbol, check_invariants, chunk, line_of, src, uncovered

SERVICE = src(
    '''
    """Track service: assigning instructors and publishing tracks."""

    from __future__ import annotations

    import logging
    from dataclasses import dataclass

    log = logging.getLogger(__name__)
    MAX_INSTRUCTORS_PER_TRACK = 5


    class TrackService:
        """Business rules for learning tracks inside a project."""

        def __init__(self, repository, notifier) -> None:
            self.repository = repository
            self.notifier = notifier

        # An instructor may teach at most MAX_INSTRUCTORS_PER_TRACK tracks; organization
        # admins bypass the limit when they assign themselves.
        def assign(self, track_id: str, instructor_id: str, actor_role: str) -> None:
            """Assign an instructor to a track after checking the per-track limit."""
            track = self.repository.get_track(track_id)
            if track is None:
                raise LookupError(f"track {track_id} does not exist")
            current = self.repository.instructors_of(track_id)
            if len(current) >= MAX_INSTRUCTORS_PER_TRACK and actor_role != "org_admin":
                raise PermissionError("this track already has the maximum number of instructors")
            if instructor_id in current:
                log.info("instructor %s already assigned to %s", instructor_id, track_id)
                return
            self.repository.add_instructor(track_id, instructor_id)
            self.notifier.send(instructor_id, f"You now teach {track.name}")

        @staticmethod
        def can_publish(track, courses: list, approvals: dict[str, bool]) -> bool:
            """A track can be published once every one of its courses has been approved."""
            if not courses:
                return False
            missing = [course.id for course in courses if not approvals.get(course.id, False)]
            if missing:
                log.warning("track %s waits for approval of %s", track.id, ", ".join(missing))
                return False
            return track.status in ("draft", "review") and track.owner_id is not None


    def publish_track(service: TrackService, track, courses, approvals) -> str:
        """Publish a track: every course approved, then the status moves to published."""
        if not service.can_publish(track, courses, approvals):
            raise ValueError("the track cannot be published until every course is approved")
        track.status = "published"
        service.repository.save(track)
        service.notifier.broadcast(track.project_id, f"Track {track.name} is now published")
        log.info("published track %s in project %s", track.id, track.project_id)
        return track.status
    '''
)

ROUTES = src(
    '''
    """Track endpoints."""

    from fastapi import APIRouter, Depends

    router = APIRouter(prefix="/api/v1/tracks", tags=["tracks"])


    @router.get("/{id}")
    async def get_track(id: str) -> dict:
        return {"id": id}


    # Enrolling is idempotent: students already in the track are skipped.
    @router.post("/{id}/enroll", status_code=201)
    @requires_role("org_admin", "instructor")
    async def enroll_students(id: str, body: dict, user=Depends(current_user)) -> dict:
        """Enroll students into a track."""
        return {"enrolled": body["student_ids"]}


    @router.api_route("/{id}/archive", methods=["PUT", "PATCH"])
    def archive_track(id: str) -> None:
        pass


    def helper_not_a_route() -> int:
        return 1
    '''
)

FLASK = src(
    """
    from flask import Blueprint, Flask

    app = Flask(__name__)
    bp = Blueprint("orgs", __name__, url_prefix="/orgs")


    @app.route("/login", methods=["GET", "POST"])
    def login():
        return "form"


    @app.route("/health")
    def health():
        return "ok"


    @bp.route("/<org_id>/members", methods=["DELETE"])
    def remove_member(org_id):
        return "", 204
    """
)


def test_service_file_splits_into_module_class_method_and_function(
    sizer: Sizer, counter: TokenCounter
) -> None:
    chunks = chunk("services/tracks.py", "python", SERVICE, sizer)
    check_invariants(chunks, SERVICE, "services/tracks.py", "python", counter)
    got = by_symbol(chunks)
    assert [c.symbol for c in chunks] == [
        "",
        "TrackService, TrackService.__init__",
        "TrackService.assign",
        "TrackService.can_publish",
        "publish_track",
    ]
    assert got[""].unit == "module"
    assert (got[""].start_line, got[""].end_line) == (1, line_of(SERVICE, "MAX_INSTRUCTORS_PER_TRACK = 5"))
    # the class header (docstring) and the small __init__ after it form one chunk
    header = got["TrackService, TrackService.__init__"]
    assert header.unit == "group"
    assert header.start_line == line_of(SERVICE, "class TrackService:")
    assert "self.notifier = notifier" in header.text
    assert got["TrackService.assign"].unit == "method"
    assert got["TrackService.can_publish"].unit == "method"
    assert got["publish_track"].unit == "function"
    assert got["publish_track"].end_line == len(SERVICE.splitlines())
    assert got["TrackService.assign"].metadata["doc"] == (
        "Assign an instructor to a track after checking the per-track limit."
    )


def test_comments_and_decorators_above_a_def_stay_with_it(sizer: Sizer) -> None:
    got = by_symbol(chunk("services/tracks.py", "python", SERVICE, sizer))
    assign = got["TrackService.assign"]
    assert assign.start_line == line_of(SERVICE, "# An instructor may teach at most")
    assert assign.text.splitlines()[0].strip().startswith("# An instructor may teach")
    assert "def assign(" in assign.text
    can_publish = got["TrackService.can_publish"]
    assert can_publish.start_line == line_of(SERVICE, "@staticmethod")
    # the comment belongs to assign, not to the class header before it
    assert "# An instructor" not in got["TrackService, TrackService.__init__"].text


def test_fastapi_routes_carry_method_and_prefixed_path(sizer: Sizer, counter: TokenCounter) -> None:
    chunks = chunk("api/routes/tracks.py", "python", ROUTES, sizer)
    check_invariants(chunks, ROUTES, "api/routes/tracks.py", "python", counter)
    routes = {c.symbol: c for c in chunks if c.unit == "route"}
    assert sorted(routes) == ["archive_track", "enroll_students", "get_track"]
    enroll = routes["enroll_students"]
    assert enroll.metadata["route"] == "POST /api/v1/tracks/{id}/enroll"
    assert enroll.metadata["http_method"] == "POST"
    assert enroll.metadata["doc"] == "Enroll students into a track."
    # both decorators and the comment above them are part of the route's chunk
    assert enroll.start_line == line_of(ROUTES, "# Enrolling is idempotent")
    assert '@requires_role("org_admin", "instructor")' in enroll.text
    assert enroll.header == "api/routes/tracks.py :: enroll_students :: [POST /api/v1/tracks/{id}/enroll]"
    assert routes["get_track"].metadata["route"] == "GET /api/v1/tracks/{id}"
    assert routes["archive_track"].metadata["route"] == "PUT|PATCH /api/v1/tracks/{id}/archive"
    # route handlers are never merged with neighbours, even when tiny
    assert routes["get_track"].text.count("def ") == 1
    helper = next(c for c in chunks if "helper_not_a_route" in c.symbol)
    assert helper.unit in ("function", "group")
    assert "route" not in helper.metadata


def test_an_empty_route_path_is_the_prefix_itself(sizer: Sizer) -> None:
    text = src(
        """
        from fastapi import APIRouter

        router = APIRouter(prefix="/api/v1/tracks")


        @router.get("")
        def list_tracks():
            return []


        @router.post("/")
        def create_track():
            return {}
        """
    )
    routes = [c.metadata["route"] for c in chunk("r.py", "python", text, sizer) if c.unit == "route"]
    assert routes == ["GET /api/v1/tracks", "POST /api/v1/tracks/"]


def test_flask_routes_with_methods_and_blueprint_prefix(sizer: Sizer) -> None:
    chunks = chunk("web/app.py", "python", FLASK, sizer)
    routes = {c.symbol: c.metadata for c in chunks if c.unit == "route"}
    assert routes["login"]["route"] == "GET|POST /login"
    assert routes["login"]["http_method"] == "GET|POST"
    assert routes["health"]["route"] == "GET /health"
    assert routes["remove_member"]["route"] == "DELETE /orgs/<org_id>/members"


def test_nested_class_methods_keep_every_enclosing_name() -> None:
    text = src(
        """
        class Outer:
            class Inner:
                def deep(self):
                    return 1

            def shallow(self):
                return 2
        """
    )
    pieces = pieces_for("python", text, text.splitlines())
    assert [(p.unit, p.symbol) for p in pieces] == [
        ("class", "Outer"),
        ("class", "Outer.Inner"),
        ("method", "Outer.Inner.deep"),
        ("method", "Outer.shallow"),
    ]


def test_small_methods_of_one_class_merge_but_not_with_the_next_class(sizer: Sizer) -> None:
    text = src(
        """
        class A:
            def one(self):
                return 1

            def two(self):
                return 2


        class B:
            def three(self):
                return 3
        """
    )
    chunks = chunk("m.py", "python", text, sizer)
    assert [(c.unit, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("group", "A, A.one, A.two", 1, 6),
        ("group", "B, B.three", 9, 11),
    ]


def test_syntax_error_falls_back_to_line_windows(sizer: Sizer, counter: TokenCounter) -> None:
    text = "def broken(:\n    return 1\n\n\nclass Fine:\n    pass\n"
    assert pieces_for("python", text, text.splitlines())[0].unit == "lines"
    chunks = chunk("broken.py", "python", text, sizer)
    check_invariants(chunks, text, "broken.py", "python", counter)
    assert [(c.unit, c.symbol, c.start_line, c.end_line) for c in chunks] == [("lines", "", 1, 6)]


def test_ids_are_stable_and_content_hash_follows_the_text(sizer: Sizer) -> None:
    first = chunk("services/tracks.py", "python", SERVICE, sizer)
    again = chunk("services/tracks.py", "python", SERVICE, sizer)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    # editing the last function changes only its own chunk's hash and id
    edited = SERVICE.replace("return track.status\n", "return str(track.status)\n")
    assert edited != SERVICE
    after = chunk("services/tracks.py", "python", edited, sizer)
    assert [c.id for c in after[:-1]] == [c.id for c in first[:-1]]
    assert after[-1].id != first[-1].id
    assert after[-1].content_hash != first[-1].content_hash
    # the same text under another path is another chunk
    moved = chunk("services/other.py", "python", SERVICE, sizer)
    assert moved[0].content_hash == first[0].content_hash
    assert moved[0].id != first[0].id


def test_test_files_are_flagged(sizer: Sizer) -> None:
    chunks = chunk("tests/test_tracks.py", "python", "def test_x():\n    assert True\n", sizer)
    assert all(c.metadata.get("test") is True for c in chunks)
    assert not any(c.metadata.get("test") for c in chunk("services/x.py", "python", "x = 1\n", sizer))


def _long_body(subject: str, indent: str) -> str:
    return "\n".join(
        f"{indent}if {subject}.startswith('prefix_{i}') and len({subject}) > {i}:\n"
        f"{indent}    raise ValueError('the name may not start with prefix_{i} when longer than {i}')"
        for i in range(6)
    )


MODELS = f'''# Copyright 2026 Course Creator
# SPDX-License-Identifier: MIT

"""Request models for tracks."""

from pydantic import BaseModel, field_validator


class TrackCreate(BaseModel):
    """What an admin sends to create a track."""

    name: str

    # Names are shown in certificates: reserved prefixes are refused.
    @field_validator("name")
    @classmethod
    def check_name(cls, value: str) -> str:
        """Reject reserved prefixes."""
{_long_body("value", "        ")}
        return value

    difficulty: str = "beginner"
    max_students: int = 30  # seats per track

    def describe(self) -> str:
        """A one-line description."""
{_long_body("self.name", "        ")}
        return self.name


# ---- Enrollment limits ----
# Students may enroll in at most 3 tracks at a time.

def can_enroll(student) -> bool:
    """True while the student is under the limit."""
{_long_body("student.name", "    ")}
    return len(student.tracks) < 3

# trailing note: waitlists are purged nightly
'''


def test_no_line_of_a_python_file_is_left_out(sizer: Sizer, counter: TokenCounter) -> None:
    chunks = chunk("api/models.py", "python", MODELS, sizer)
    check_invariants(chunks, MODELS, "api/models.py", "python", counter)
    assert uncovered(chunks, MODELS) == []
    for text in (SERVICE, ROUTES, FLASK):
        assert uncovered(chunk("m.py", "python", text, sizer), text) == []


def test_fields_declared_after_a_method_belong_to_the_class(sizer: Sizer) -> None:
    chunks = chunk("api/models.py", "python", MODELS, sizer)
    holder = next(c for c in chunks if "max_students: int = 30" in c.text)
    assert holder.symbol.split(", ")[0] == "TrackCreate"
    assert 'difficulty: str = "beginner"' in holder.text


def test_comments_across_a_blank_line_and_around_the_file_are_kept(sizer: Sizer) -> None:
    chunks = chunk("api/models.py", "python", MODELS, sizer)
    can_enroll = [c for c in chunks if c.symbol == "can_enroll"]
    assert can_enroll[0].start_line == line_of(MODELS, "# ---- Enrollment limits ----")
    assert can_enroll[-1].end_line == line_of(MODELS, "# trailing note")
    assert chunks[0].start_line == 1 and chunks[0].text.startswith("# Copyright 2026")
    # the comment above the first method is the method's, not the class header's
    check_name = next(c for c in chunks if c.symbol == "TrackCreate.check_name")
    assert check_name.start_line == line_of(MODELS, "# Names are shown in certificates")
    header = next(c for c in chunks if c.symbol.startswith("TrackCreate") and "class TrackCreate" in c.text)
    assert "# Names are shown" not in header.text


def test_line_numbers_count_only_real_line_breaks(sizer: Sizer) -> None:
    """A form feed (a page break in old code) or a U+2028 inside a string is not a new line for
    Python or for an editor, so it must not shift the cited line numbers."""
    text = 'NOTE = "a\u2028b"\n\x0c\ndef f():\n    return NOTE\n'
    chunks = chunk("m.py", "python", text, sizer)
    f = next(c for c in chunks if c.symbol == "f" or "f" in c.symbol.split(", "))
    assert f.end_line == 4
    assert f.text.endswith("def f():\n    return NOTE")
    assert text.split("\n")[f.end_line - 1] == "    return NOTE"
    crlf = SERVICE.replace("\n", "\r\n")
    assert [(c.symbol, c.start_line, c.end_line) for c in chunk("s.py", "python", crlf, sizer)] == [
        (c.symbol, c.start_line, c.end_line) for c in chunk("s.py", "python", SERVICE, sizer)
    ]
