"""Turn benchmark runs into the markdown report (pure functions, unit-tested)."""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Iterable

#: Published figures shown beside the book's own (Fashion-MNIST).
PUBLISHED_CLUSTERING = {"k-means on pixels": 0.47, "N2D (McConville et al. 2019)": 0.67}
PUBLISHED_ACCURACY = {"human crowd (Xiao et al. 2017)": 83.5,
                      "MLP on all 60,000 labels (Xiao et al. 2017)": 87.1}


def glued_values(nb: Any) -> dict[str, Any]:
    """Values a notebook glued (myst-nb ``glue``), as Python numbers or strings."""
    values: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if not name:
                continue
            text = output.get("data", {}).get("application/papermill.record/text/plain")
            if text is None:
                continue
            values[name] = _parse(text)
    return values


def _parse(text: str) -> Any:
    text = text.strip()
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    try:
        return ast.literal_eval(re.sub(r"\bnan\b", "None", text))
    except (ValueError, SyntaxError):
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text.strip("'\"")


def _verdict(value: float, limit: float) -> str:
    return "met" if value <= limit else f"**missed** by {value - limit:.0f} s"


def cost_table(run: dict, chapter_budget: float | None) -> list[str]:
    """Markdown rows: chapter, seconds, peak memory, and the per-chapter budget verdict."""
    lines = ["| chapter | seconds (cold) | peak memory (MB) |" + (" budget |" if chapter_budget else ""),
             "| --- | ---: | ---: |" + (" --- |" if chapter_budget else "")]
    for ch in run["chapters"]:
        peak = ch.get("peak_mb")
        row = f"| {ch['notebook']} | {ch['seconds']:.1f} | {peak:.0f} |" if peak else \
              f"| {ch['notebook']} | {ch['seconds']:.1f} | – |"
        if chapter_budget:
            row += f" {_verdict(ch['seconds'], chapter_budget)} (≤ {chapter_budget:.0f} s) |"
        lines.append(row)
    total = sum(ch["seconds"] for ch in run["chapters"])
    lines.append(f"| **all notebooks** | **{total:.1f}** | |" + (" |" if chapter_budget else ""))
    return lines


def page_label(stem: str) -> str:
    """A page's name for readers: ``05_unlabeled_data_pays_off`` -> ``5, unlabeled data pays off``."""
    m = re.match(r"(\d+)_(.*)", stem)
    if m:
        return f"{int(m.group(1))}, {m.group(2).replace('_', ' ')}"
    return stem.replace("-", " ").replace("_", " ")


def runtimes_include(header: list[str], runs: list[dict]) -> str:
    """The run-time table the teacher's guide includes (``book/_runtimes.md``), one row per page.

    A profile without a run in ``runs`` shows "not measured" rather than older numbers.
    """
    def name(ch: dict) -> str:
        worksheet = "/worksheets/" in str(ch.get("uri", "")).replace("\\", "/")
        return f"worksheet: {page_label(ch['notebook'])}" if worksheet else page_label(ch["notebook"])

    by_profile = {run["profile"]: {ch["notebook"]: (name(ch), ch["seconds"]) for ch in run["chapters"]
                                   if ch["seconds"] > 0} for run in runs}
    pages = sorted({page for seconds in by_profile.values() for page in seconds},
                   key=lambda p: (not re.match(r"\d", p), p))
    when = next((line[len("- date: "):] for line in header if line.startswith("- date:")), "")
    machine = next((line[len("- machine: "):] for line in header if line.startswith("- machine:")), "")
    lines = ["% Written by `make bench` (benchmarks/run.py); do not edit by hand.", "",
             f"Measured by `make bench` ({when}; {machine}): one build from an empty cache, the pages "
             "executed one after another, so a page loads what the pages before it cached. \"Not measured\": "
             "no such build in that profile yet.",
             "", "| page | quick profile | full profile |", "| --- | ---: | ---: |"]
    for page in pages:
        cells, label = [], ""
        for profile in ("quick", "full"):
            found = by_profile.get(profile, {}).get(page)
            label = found[0] if found else label
            cells.append("not measured" if found is None else f"{found[1]:,.0f} s")
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


#: What dominates each chapter's cost (used to explain a missed budget).
COST_DRIVERS = {
    "03_clustering": "k-means with n_init=10 on raw pixels, autoencoder training, UMAP on the whole pool "
                     "for two N2D seeds",
    "04_transfer": "the classic-transfer sweep (budgets x draws x three methods), the which-layers "
                   "experiment and two pretrainings on the pool",
    "05_unlabeled_data_pays_off": "fitting and encoding the k-means patch features, the kNN graph, "
                                  "two student networks (one trained for three rounds)",
    "06_self_supervised": "SimCLR pretraining on the whole pool (paid once per pool, then cached), "
                          "fine-tuning and consistency training of the encoder",
    "07_evaluation": "every method x label budgets x draws, each a training run; the propagation "
                     "<-> student method trains a CNN on the whole pool for three rounds in every "
                     "run and dominates",
}


def why_missed(runs: Iterable[dict], budgets: dict) -> list[str]:
    """For each missed budget, the chapters that cost most and what they compute."""
    out = []
    for run in runs:
        chapters = sorted(run["chapters"], key=lambda c: -c["seconds"])
        total = sum(c["seconds"] for c in chapters) or 1.0
        if run["profile"] == "full" and run["cold"] > budgets["full_cold_s"]:
            top = chapters[:3]
            share = sum(c["seconds"] for c in top) / total
            out.append(f"- **full, cold ({run['cold']:.0f} s > {budgets['full_cold_s']} s):** "
                       f"{', '.join(c['notebook'] for c in top)} take {100 * share:.0f} % of the "
                       "notebook time. " + " ".join(
                           f"{c['notebook']} ({c['seconds']:.0f} s): {COST_DRIVERS.get(c['notebook'], 'its experiments')}."
                           for c in top))
        if run["profile"] == "quick":
            for c in chapters:
                if c["seconds"] > budgets["quick_chapter_s"]:
                    out.append(f"- **quick, {c['notebook']} ({c['seconds']:.0f} s > "
                               f"{budgets['quick_chapter_s']} s):** "
                               f"{COST_DRIVERS.get(c['notebook'], 'its experiments')}; each of its many small "
                               "Keras fits pays a fixed start-up cost (graph tracing).")
    if out:
        out = ["## Why a budget is missed", ""] + out + [
            "", "Every expensive artefact is cached (`.cache/`), so only a cold build pays this; "
            "the warm rebuild and an interrupted build that resumes do not.", ""]
    return out


def budget_table(runs: Iterable[dict], budgets: dict) -> list[str]:
    rows = ["| budget | limit | measured | verdict |", "| --- | ---: | ---: | --- |"]
    for run in runs:
        total = sum(ch["seconds"] for ch in run["chapters"])
        if run["profile"] == "quick":
            worst = max((ch["seconds"] for ch in run["chapters"]), default=0.0)
            rows.append(f"| quick: slowest chapter | {budgets['quick_chapter_s']} s | {worst:.0f} s | "
                        f"{_verdict(worst, budgets['quick_chapter_s'])} |")
            rows.append(f"| quick: all chapters | {budgets['quick_total_s']} s | {total:.0f} s | "
                        f"{_verdict(total, budgets['quick_total_s'])} |")
        else:
            rows.append(f"| full: whole book, cold | {budgets['full_cold_s']} s | {run['cold']:.0f} s | "
                        f"{_verdict(run['cold'], budgets['full_cold_s'])} |")
            rows.append(f"| full: rebuild, warm | {budgets['full_warm_s']} s | {run['warm']:.0f} s | "
                        f"{_verdict(run['warm'], budgets['full_warm_s'])} |")
            if "full_chapter_s" in budgets and run["chapters"]:
                worst = max(run["chapters"], key=lambda ch: ch["seconds"])
                rows.append(f"| full: slowest page ({worst['notebook']}) | {budgets['full_chapter_s']} s | "
                            f"{worst['seconds']:.0f} s | {_verdict(worst['seconds'], budgets['full_chapter_s'])} |")
    return rows


def _find_glue(run: dict, name: str) -> Any:
    for chapter in run["chapters"]:
        if name in chapter.get("glue", {}):
            return chapter["glue"][name]
    return None


def accuracy_table(rows: list[dict]) -> list[str]:
    """Methods x label budgets: test accuracy mean ± std (%) and mean seconds per run."""
    budgets = sorted({r["labels_per_class"] for r in rows})
    methods = list(dict.fromkeys(r["method"] for r in rows))
    cell = {(r["method"], r["labels_per_class"]): r for r in rows}
    out = ["| method | " + " | ".join(f"{b} / class" for b in budgets) + " |",
           "| --- |" + " ---: |" * len(budgets)]
    for m in methods:
        parts = []
        for b in budgets:
            r = cell.get((m, b))
            if r is None:
                parts.append("–")
            elif r.get("n_draws", 2) == 1:  # one draw has no spread: no "± 0.0"
                parts.append(f"{100 * r['accuracy_mean']:.1f} ({r['seconds_mean']:.0f} s)")
            else:
                parts.append(f"{100 * r['accuracy_mean']:.1f} ± {100 * r['accuracy_std']:.1f} "
                             f"({r['seconds_mean']:.0f} s)")
        out.append(f"| {m} | " + " | ".join(parts) + " |")
    return out


def clustering_table(rows: list[dict]) -> list[str]:
    out = ["| method | ACC | NMI | ARI | seconds |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        sec = r.get("seconds")
        out.append(f"| {r['method']} | {r['acc']:.3f} | {r['nmi']:.3f} | {r['ari']:.3f} | "
                   f"{'–' if sec is None else f'{sec:.0f}'} |")
    return out


def results_section(run: dict) -> list[str]:
    """The book's results as measured in this run (values the chapters glued)."""
    out = []
    acc = _find_glue(run, "bench_results")
    if acc:
        n = max(r.get("n_draws", 1) for r in acc)
        what = "one label draw" if n == 1 else f"mean ± std over {n} label draws"
        out += [f"### Test accuracy against labels per class ({run['profile']} profile, "
                f"{what}, seconds per run)", ""]
        out += accuracy_table(acc) + [""]
        out += ["Published reference points: " + "; ".join(
            f"{k}: {v} %" for k, v in PUBLISHED_ACCURACY.items()) + ".", ""]
    clus = _find_glue(run, "bench_clustering")
    if clus:
        out += [f"### Clustering the pool ({run['profile']} profile)", ""]
        out += clustering_table(clus) + [""]
        out += ["Published ACC on Fashion-MNIST: " + "; ".join(
            f"{k}: {v}" for k, v in PUBLISHED_CLUSTERING.items()) + ".", ""]
    return out


def _parallel_line(name: str, timing: dict) -> str:
    same = timing.get("same_numbers")
    return (f"- {name} ({timing.get('runs', '?')} runs, nothing cached): "
            f"{timing['n_jobs_1_s']:.1f} s with `n_jobs=1`, {timing['n_jobs_2_s']:.1f} s with "
            f"`n_jobs=2`: a ratio of **{timing['ratio']:.2f}**"
            + ("" if same is None else "; the same numbers" if same else
               "; **the numbers differed**") + ".")


def parallel_section(runs: Iterable[dict]) -> list[str]:
    """Sweeps timed with n_jobs=1 and n_jobs=2 (measured by run.py, or glued by the appendix)."""
    for run in runs:
        timing = run.get("parallel") or _find_glue(run, "bench_parallel")
        if not timing:
            continue
        if "ratio" in timing:  # one sweep (the appendix's glue)
            timing = {"logistic regression": timing}
        return (["## Parallel sweep", "", "The same sweep run one at a time and two at a time "
                 "(ratio above 1: two workers were faster):", ""]
                + [_parallel_line(name, t) for name, t in timing.items() if t] + [""])
    return []


def render_report(header: list[str], runs: list[dict], budgets: dict, dataset: str) -> str:
    """The whole markdown report."""
    out = ["# Benchmark: what the book costs and what its methods achieve", "",
           "Generated by `make bench` (`python benchmarks/run.py`); do not edit by hand.", ""]
    out += header + [f"- dataset: {dataset}", ""]
    out += ["## Budgets", ""] + budget_table(runs, budgets) + [""]
    out += why_missed(runs, budgets)
    out += parallel_section(runs)
    for run in runs:
        out += [f"## Cost per chapter, {run['profile']} profile", "",
                f"Whole build from a cold cache: {run['cold']:.0f} s (notebook execution plus "
                f"Sphinx); rebuild with a warm cache: {run['warm']:.0f} s.", ""]
        if run.get("note"):  # how this run was measured, when not by run.py's own two builds
            out += [run["note"], ""]
        budget = budgets["quick_chapter_s"] if run["profile"] == "quick" else budgets.get(
            "full_chapter_s")
        out += cost_table(run, budget) + [""]
        out += results_section(run)
    return "\n".join(out) + "\n"
