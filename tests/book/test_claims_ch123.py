"""The fixed words of chapters 1-3 and the original-recipe page, checked against their numbers.

Each test names the sentence (or caption) it guards. The numbers are what the executed pages
glued, in the quick build and, when one is fresh, in the full build (the ``glued`` fixture in
``conftest.py`` runs every test for both profiles). Words the cells choose themselves (a glued
verdict) are checked too: the word must be the one the numbers beside it call for.
"""

from __future__ import annotations

import pytest

N2D_PUBLISHED_ACC = 0.672  # McConville et al. (2019), Fashion-MNIST; chapter 3's goal


@pytest.fixture
def ch01(glued):
    return glued("01_data_and_problem")


@pytest.fixture
def ch02(glued):
    return glued("02_concepts_and_math")


@pytest.fixture
def ch03(glued):
    return glued("03_clustering")


@pytest.fixture
def recipe(glued):
    return glued("book/original-recipe")


# ------------------------------------------------------------------------------------ chapter 1
def test_ch01_the_missing_labels_cost_accuracy(ch01):
    # "The gap of ... percentage points is what the rest of the book tries to close"
    assert ch01["acc_all"] > ch01["acc_few"]
    assert ch01["acc_gap"] == pytest.approx(ch01["acc_all"] - ch01["acc_few"])


def test_ch01_class_share_sentence_names_a_range_only_when_there_is_one(ch01):
    low, high = f"{ch01['min_class_share']:.1f}", f"{ch01['max_class_share']:.1f}"
    sentence = ch01["class_share_sentence"]
    assert low in sentence and high in sentence
    assert ("between" in sentence) == (low != high)  # never "between 10.0 % and 10.0 %"


# ------------------------------------------------------------------------------------ chapter 2
def test_ch02_hand_and_keras_cross_entropy_agree(ch02):
    # "The two agree"
    assert ch02["ce_abs_diff"] < 1e-6


def test_ch02_lloyd_lowers_the_distortion_and_matches_sklearn(ch02):
    # "the distortion fell from ... to ..."; "its KMeans reaches the same codebook"
    assert ch02["lloyd_last"] < ch02["lloyd_first"]
    assert ch02["lloyd_steps"] >= 1
    assert ch02["lloyd_vs_sklearn"] < 1e-6


def test_ch02_reconstruction_word_matches_losses(ch02):
    assert ch02["ae_vs_pca"] == ("lower" if ch02["recon_ae"] < ch02["recon_pca"] else "higher")
    # "The one-hot code of k-means is the crudest"
    assert ch02["recon_kmeans"] > max(ch02["recon_pca"], ch02["recon_ae"])


def test_ch02_two_stage_caption(ch02):
    # caption of fig-02-two-stage: "The pretrained start begins far ahead and keeps most of its
    # lead, but drifts toward the labels-only solution the longer stage 2 runs"
    start, end, zero = (ch02["two_stage_pre_start"], ch02["two_stage_pre_end"],
                        ch02["two_stage_zero_end"])
    assert start > zero and end > zero and end < start
    assert end - zero > (start - zero) / 2
    assert ch02["two_stage_drift"] == ("fell" if end < start else "did not fall")
    assert ch02["two_stage_winner"] == ("still ahead of" if end > zero else "no better than")


def test_ch02_unlabeled_structure_helps_on_moons_and_misleads_on_stripes(ch02):
    # caption of fig-02-help-mislead, and the glued verdicts of the section
    moons = ch02["toy_moons_label_spreading"] - ch02["toy_moons_labels_only"]
    stripes = ch02["toy_stripes_label_spreading"] - ch02["toy_stripes_labels_only"]
    assert moons > 0 and stripes < 0
    assert ch02["toy_moons_verdict"] == "helps"
    assert ch02["toy_stripes_verdict"] == "hurts"


# ------------------------------------------------------------------------------------ chapter 3
def test_ch03_matching_beats_the_direct_comparison(ch03):
    # "The clustering is much better than that; we only have to name its clusters fairly"
    assert 100 * ch03["acc_pixels"] > ch03["direct_acc"]
    assert ch03["acc_pixels_direct_gain"] > 0


def test_ch03_representation_words(ch03):
    # "The autoencoder's codes give ..., {more|less} than pixels"
    assert ch03["ae_vs_pixels"] == ("more" if ch03["acc_ae"] > ch03["acc_pixels"] else "less")
    # "about N times faster": PCA then k-means is faster than k-means on the pixels
    assert ch03["pca_speedup"] > 1
    assert ch03["pca_vs_pixels_acc"] == pytest.approx(abs(ch03["acc_pca"] - ch03["acc_pixels"]))


def test_ch03_over_clustering(ch03):
    # "purity ... {higher}", "one-to-one accuracy {drops}", and the summary's "scores must be
    # compared at equal k"
    assert ch03["purity_k200"] > ch03["purity_k10"]
    assert ch03["acc_k200"] < ch03["acc_k10"]
    assert ch03["purity_k200_word"] == "higher"
    assert ch03["acc_k200_word"] == "drops"


def test_ch03_n2d_goal_word_and_seeds(ch03):
    # "the mean {exceeds|falls short of} it by ..."
    mean = ch03["n2d_acc_mean"]
    assert ch03["n2d_goal"] == ("exceeds" if mean >= N2D_PUBLISHED_ACC else "falls short of")
    assert ch03["n2d_goal_gap"] == pytest.approx(abs(N2D_PUBLISHED_ACC - mean))
    # a mean and a range need more than one seed
    assert ch03["n2d_n_seeds"] >= 2
    assert ch03["n2d_acc_min"] <= mean <= ch03["n2d_acc_max"]
    assert ch03["n2d_acc_min"] < ch03["n2d_acc_max"]


# --------------------------------------------------------------------------- the original recipe
def test_recipe_direct_comparison_is_an_accident_of_numbering(recipe):
    # "the same grouping scores between ... and ... depending only on how its clusters happen to
    # be numbered, while the matched accuracy stays at ..."
    assert recipe["recipe_direct_min"] < recipe["recipe_direct_max"]
    assert recipe["recipe_direct_max"] <= recipe["recipe_matched"]  # matching maximises over numberings
    assert recipe["recipe_direct_min"] <= recipe["recipe_direct"] <= recipe["recipe_direct_max"]


def test_recipe_verdict_word(recipe):
    # "the corrected recipe reaches ... % test accuracy, {below|above} the ... % of the same
    # network trained on the labels alone"
    below = recipe["recipe_finetuned"] < recipe["recipe_scratch"]
    assert recipe["recipe_verdict"] == ("below" if below else "above")
