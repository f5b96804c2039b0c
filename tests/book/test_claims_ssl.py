"""Claims of chapter 6 (self-supervised pretraining), checked against the executed chapter.

The chapter chooses its direction words (above / below, meets / falls short of, rose, purer) in
the cell that measured them; these tests check that each word matches the numbers glued beside
it, in the quick build and (when one is fresh) in the full build. They also check the one
direction the prose states outright: pretraining lowered the contrastive loss.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def ch06(glued):
    return glued("06_self_supervised")


def _side(gain: float) -> str:
    return "above" if gain > 0 else "below"


def test_pretraining_lowered_the_loss(ch06):
    # "Pretraining for ... epochs ... lowered the loss from {loss_first} to {loss_last}"
    assert ch06["loss_last"] < ch06["loss_first"]


def test_goal_verdicts_match_the_numbers(ch06):
    assert ch06["goal10"] == 80 and ch06["goal100"] == 87 and ch06["goal_acc"] == 0.68
    assert ch06["goal10_word"] == ("meets" if ch06["best10_acc"] >= ch06["goal10"] else "falls short of")
    assert ch06["goal100_word"] == ("meets" if ch06["best100_acc"] >= ch06["goal100"]
                                    else "falls short of")
    assert ch06["goal_acc_word"] == ("meets" if ch06["acc_cluster"] >= ch06["goal_acc"]
                                     else "falls short of")
    assert ch06["gap10"] == pytest.approx(abs(ch06["best10_acc"] - ch06["goal10"]))


def test_the_best_method_is_the_best_of_those_listed(ch06):
    best = max(ch06["acc_probe"], ch06["acc_spread"], ch06["acc_fine"], ch06["acc_fix"])
    assert ch06["best10_acc"] == pytest.approx(best)


def test_direction_words_match_the_numbers(ch06):
    assert ch06["probe_vs_random"] == _side(ch06["acc_probe"] - ch06["acc_probe0"])
    assert ch06["probe_gain"] == pytest.approx(abs(ch06["acc_probe"] - ch06["acc_probe0"]))
    assert ch06["fix_vs_fine"] == _side(ch06["acc_fix"] - ch06["acc_fine"])
    assert ch06["fix_gain"] == pytest.approx(abs(ch06["acc_fix"] - ch06["acc_fine"]))
    assert ch06["cluster_vs_pixels"] == _side(ch06["acc_cluster"] - ch06["acc_cluster_pixels"])
    assert ch06["monitor_word"] == ("rose" if ch06["monitor_end"] > ch06["monitor_start"]
                                    else "did not rise")
    assert ch06["purity_word"] == ("purer" if ch06["purity"] > ch06["purity0"] else "no purer")


def test_the_trend_words_match_the_measured_lengths(ch06):
    # "the probe {rose with every longer schedule | rose overall ... | did not rise ...}: from a to b"
    lengths = ch06["trend_epochs"]
    assert lengths == sorted(lengths) and len(lengths) >= 2 and lengths[-1] == ch06["ssl_epochs"]
    assert ch06["trend_lengths"].endswith(f" and {lengths[-1]}")
    assert ch06["trend_first_epochs"] == lengths[0] and ch06["trend_last_epochs"] == lengths[-1]
    assert ch06["trend_step_from"] == lengths[-2]
    for key in ("probe10", "probe_more", "acc"):
        first, last, shape = (ch06[f"trend_first_{key}"], ch06[f"trend_last_{key}"],
                              ch06[f"trend_{key}_shape"])
        if last <= first:
            assert shape.startswith("did not rise"), key
        else:
            assert shape.startswith("rose"), key
        if len(lengths) == 2:  # one step: no "with every longer schedule"
            assert shape in ("rose", "did not rise"), key
    # the longest schedule is the pretraining the chapter uses: the same probe and clustering
    assert ch06["trend_last_probe10"] == pytest.approx(ch06["acc_probe"])
    assert ch06["trend_last_acc"] == pytest.approx(ch06["acc_cluster"])
    gap = ch06["goal10"] - ch06["trend_last_probe10"]
    assert ch06["trend_goal_text"] == (f"is still {gap:.1f} points above the probe after the longest "
                                       "schedule" if gap > 0 else
                                       "is met by the probe after the longest schedule")
