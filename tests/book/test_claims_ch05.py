"""Chapter 5's claims in words, checked against the numbers it glued, in both profiles.

Every directional sentence of ``notebooks/05_unlabeled_data_pays_off.ipynb`` is listed here:
either its verdict word is glued by the cell that measured it (then the test checks that the word
matches the numbers beside it), or it is fixed prose (then the test checks that the numbers still
support it). The ``glued`` fixture runs each test against the quick build and, when one is fresh,
the full build.
"""

from __future__ import annotations

import pytest

PAGE = "05_unlabeled_data_pays_off"
METHOD_SCORES = {  # glue name of each method's test accuracy on the chapter's scoreboard
    "logistic regression (pixels)": "acc_logreg",
    "CNN from scratch": "acc_cnn",
    "logistic regression (k-means features)": "acc_feat",
    "label spreading (k-means features)": "acc_spread",
    "teacher -> student CNN": "acc_student",
    "propagation <-> student CNN": "acc_prop",
}


@pytest.fixture
def ch05(glued):
    return glued(PAGE)


def above(a: float, b: float) -> str:
    return "above" if a > b else "below"


# ---------------------------------------------------------------- glued verdicts match their numbers


def test_features_against_pixels(ch05):
    # "{acc_feat} %, {feat_gain} points {above|below} its score on pixels"
    assert ch05["feat_vs_pixels"] == above(ch05["acc_feat"], ch05["acc_logreg"])
    assert ch05["feat_gain"] == pytest.approx(abs(ch05["acc_feat"] - ch05["acc_logreg"]), abs=1e-6)


def test_purity_word(ch05):
    # "the features' neighbourhoods are {purer|less pure} than the pixels'"
    purer = ch05["purity_features"] > ch05["purity_pixels"]
    assert ch05["purity_word"] == ("purer" if purer else "less pure")


def test_student_against_teacher(ch05):
    # "{student_gain} points {above|below} its teacher ({acc_spread} %)"
    assert ch05["student_vs_teacher"] == above(ch05["acc_student"], ch05["acc_spread"])
    assert ch05["student_gain"] == pytest.approx(abs(ch05["acc_student"] - ch05["acc_spread"]),
                                                 abs=1e-6)


def test_rounds_against_the_one_shot_student(ch05):
    # "{prop_gain} points {above|below} the one-shot student of step 3"
    assert ch05["prop_vs_student"] == above(ch05["acc_prop"], ch05["acc_student"])


def test_round_words(ch05):
    # "{rose|fell} from {round_pool_first} % to {round_pool_second} % in this first turn, and over
    # all rounds it {rose|fell} from ... to {round_pool_last} %"; "a {better|worse} teacher"
    first, second, last = (ch05[k] for k in ("round_pool_first", "round_pool_second",
                                            "round_pool_last"))
    assert ch05["round1_word"] == ("rose" if second > first else "fell")
    assert ch05["rounds_word"] == ("rose" if last > first else "fell")
    assert ch05["rounds_better"] == ("better" if last > first else "worse")


def test_the_best_method_is_the_best(ch05):
    # "the best method, *{best_method}*, reaches {acc_best} %, {gain} points {above|below} the CNN"
    scores = {name: ch05[key] for name, key in METHOD_SCORES.items()}
    assert ch05["best_method"] in scores
    assert ch05["acc_best"] == pytest.approx(max(scores.values()))
    assert scores[ch05["best_method"]] == pytest.approx(max(scores.values()))
    assert ch05["best_vs_cnn"] == above(ch05["acc_best"], ch05["acc_cnn"])


# ---------------------------------------------------------------- fixed sentences the numbers must support


def test_confidence_ranks_the_pseudo_labels(ch05):
    # "The least confident fifth is right {conf_low} %, the most confident fifth {conf_high} %.
    # Dropping the least confident pseudo-labels therefore raises the accuracy of those that remain"
    # and the summary's "its confidence separates right from wrong pseudo-labels"
    assert ch05["conf_high"] > ch05["conf_low"]
    assert ch05["keep_acc"] > ch05["spread_pool_acc"]


def test_the_written_out_round_is_the_helpers(ch05):
    # "Here is the first round in plain Keras" ... "That is one turn of the loop": the hidden check
    # asserts > 97 % agreement with st.propagate_and_train's round; the glue records how much
    assert ch05["round_written_agree"] > 97


def test_one_label_draw(ch05):
    # "Every number in this chapter comes from this one label draw": ten labels per class
    assert ch05["budget"] == 10 and ch05["n_few"] == 10 * 10
