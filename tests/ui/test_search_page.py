from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def test_without_an_index_the_page_says_how_to_build_one(settings_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "no index" in at.info[0].value
    assert "make index" in at.info[0].value


def test_search_shows_the_matching_file_with_its_lines_and_scores(small_index: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "2 files" in at.caption[0].value
    at.text_input(key="query").input("how do I enroll students in a track by email")
    at.button[0].click().run()
    assert not at.exception
    first = at.markdown[0].value
    assert "api/tracks.py:" in first
    assert "POST /api/v1/tracks/{track_id}/enroll" in first
    labels = [m.label for m in at.metric]
    assert "BM25" in labels and "Fused (RRF)" in labels
    assert any("Enroll students in a track" in c.value for c in at.code)


def test_a_query_that_matches_nothing_gets_a_hint(small_index: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="query").input("zzzqqq xxyyzz")
    at.button[0].click().run()
    assert not at.exception
    assert "Nothing matched" in at.warning[0].value
