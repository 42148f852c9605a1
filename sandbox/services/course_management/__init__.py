"""Course management: courses (create, edit, publish) and enrollments of students in courses."""
