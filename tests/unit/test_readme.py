"""The README documents every setting, exactly as the code defines it."""

from pathlib import Path

from app.config import Settings, settings_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_carries_the_generated_settings_table() -> None:
    text = README.read_text(encoding="utf-8")
    assert settings_markdown() in text, "README settings table is stale: paste `python -m app.config`"


def test_every_setting_is_listed_by_its_environment_name() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == []
