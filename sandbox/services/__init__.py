"""The platform's services, organized like the real Course Creator Platform's.

- user_management: login, tokens, the caller's profile, email verification;
- organization_management: organizations, projects, tracks, members and instructor assignment;
- course_management: courses and enrollments;
- analytics: organization and course summaries.
Each service holds its routes (`*routes.py`), its rules (the plain-named modules) and its request
and response schemas (`*schemas.py`); they share models, auth and errors from `sandbox.shared`.
"""
