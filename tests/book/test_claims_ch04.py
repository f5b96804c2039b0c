"""Chapter 4's claims in words, checked against the numbers the chapter glued (quick and full builds).

Every direction word in chapter 4 (more/less, beats/loses to, above/below, rises/falls, paid off)
is chosen by the cell that measured it; these tests check that each word matches its numbers, so
an edit that decouples them fails. The few fixed statements in the prose are listed with the
numbers that support them.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def ch04(glued):
    return glued("04_transfer")


def _above(a: float, b: float) -> str:
    return "above" if a > b else "below"


def test_transfer_words_match_their_numbers(ch04):
    best_transfer = max(ch04["t_frozen"], ch04["t_fine"])
    ahead = best_transfer > ch04["t_scratch"]
    assert ch04["t_gain_word"] == ("more" if ahead else "less")
    assert ch04["t_pays"] == ("paid off" if ahead else "did not pay off")
    assert ch04["t_gain"] == pytest.approx(abs(best_transfer - ch04["t_scratch"]))
    best = {"scratch": ch04["t_scratch"], "frozen features": ch04["t_frozen"],
            "fine-tuned": ch04["t_fine"]}
    assert best[ch04["t_best"]] == max(best.values())
    # "the difference is most in transfer's favour at B label(s) per class"
    gaps = [float(g) for g in str(ch04["t_gaps"]).split(", ")]
    budgets = [int(b) for b in str(ch04["t_budgets"]).split(", ")]
    assert budgets[gaps.index(max(gaps))] == ch04["t_gap_budget"]


def test_layer_words_match_their_numbers(ch04):
    assert ch04["l_fine_vs_frozen"] == _above(ch04["l_fine_last"], ch04["l_frozen_last"])
    assert ch04["l_frozen_trend"] == ("rises" if ch04["l_frozen_last"] > ch04["l_scratch"]
                                      else "falls")
    # "the highest score ... l_best_acc, l_margin points above the next"
    assert ch04["l_best_acc"] >= max(ch04["l_scratch"], ch04["l_frozen_1"],
                                     ch04["l_frozen_last"], ch04["l_fine_last"])
    assert ch04["l_margin"] >= 0


def test_recipe_words_match_their_numbers(ch04):
    assert ch04["r_verdict"] == ("loses to" if ch04["r_fine"] < ch04["r_labels"] else "beats")
    assert ch04["r_diff"] == pytest.approx(abs(ch04["r_fine"] - ch04["r_labels"]))
    assert ch04["r_probe_vs_fine"] == _above(ch04["r_probe"], ch04["r_fine"])
    assert ch04["o_probe_vs_fine"] == _above(ch04["o_probe"], ch04["o_fine"])
    assert ch04["o_fine_vs_recipe"] == _above(ch04["o_fine"], ch04["r_fine"])
    assert ch04["o_probe_vs_recipe"] == _above(ch04["o_probe"], ch04["r_probe"])
    best_variant = max(ch04["r_fine"], ch04["r_probe"], ch04["o_fine"], ch04["o_probe"])
    assert ch04["o_best_vs_labels"] == _above(best_variant, ch04["r_labels"])


def test_the_pretrained_network_learned_its_partition_not_the_classes(ch04):
    # "it has learned its source task well. But the task was to reproduce a partition that is
    # right for only ... % of the images"
    assert ch04["fit_acc"] >= 80
    assert ch04["fit_acc"] > ch04["partition_acc"] + 20
    assert ch04["kmeans_acc"] < 75


def test_more_clusters_make_purer_clusters(ch04):
    # "more clusters make purer clusters (the purities above)"
    assert ch04["purity_over"] > ch04["purity10"]


def test_single_draws_are_shown_as_single_draws(ch04):
    if ch04["n_draws"] == 1:
        assert ch04["draws_text"] == "one label draw"
        assert "across draws" not in ch04["r_fine_spread"]
        assert "standard deviation" not in ch04["l_caveat"]
    else:
        assert str(ch04["n_draws"]) in ch04["draws_text"]
        assert "across draws" in ch04["r_fine_spread"]
