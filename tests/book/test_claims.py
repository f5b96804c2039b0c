"""The claims the book's prose makes in plain words, checked against the executed chapters.

Numbers in the prose are glued from the executed cells, so they can never be stale. Some
*statements* are not numbers, though: chapter 5 opens with "chapter 4's recipe did not beat the
labels alone", chapter 6 calls the article's recipe a loser. If a change to the helpers turned
such a statement false, the pages would still build, with a glued number contradicting the words
around it. These tests read the values the quick-profile build glued (myst-nb writes them beside
the executed notebooks) and fail instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def glued(html_dir: Path, chapter: str) -> dict:
    """The values ``notebooks/<chapter>.ipynb`` glued in the build that produced ``html_dir``."""
    path = html_dir.parent / "jupyter_execute" / "notebooks" / f"{chapter}.glue.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: the build did not execute {chapter}.")
    values = {}
    for name, output in json.loads(path.read_text()).items():
        text = output["data"]["text/plain"]
        try:
            values[name] = json.loads(text.replace("'", '"'))
        except json.JSONDecodeError:
            values[name] = text
    return values


@pytest.fixture(scope="module")
def ch04(html_dir):
    return glued(html_dir, "04_transfer")


@pytest.fixture(scope="module")
def ch05(html_dir):
    return glued(html_dir, "05_unlabeled_data_pays_off")


@pytest.fixture(scope="module")
def ch06(html_dir):
    return glued(html_dir, "06_evaluation")


def test_the_articles_recipe_loses_to_the_labels_alone(ch04, ch06):
    # chapter 5 opens with it, chapter 6 and the preface repeat it
    assert ch04["r_fine"] < ch04["r_labels"]
    assert ch06["recipe_focus_acc"] < ch06["cnn_focus_acc"]


def test_chapter_5_best_method_beats_the_cnn_from_scratch(ch05, ch06):
    assert ch05["gain_over_cnn"] > 0
    assert ch06["best_focus_acc"] > ch06["cnn_focus_acc"]
    assert ch06["paired_wins"] >= 1


def test_confidence_ranks_the_pseudo_labels(ch05):
    # "Dropping the least confident pseudo-labels therefore raises the accuracy of those that remain"
    assert ch05["conf_high"] > ch05["conf_low"]
    assert ch05["keep_acc"] > ch05["spread_pool_acc"]


# ----------------------------------------------------------------- the full profile's claims
# Some statements hold only with the full pool of 60,000 images; the prose says so and glues the
# words. `make test` builds only the quick profile, so these run where `make book` has built the
# full profile (the published book) since the last change to the chapters or helpers.

ROOT = Path(__file__).resolve().parents[2]
FULL_HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="module")
def full_ch05():
    path = FULL_HTML.parent / "jupyter_execute" / "notebooks" / "05_unlabeled_data_pays_off.glue.json"
    if not path.is_file():
        pytest.skip("no full-profile build in _build/html: `make book` builds it")
    sources = [*ROOT.joinpath("helpers").glob("*.py"), *ROOT.joinpath("notebooks").glob("*.ipynb")]
    newest = max(sources, key=lambda p: p.stat().st_mtime)
    if newest.stat().st_mtime > path.stat().st_mtime:
        pytest.skip(f"the full-profile build is older than {newest.relative_to(ROOT)}: "
                    "run `make book` again to check its claims")
    return glued(FULL_HTML, "05_unlabeled_data_pays_off")


def test_full_profile_rounds_improve_on_the_first_teacher(full_ch05):
    # chapter 5, step 4, with the full pool: the rounds raise the share of correct pseudo-labels,
    # and the last student beats the one-shot teacher -> student of step 3 and the CNN from scratch
    assert full_ch05["round_pool_last"] > full_ch05["round_pool_first"]
    assert full_ch05["acc_prop"] > full_ch05["acc_student"]
    assert full_ch05["best_method"] == "propagation <-> student CNN"
