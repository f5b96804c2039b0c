"""Claims of chapter 7 (evaluation) and the appendix "When one machine is not enough", checked
against the numbers each build glued, in both profiles.

Chapter 7 chooses its directional words in hidden cells; these tests check that every chosen word
matches the numbers beside it, and that a single label draw is never reported as a spread.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest

WORDS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight",
         9: "Nine", 10: "Ten"}


def value(v):
    """A glued value as Python (lists of names with apostrophes arrive as text)."""
    if isinstance(v, str):
        try:
            return ast.literal_eval(re.sub(r"\bnan\b", "None", v))
        except (ValueError, SyntaxError):
            return v.strip("'\"")
    return v


@pytest.fixture
def ch07(glued):
    return {k: value(v) for k, v in glued("07_evaluation").items()}


@pytest.fixture
def acc(ch07):
    """(method, labels per class) -> mean accuracy in %, from the sweep's summary."""
    return {(r["method"], r["labels_per_class"]): 100 * r["accuracy_mean"]
            for r in ch07["bench_results"]}


def budgets(acc):
    return sorted({b for _, b in acc})


def test_the_number_of_methods_is_counted(ch07, acc):
    n = len({m for m, _ in acc})
    assert ch07["n_methods"] == WORDS.get(n, str(n))


def test_recipe_against_labels_alone_per_budget(ch07, acc):
    recipe, scratch = "article's recipe (k-means ids)", "CNN from scratch"
    above = [b for b in budgets(acc) if acc[(recipe, b)] > acc[(scratch, b)]]
    assert sorted(ch07["recipe_above_budgets"]) == above
    focus = ch07["focus"]
    assert ch07["recipe_vs_cnn"] == ("below" if acc[(recipe, focus)] < acc[(scratch, focus)]
                                     else "above")
    for b in budgets(acc):  # "above at 1 (...)", "below at 10 (...)"
        word = "above" if b in above else "below"
        assert f"{word} at {b} (" in ch07["recipe_per_budget"]
    if above == [min(budgets(acc))] and len(budgets(acc)) > 1:
        assert "ahead" in ch07["recipe_one_label"]  # the 1-per-class case is discussed
    if not above:
        assert "behind at every budget" in ch07["recipe_one_label"]


def test_the_rounds_sentence_matches_student_and_teacher(ch07, acc):
    teacher, student = "label spreading (k-means features)", "propagation <-> student CNN"
    above = [b for b in budgets(acc) if acc[(student, b)] > acc[(teacher, b)]]
    assert sorted(ch07["student_above_budgets"]) == above
    text = ch07["rounds_text"]
    if len(above) == len(budgets(acc)):
        assert "at every budget" in text and "beats" in text
    elif not above:
        assert "do not even correct" in text
    else:
        assert "add errors" in text


def test_one_draw_is_reported_as_one_draw(ch07):
    if ch07["n_draws"] == 1:
        assert "ranged" not in ch07["paired_text"]
        assert "±" not in ch07["spread_text"] and "standard deviation" not in ch07["spread_text"]
        assert ch07["draws_phrase"] == "one label draw per budget"
        assert "no spread" in ch07["table_what"]
    else:
        assert str(ch07["n_draws"]) in ch07["draws_phrase"]


def test_the_decision_guide_follows_the_sweep(ch07, acc):
    methods = list(dict.fromkeys(m for m, _ in acc))
    mean_over_budgets = {m: np.mean([acc[(m, b)] for b in budgets(acc)]) for m in methods}
    ranking = ch07["guide_ranking"]
    assert sorted(ranking) == sorted(methods)
    assert [mean_over_budgets[m] for m in ranking] == sorted(mean_over_budgets.values(),
                                                             reverse=True)
    first, second, third = ch07["guide_order"]
    assert (first, second, third) == (ch07["guide_first"], ch07["guide_second"], ch07["guide_third"])
    assert len({first, second, third}) == 3
    # second and third follow the ranking once the first is taken out
    rest = [m for m in ranking if m != first]
    assert [second, third] == rest[:2]
    assert abs(ch07["guide_first_acc"] - mean_over_budgets[first]) < 1e-6
    for b in budgets(acc):  # "the best at each budget was: with 1 label per class, *X* (...)"
        best = max(methods, key=lambda m: acc[(m, b)])
        assert f"per class, *{best}* (" in ch07["guide_best_per_budget"]


def test_cheaper_student_words_match_their_numbers(ch07):
    if "short_change" not in ch07:  # the comparison runs in the quick profile only
        assert "quick profile only" in ch07["cheaper_text"]
        return
    for change in (ch07["short_change"], ch07["warm_change"]):  # "loses 1.2 points", never "loses -1.2"
        if change == 0:
            phrase = "keeps the book's accuracy exactly"
        else:
            size = f"{abs(change):.1f}" if abs(change) >= 0.05 else f"{abs(change):.2f}"
            phrase = f"{'gains' if change > 0 else 'loses'} {size} points"
        assert phrase in ch07["cheaper_text"], (phrase, ch07["cheaper_text"])
    assert not re.search(r"(gains|loses) [-+−]", ch07["cheaper_text"])
    if ch07["warm_change"] < 0:
        assert "poor start" in ch07["warm_reason"]


def test_cross_validation_verdict(ch07):
    agrees = ch07["cv_agrees"] in (True, "True", "true")
    assert ("picks the same method" in ch07["cv_verdict"]) == agrees
    assert agrees == (ch07["cv_pick"] == ch07["test_pick"])


def test_best_method_statements(ch07, acc):
    ours = ["logistic regression (k-means features)", "label spreading (k-means features)",
            "propagation <-> student CNN"]
    focus, top = ch07["focus"], ch07["top"]
    assert ch07["best_focus"] == max(ours, key=lambda m: acc[(m, focus)])
    assert ch07["best_top"] == max(ours, key=lambda m: acc[(m, top)])


def test_scaling_ratio_word(glued):
    try:
        page = {k: value(v) for k, v in glued("book/scaling").items()}
    except pytest.fail.Exception:
        pytest.skip("book/scaling is not in the table of contents yet")
    ratio = page["parallel_ratio"]
    assert page["ratio_text"] == ("faster" if ratio > 1.05 else
                                  "no faster" if ratio >= 0.95 else "slower")
    assert page["prop_10x"] > page["prop_now"]  # "would cost about ... against ... now"
