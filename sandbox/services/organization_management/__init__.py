"""Organization management: organizations, projects, tracks, members and track instructors.

The hierarchy is organization -> project -> track -> course (courses live in course_management).
Everything is scoped to the caller's organization; site admins reach every organization.
"""
