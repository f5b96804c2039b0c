"""Benchmark what the book costs to run and what its methods achieve.

Builds the book exactly as ``make book`` does, once cold (empty execution cache
and empty model cache) and once warm, for each requested profile, while a
sampler records the peak memory of each chapter's kernel. Per-chapter wall
times come from the jupyter-cache records; the book's results are the values
the chapters glue into their prose. Writes a markdown report
(``benchmarks/README.md`` by default) and prints it.

Usage::

    python benchmarks/run.py                       # quick and full profiles
    python benchmarks/run.py --profiles quick      # only the quick profile
    python benchmarks/run.py --profiles full --from-build . --cold 7000 --warm 20 \
        --seconds 07_evaluation=3600 --note "..."  # record a build made by other means

``--from-build`` reads an existing build's jupyter-cache instead of building: for a
full-profile book built another way (``make book`` on a cold cache, with chapters
executed first on their own). The whole-build times and any per-page seconds the
records cannot know (a page executed first outside the build) are given on the
command line, and ``--note`` says how they were measured; the report prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import budgets  # noqa: E402  (benchmarks/budgets.py)
import results  # noqa: E402  (benchmarks/results.py)

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


# ------------------------------------------------------------------ machine facts


def machine_header() -> list[str]:
    """Lines describing the machine and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines()
                          if l.startswith("MemTotal")).split()[1])
        memory = f"{mem_kb / 1024 ** 2:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown"
    from importlib.metadata import version, PackageNotFoundError

    libs = []
    for name in ("tensorflow-cpu", "tensorflow", "keras", "scikit-learn", "numpy", "umap-learn",
                 "jupyter-book", "myst-nb"):
        try:
            libs.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return [
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {os.cpu_count()} cores ({cpu}), {memory} memory, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; " + ", ".join(libs),
    ]


def write_runtimes(runs: list[dict], path: Path, dataset: str) -> None:
    """Write the teacher's guide's run-time table; only a run on the book's default dataset does."""
    if dataset == "fashion_mnist":
        path.write_text(results.runtimes_include(machine_header(), runs))


# ------------------------------------------------------------- memory sampling


def _kernel_rss() -> dict[str, int]:
    """Resident memory (bytes) of running ipykernel processes, keyed by their notebook's cwd+pid."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            if b"ipykernel" not in cmd:
                continue
            rss_pages = int((proc / "statm").read_text().split()[1])
            found[proc.name] = rss_pages * PAGE_SIZE
        except (OSError, ValueError, IndexError):
            continue
    return found


@dataclass
class MemorySampler:
    """Polls /proc for kernel processes and keeps each one's peak RSS, in start order."""

    interval: float = 0.5
    peaks: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid, rss in _kernel_rss().items():
                if pid not in self.peaks:
                    self.order.append(pid)
                self.peaks[pid] = max(self.peaks.get(pid, 0), rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> "MemorySampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peaks_in_order(self) -> list[int]:
        return [self.peaks[pid] for pid in self.order]


# ----------------------------------------------------------------------- builds


def build(profile: str, out: Path, cache_dir: Path, dataset: str) -> tuple[float, list[int], str]:
    """Run ``jupyter-book build`` for ``profile`` into ``out``; return (seconds, kernel peaks, log)."""
    env = dict(os.environ, BOOK_PROFILE=profile, BOOK_CACHE_DIR=str(cache_dir),
               BOOK_DATASET=dataset)
    env.pop("MPLBACKEND", None)  # kernels need the inline backend to show figures
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(ROOT), "--path-output", str(out)]
    start = time.perf_counter()
    with MemorySampler() as sampler:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"book build failed for profile {profile}:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return seconds, sampler.peaks_in_order(), proc.stdout


def chapter_records(out: Path) -> list[dict]:
    """Per-notebook execution seconds and glued values from the build's jupyter-cache."""
    from jupyter_cache import get_cache

    cache = get_cache(out / "_build" / ".jupyter_cache")
    rows = []
    for record in cache.list_cache_records():
        bundle = cache.get_cache_bundle(record.pk)
        rows.append({
            "notebook": Path(record.uri).stem,
            "uri": str(record.uri),
            "seconds": float(record.data.get("execution_seconds") or 0.0),
            "glue": results.glued_values(bundle.nb),
        })
    rows.sort(key=lambda r: r["uri"])  # Sphinx reads (and executes) documents in sorted order
    return rows


def run_profile(profile: str, dataset: str, keep: Path | None) -> dict:
    """Cold build, then warm rebuild, for one profile."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{profile}-"))
    out, cache_dir = work / "book", work / "model-cache"
    print(f"[bench] {profile}: cold build ...", flush=True)
    cold, peaks, _ = build(profile, out, cache_dir, dataset)
    chapters = chapter_records(out)
    # Kernels start in the order Sphinx reads the documents, which is the order of the records.
    executed = [c for c in chapters if c["seconds"] > 0]
    for chapter, peak in zip(executed, peaks):
        chapter["peak_mb"] = peak / 1024 ** 2
    print(f"[bench] {profile}: cold {cold:.0f} s; warm rebuild ...", flush=True)
    warm, _, _ = build(profile, out, cache_dir, dataset)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / f"{profile}.json").write_text(json.dumps(
            {"cold": cold, "warm": warm, "chapters": chapters}, indent=1, default=str))
    shutil.rmtree(work, ignore_errors=True)
    return {"profile": profile, "cold": cold, "warm": warm, "chapters": chapters}


def measure_parallel(dataset: str) -> dict | None:
    """Time the appendix's sweep with n_jobs=1 and n_jobs=2 (quick profile, cold model cache)."""
    env = dict(os.environ, BOOK_PROFILE="quick", BOOK_DATASET=dataset,
               BOOK_CACHE_DIR=tempfile.mkdtemp(prefix="bench-parallel-"))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "parallel.py")], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    shutil.rmtree(env["BOOK_CACHE_DIR"], ignore_errors=True)
    if proc.returncode != 0:
        print(f"[bench] parallel timing failed:\n{proc.stderr[-2000:]}", flush=True)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def record_build(out: Path, cold: float, warm: float, seconds: list[str], note: str) -> dict:
    """A run's record from a build already made in ``out`` (see ``--from-build``).

    ``seconds`` holds ``PAGE=S`` items that replace a page's seconds from the
    cache records (for a page executed cold on its own before the build, whose
    record only knows the quick re-execution from the warm model cache).
    """
    chapters = chapter_records(Path(out))
    if not chapters:
        raise SystemExit(f"no executed pages in {Path(out) / '_build' / '.jupyter_cache'}: "
                         "build the book there first (make book).")
    by_name = {c["notebook"]: c for c in chapters}
    for item in seconds:
        name, _, value = item.partition("=")
        if name not in by_name:
            raise SystemExit(f"--seconds {item!r}: no page {name!r} in the build; "
                             f"pages: {', '.join(sorted(by_name))}")
        try:
            by_name[name]["seconds"] = float(value)
        except ValueError:
            raise SystemExit(f"--seconds {item!r}: give PAGE=SECONDS, e.g. 07_evaluation=3600") from None
    return {"cold": float(cold), "warm": float(warm), "chapters": chapters, "note": note}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", nargs="+", default=["quick", "full"], choices=["quick", "full"])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--report", type=Path, default=ROOT / "benchmarks" / "README.md")
    parser.add_argument("--runtimes", type=Path, default=ROOT / "book" / "_runtimes.md",
                        help="the run-time table the teacher's guide includes")
    parser.add_argument("--runs", type=Path, default=ROOT / "benchmarks" / "runs",
                        help="where raw JSON of each run is kept (git-ignored)")
    parser.add_argument("--from-runs", action="store_true",
                        help="re-render the report from the JSON kept in --runs, without building")
    parser.add_argument("--from-build", type=Path, metavar="DIR",
                        help="record the build already in DIR (its _build/.jupyter_cache) as the "
                             "run of the one profile given, keep it in --runs, and re-render the "
                             "report from every run kept there")
    parser.add_argument("--cold", type=float, help="with --from-build: the cold build's seconds")
    parser.add_argument("--warm", type=float, help="with --from-build: the warm rebuild's seconds")
    parser.add_argument("--seconds", nargs="*", default=[], metavar="PAGE=S",
                        help="with --from-build: a page's cold seconds measured outside the build")
    parser.add_argument("--note", default="", help="with --from-build: how the run was measured")
    args = parser.parse_args(argv)
    if args.from_build is not None:
        if len(args.profiles) != 1 or args.cold is None or args.warm is None:
            parser.error("--from-build needs exactly one --profiles and both --cold and --warm")
        stored = record_build(args.from_build, args.cold, args.warm, args.seconds, args.note)
        args.runs.mkdir(parents=True, exist_ok=True)
        (args.runs / f"{args.profiles[0]}.json").write_text(json.dumps(stored, indent=1, default=str))
        args.profiles = [p for p in ("quick", "full") if (args.runs / f"{p}.json").exists()]
        args.from_runs = True
    if args.from_runs:
        runs = []
        for profile in args.profiles:
            stored = json.loads((args.runs / f"{profile}.json").read_text())
            runs.append({"profile": profile, **stored})
        report = results.render_report(machine_header(), runs, budgets.BUDGETS, args.dataset)
        args.report.write_text(report)
        write_runtimes(runs, args.runtimes, args.dataset)
        print(report)
        return 0
    runs = []
    for profile in args.profiles:  # the report is rewritten after each profile: a cut-short run keeps it
        runs.append(run_profile(profile, args.dataset, args.runs))
        if profile == "quick":
            print("[bench] parallel: the sweep with n_jobs=1 and n_jobs=2 ...", flush=True)
            runs[-1]["parallel"] = measure_parallel(args.dataset)
            if args.runs is not None and runs[-1]["parallel"]:
                stored = args.runs / "quick.json"
                if stored.exists():
                    saved = json.loads(stored.read_text())
                    saved["parallel"] = runs[-1]["parallel"]
                    stored.write_text(json.dumps(saved, indent=1, default=str))
        report = results.render_report(machine_header(), runs, budgets.BUDGETS, args.dataset)
        args.report.write_text(report)
        write_runtimes(runs, args.runtimes, args.dataset)
    print(report)
    print(f"[bench] report written to {args.report.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
