"""The demo data loaded into an empty sandbox: two organizations and a site admin.

Declared as plain data so it reads like a description of the demo world; `seed.py` turns it into
rows. Names, emails and ids are fixed (ids are UUID5 of the names), so every reseed gives the
same world and ids in docs and demos stay valid.

Northwind Academy: "Data Science Foundations" and "Web Development Bootcamp" (active) and
"Cloud Engineering Pathway" (draft, empty); tracks at every level, published and draft courses
(one without a description, so it cannot be published yet), two admins, two verified instructors
and one who has not verified their email, eight students with enrollments.
Brightpath Institute: "Cybersecurity Essentials" and "Product Management Launchpad", one admin,
one verified and one unverified instructor, four students.
"""

from __future__ import annotations

from datetime import date

from sandbox.seed_types import SeedCourse, SeedOrganization, SeedProject, SeedTrack, SeedUser

SITE_ADMIN_PASSWORD = "SiteAdmin#2024"
ORG_ADMIN_PASSWORD = "OrgAdmin#2024"
INSTRUCTOR_PASSWORD = "Instructor#2024"
STUDENT_PASSWORD = "Student#2024"


SITE_ADMIN = SeedUser("Sam Rivera", "site.admin@coursecreator.example", "site_admin", SITE_ADMIN_PASSWORD)


def _students(domain: str, names: tuple[str, ...]) -> tuple[SeedUser, ...]:
    return tuple(
        SeedUser(name, f"{name.lower().replace(' ', '.')}@{domain}", "student", STUDENT_PASSWORD)
        for name in names
    )


NW = "northwind-academy.example"
NORTHWIND = SeedOrganization(
    name="Northwind Academy",
    slug="northwind-academy",
    description="Career-change academy running cohort-based data and web programs.",
    contact_email=f"hello@{NW}",
    website=f"https://{NW}",
    users=(
        SeedUser("Maya Patel", f"maya.patel@{NW}", "organization_admin", ORG_ADMIN_PASSWORD),
        SeedUser("Jonas Weber", f"jonas.weber@{NW}", "organization_admin", ORG_ADMIN_PASSWORD),
        SeedUser("Daniel Kim", f"daniel.kim@{NW}", "instructor", INSTRUCTOR_PASSWORD),
        SeedUser("Sofia Alvarez", f"sofia.alvarez@{NW}", "instructor", INSTRUCTOR_PASSWORD),
        SeedUser(
            "Liam O'Connor",
            f"liam.oconnor@{NW}",
            "instructor",
            None,
            pending=True,
            project_slugs=("data-science-foundations",),
        ),
        *_students(
            NW,
            (
                "Aisha Rahman",
                "Ben Carter",
                "Chloe Dubois",
                "Diego Santos",
                "Emma Johansson",
                "Farah Haddad",
                "George Miller",
                "Hana Sato",
            ),
        ),
    ),
    projects=(
        SeedProject(
            name="Data Science Foundations",
            slug="data-science-foundations",
            description="A 24-week program taking career changers from spreadsheets to machine learning.",
            published=True,
            duration_weeks=24,
            max_participants=120,
            start_date=date(2025, 1, 13),
            end_date=date(2025, 6, 27),
            target_roles=("Data Analyst", "Junior Data Scientist"),
            tracks=(
                SeedTrack(
                    "Python for Data Analysis",
                    "beginner",
                    "Python, notebooks and pandas for people who have never programmed.",
                    True,
                    8,
                    40,
                    instructors=(f"daniel.kim@{NW}",),
                    students=(
                        f"aisha.rahman@{NW}",
                        f"ben.carter@{NW}",
                        f"chloe.dubois@{NW}",
                        f"diego.santos@{NW}",
                    ),
                    learning_objectives=("Write Python scripts", "Clean and reshape data with pandas"),
                    courses=(
                        SeedCourse(
                            "Python Basics for Analysts",
                            "Variables, control flow, functions and notebooks, with analyst-style exercises.",
                            "Programming",
                            3,
                            True,
                            tags=("python", "beginner"),
                        ),
                        SeedCourse(
                            "Data Wrangling with pandas",
                            "Loading, cleaning, joining and reshaping tabular data with pandas.",
                            "Data Analysis",
                            4,
                            True,
                            tags=("pandas", "data-cleaning"),
                        ),
                    ),
                ),
                SeedTrack(
                    "Applied Machine Learning",
                    "intermediate",
                    "Supervised learning with scikit-learn, from features to evaluation.",
                    True,
                    10,
                    30,
                    instructors=(f"daniel.kim@{NW}",),
                    students=(f"aisha.rahman@{NW}", f"emma.johansson@{NW}"),
                    learning_objectives=("Train and compare models", "Avoid leakage and overfitting"),
                    courses=(
                        SeedCourse(
                            "Supervised Learning in Practice",
                            "Regression and classification with scikit-learn pipelines.",
                            "Machine Learning",
                            5,
                            True,
                            price=149.0,
                            tags=("scikit-learn",),
                        ),
                        SeedCourse("Model Evaluation and Tuning", "", "Machine Learning", 3, False),
                    ),
                ),
                SeedTrack(
                    "Deep Learning Systems",
                    "advanced",
                    "Neural networks, training at scale and serving models.",
                    False,
                    12,
                    20,
                    courses=(
                        SeedCourse(
                            "Neural Networks from Scratch",
                            "Backpropagation, optimizers and regularization, implemented by hand.",
                            "Machine Learning",
                            4,
                            False,
                        ),
                    ),
                ),
            ),
        ),
        SeedProject(
            name="Web Development Bootcamp",
            slug="web-development-bootcamp",
            description="A 16-week full-stack bootcamp: HTML and CSS to deployed JavaScript applications.",
            published=True,
            duration_weeks=16,
            max_participants=80,
            start_date=date(2025, 2, 3),
            end_date=date(2025, 5, 23),
            target_roles=("Frontend Developer", "Full-Stack Developer"),
            tracks=(
                SeedTrack(
                    "Frontend Fundamentals",
                    "beginner",
                    "Semantic HTML, modern CSS and JavaScript in the browser.",
                    True,
                    6,
                    50,
                    instructors=(f"sofia.alvarez@{NW}",),
                    students=(
                        f"farah.haddad@{NW}",
                        f"george.miller@{NW}",
                        f"hana.sato@{NW}",
                        f"ben.carter@{NW}",
                    ),
                    learning_objectives=("Build accessible pages", "Manipulate the DOM"),
                    courses=(
                        SeedCourse(
                            "HTML and CSS Essentials",
                            "Layout, flexbox, grid and accessibility basics.",
                            "Web",
                            2,
                            True,
                        ),
                        SeedCourse(
                            "JavaScript for the Browser",
                            "Events, the DOM, fetch and modules.",
                            "Web",
                            3,
                            True,
                        ),
                    ),
                ),
                SeedTrack(
                    "Full-Stack JavaScript",
                    "intermediate",
                    "Node.js services, REST APIs and a React front end.",
                    True,
                    8,
                    35,
                    instructors=(f"sofia.alvarez@{NW}",),
                    students=(f"george.miller@{NW}",),
                    courses=(
                        SeedCourse(
                            "Node.js and Express APIs",
                            "Routing, validation, persistence and tests.",
                            "Web",
                            4,
                            True,
                        ),
                    ),
                ),
                SeedTrack(
                    "Scalable Web Architecture",
                    "advanced",
                    "Caching, queues, observability and deployment of web systems.",
                    False,
                    8,
                    25,
                ),
            ),
        ),
        SeedProject(
            name="Cloud Engineering Pathway",
            slug="cloud-engineering-pathway",
            description="Planned program on cloud infrastructure, containers and automation.",
            published=False,
            duration_weeks=20,
            max_participants=60,
            start_date=date(2025, 9, 1),
            end_date=date(2026, 1, 16),
            target_roles=("Cloud Engineer",),
        ),
    ),
)

BP = "brightpath.example"
BRIGHTPATH = SeedOrganization(
    name="Brightpath Institute",
    slug="brightpath-institute",
    description="Professional training institute for security and product teams.",
    contact_email=f"info@{BP}",
    website=f"https://{BP}",
    users=(
        SeedUser("Grace Okafor", f"grace.okafor@{BP}", "organization_admin", ORG_ADMIN_PASSWORD),
        SeedUser("Ethan Brooks", f"ethan.brooks@{BP}", "instructor", INSTRUCTOR_PASSWORD),
        SeedUser(
            "Nora Lindqvist",
            f"nora.lindqvist@{BP}",
            "instructor",
            None,
            pending=True,
        ),
        *_students(BP, ("Ivan Petrov", "Julia Costa", "Kwame Mensah", "Lucia Romero")),
    ),
    projects=(
        SeedProject(
            name="Cybersecurity Essentials",
            slug="cybersecurity-essentials",
            description="Security awareness and defensive fundamentals for IT staff.",
            published=True,
            duration_weeks=12,
            max_participants=60,
            start_date=date(2025, 3, 3),
            end_date=date(2025, 5, 23),
            target_roles=("IT Administrator", "Security Analyst"),
            tracks=(
                SeedTrack(
                    "Security Fundamentals",
                    "beginner",
                    "Threat models, common attacks and everyday defenses.",
                    True,
                    6,
                    40,
                    instructors=(f"ethan.brooks@{BP}",),
                    students=(f"ivan.petrov@{BP}", f"julia.costa@{BP}", f"kwame.mensah@{BP}"),
                    courses=(
                        SeedCourse(
                            "Threats and Defenses 101",
                            "Phishing, malware and how to stop them.",
                            "Security",
                            2,
                            True,
                        ),
                        SeedCourse(
                            "Network Security Basics",
                            "Firewalls, segmentation and monitoring.",
                            "Security",
                            3,
                            True,
                        ),
                    ),
                ),
                SeedTrack(
                    "Incident Response",
                    "intermediate",
                    "Detecting, containing and learning from security incidents.",
                    False,
                    6,
                    25,
                    courses=(
                        SeedCourse(
                            "Handling Security Incidents",
                            "Playbooks, forensics and post-mortems.",
                            "Security",
                            3,
                            False,
                        ),
                    ),
                ),
            ),
        ),
        SeedProject(
            name="Product Management Launchpad",
            slug="product-management-launchpad",
            description="From idea to roadmap: product discovery and delivery for new PMs.",
            published=True,
            duration_weeks=10,
            max_participants=40,
            start_date=date(2025, 4, 7),
            end_date=date(2025, 6, 13),
            target_roles=("Associate Product Manager",),
            tracks=(
                SeedTrack(
                    "Product Discovery",
                    "beginner",
                    "Finding problems worth solving and testing ideas cheaply.",
                    True,
                    5,
                    30,
                    students=(f"lucia.romero@{BP}",),
                    courses=(
                        SeedCourse(
                            "Customer Interviews that Work",
                            "Planning, running and synthesizing interviews.",
                            "Product",
                            2,
                            True,
                        ),
                    ),
                ),
            ),
        ),
    ),
)

ORGANIZATIONS = (NORTHWIND, BRIGHTPATH)
