"""The claims the book's prose makes in plain words, checked against the executed chapters.

Numbers in the prose are glued from the executed cells, so they can never be stale. Some
*statements* are not numbers, though: chapter 5 opens with "chapter 4's recipe did not beat the
labels alone", chapter 7 calls the article's recipe a loser. If a change to the helpers turned
such a statement false, the pages would still build, with a glued number contradicting the words
around it. These tests read the values the quick-profile build glued (myst-nb writes them beside
the executed notebooks) and fail instead.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def ch04(glued):
    return glued("04_transfer")


@pytest.fixture
def ch05(glued):
    return glued("05_unlabeled_data_pays_off")


@pytest.fixture
def ch06(glued):
    return glued("07_evaluation")


def test_the_articles_recipe_loses_to_the_labels_alone(ch04, ch06):
    # chapter 5 opens with it, chapter 7 and the preface repeat it
    assert ch04["r_fine"] < ch04["r_labels"]
    assert ch06["recipe_focus_acc"] < ch06["cnn_focus_acc"]


def test_chapter_5_best_method_beats_the_cnn_from_scratch(ch05, ch06):
    assert ch05["gain_over_cnn"] > 0
    assert ch06["best_focus_acc"] > ch06["cnn_focus_acc"]
    assert ch06["paired_wins"] >= 1


# Chapter 5's own claims (confidence ranking, the rounds' words) are in test_claims_ch05.py.
