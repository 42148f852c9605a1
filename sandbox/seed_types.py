"""The shapes of the demo data in `seed_data.py`: people, organizations, projects, tracks, courses.

Plain frozen dataclasses, so the demo world reads as a description and cannot be changed by
accident while `seed.py` turns it into rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class SeedUser:
    """A person; `pending` for invited users who have not verified their email yet."""

    full_name: str
    email: str
    role: str
    password: str | None
    pending: bool = False
    project_slugs: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedCourse:
    title: str
    description: str
    category: str
    estimated_duration: int
    published: bool
    price: float = 0.0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedTrack:
    name: str
    difficulty_level: str
    description: str
    published: bool
    duration_weeks: int
    max_students: int
    instructors: tuple[str, ...] = ()
    students: tuple[str, ...] = ()
    learning_objectives: tuple[str, ...] = ()
    courses: tuple[SeedCourse, ...] = ()


@dataclass(frozen=True)
class SeedProject:
    name: str
    slug: str
    description: str
    published: bool
    duration_weeks: int
    max_participants: int
    start_date: date
    end_date: date
    target_roles: tuple[str, ...]
    tracks: tuple[SeedTrack, ...] = ()


@dataclass(frozen=True)
class SeedOrganization:
    name: str
    slug: str
    description: str
    contact_email: str
    website: str
    users: tuple[SeedUser, ...]
    projects: tuple[SeedProject, ...] = field(default_factory=tuple)
