from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from .helpers import ADMIN, sign_in


def open_search(app: Callable[[], AppTest]) -> AppTest:
    at = sign_in(app, ADMIN)
    at.switch_page("pages/search.py").run()
    assert not at.exception, at.exception
    return at


def test_without_an_index_the_page_says_how_to_build_one(settings_env: Path, seeded_sandbox_db: Path,
                                                         app: Callable[[], AppTest]) -> None:  # fmt: skip
    import shutil

    shutil.copyfile(seeded_sandbox_db, settings_env.parent / "sandbox.db")
    at = open_search(app)
    assert any("no index" in i.value and "make index" in i.value for i in at.info)


def test_search_shows_the_matching_file_with_its_lines_and_scores(
    small_index: Path, app: Callable[[], AppTest]
) -> None:
    at = open_search(app)
    assert any("2 files" in c.value for c in at.caption)
    at.text_input(key="query").input("how do I enroll students in a track by email")
    at.button(key="FormSubmitter:search-Search").click().run()
    assert not at.exception
    first = next(m.value for m in at.markdown if "**1.**" in m.value)
    assert "api/tracks.py:" in first
    assert "POST /api/v1/tracks/{track_id}/enroll" in first
    labels = [m.label for m in at.metric]
    assert "BM25" in labels and "Fused (RRF)" in labels
    code = next(c.value for c in at.code if "Enroll students in a track" in c.value)
    assert code.splitlines()[0].startswith("5 │ @router.post")  # numbered from the file's own line 5


def test_a_query_that_matches_nothing_gets_a_hint(small_index: Path, app: Callable[[], AppTest]) -> None:
    at = open_search(app)
    at.text_input(key="query").input("zzzqqq xxyyzz")
    at.button(key="FormSubmitter:search-Search").click().run()
    assert not at.exception
    assert "Nothing matched" in at.warning[0].value
