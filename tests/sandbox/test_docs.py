"""The docs say what the code does: endpoints, permissions, rule names, settings, limits."""

from __future__ import annotations

import re
from pathlib import Path

import pathspec

from sandbox.seed import DEMO_LOGINS
from sandbox.settings import DEFAULT_PLATFORM_CONFIG, SANDBOX_DIR, settings_markdown
from sandbox.shared.config import PlatformConfig, load_platform_config
from sandbox.shared.enums import Role
from sandbox.shared.permissions import ROLE_PERMISSIONS
from tests.sandbox.helpers import Api

DOCS = SANDBOX_DIR / "docs"
CODE = [p for p in SANDBOX_DIR.rglob("*.py") if "__pycache__" not in p.parts]


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def code_text(exclude: Path | None = None) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in CODE if p != exclude)


def test_api_documentation_and_openapi_list_the_same_endpoints(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    served = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    documented = set(
        re.findall(r"^### (GET|POST|PUT|DELETE|PATCH) (/api/v1/\S*)$", read("API_DOCUMENTATION.md"), re.M)
    )
    assert served - documented == set(), "endpoints missing from API_DOCUMENTATION.md"
    assert documented - served == set(), "documented endpoints that do not exist"


def test_rbac_documentation_lists_each_roles_permissions() -> None:
    text = read("RBAC_DOCUMENTATION.md")
    sections = dict(re.findall(r"^### (\w+)\n(.*?)(?=^##)", text, re.M | re.S))
    for role in Role:
        documented = set(re.findall(r"`([a-z_]+)`", sections[role.value]))
        assert documented == {str(p) for p in ROLE_PERMISSIONS[role]}, role


def test_every_rule_in_the_code_is_documented_and_every_documented_rule_exists() -> None:
    text = read("BUSINESS_RULES.md")
    table = text[text.index("## Rule names") :]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    code = code_text()
    raised = set(re.findall(r'rule="([a-z_]+)"', code))
    assert raised - documented == set(), "rules raised by the code but missing from BUSINESS_RULES.md"
    missing = {rule for rule in documented if f'"{rule}"' not in code}
    assert missing == set(), "rules in BUSINESS_RULES.md that the code never uses"


def test_every_platform_limit_is_read_by_the_code() -> None:
    config = load_platform_config(DEFAULT_PLATFORM_CONFIG)
    assert config == PlatformConfig.model_validate(config.model_dump())
    code = code_text(exclude=SANDBOX_DIR / "shared" / "config.py")
    for section, model in PlatformConfig.model_fields.items():
        assert model.annotation is not None
        for key in model.annotation.model_fields:  # type: ignore[union-attr]
            assert re.search(rf"\.{section}\b", code) and re.search(rf"\.{key}\b", code), (
                f"{section}.{key} unread"
            )


def test_readme_lists_settings_demo_logins_and_docs() -> None:
    readme = (SANDBOX_DIR / "README.md").read_text(encoding="utf-8")
    assert settings_markdown() in readme
    for logins in DEMO_LOGINS.values():
        for email, password in logins.values():
            assert email in readme and password in readme
    for doc in ("API_DOCUMENTATION", "WORKFLOWS", "RBAC_DOCUMENTATION", "BUSINESS_RULES", "DATA_MODELS"):
        assert (DOCS / f"{doc}.md").is_file()


def test_docs_name_only_files_that_exist() -> None:
    for doc in DOCS.glob("*.md"):
        for path in re.findall(
            r"`((?:shared|services|config)/[\w/]+\.(?:py|yaml))`", doc.read_text(encoding="utf-8")
        ):
            assert (SANDBOX_DIR / path).is_file(), f"{doc.name} names {path}"


def test_indexignore_hides_the_evaluation_set() -> None:
    lines = (SANDBOX_DIR / ".indexignore").read_text(encoding="utf-8").splitlines()
    spec = pathspec.PathSpec.from_lines("gitignore", lines)
    assert spec.match_file("eval/questions.jsonl")
    assert not spec.match_file("docs/WORKFLOWS.md") and not spec.match_file("services/analytics/routes.py")
