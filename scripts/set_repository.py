"""One setting for the book's repository URL: ``repository.url`` (and ``branch``) in ``_config.yml``.

Everything else that embeds the URL is written from it:

- every notebook's and book page's ``pip install "git+<url>"`` (the setup cell that installs ``helpers``
  when a chapter runs in Colab or Binder);
- the theme's repository, Colab and Binder buttons (``sphinx.config.html_theme_options`` in
  ``_config.yml``, which Jupyter Book 1 does not fill from ``repository:`` once it is set);
- the Binder and Colab badges and the ``git clone`` line in README.md and the book's pages.

Usage::

    python scripts/set_repository.py                 # rewrite everything from _config.yml
    python scripts/set_repository.py --url https://github.com/OWNER/REPO [--branch main]
    python scripts/set_repository.py --check         # exit 1 and list what disagrees; change nothing

Only GitHub repositories are supported: Colab opens notebooks from GitHub, and Binder's button
here uses its ``gh`` provider. Needs only the standard library (files are edited as text, so
notebooks keep their formatting and cell ids).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URL_RE = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
BRANCH_RE = re.compile(r"^[A-Za-z0-9_./-]+$")
SLUG = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?"

# (pattern, replacement template) applied to notebooks, book pages and the README.
# {url}: https://github.com/OWNER/REPO, {slug}: OWNER/REPO, {branch}: the branch.
PAGE_RULES = [
    # pip install "git+https://github.com/OWNER/REPO" (optionally .git, @ref or #egg follow)
    (re.compile(rf"git\+https://github\.com/{SLUG}(?:\.git)?(?=[@#\"'\s\\]|$)"), "git+{url}"),
    # Binder badge / link: https://mybinder.org/v2/gh/OWNER/REPO/BRANCH
    (re.compile(rf"(https://mybinder\.org/v2/gh/){SLUG}/[A-Za-z0-9_.-]+(?=[?/)\s\"']|$)"), r"\g<1>{slug}/{branch}"),
    # Colab badge / link: https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH/
    (re.compile(rf"(https://colab\.research\.google\.com/github/){SLUG}/blob/[A-Za-z0-9_.-]+/"), r"\g<1>{slug}/blob/{branch}/"),
    # git clone https://github.com/OWNER/REPO(.git)
    (re.compile(rf"(git clone )https://github\.com/{SLUG}(?:\.git)?(?=[\s`\"']|$)"), r"\g<1>{url}"),
]
# _config.yml: the theme options that repeat the setting.
CONFIG_RULES = [
    (re.compile(r"^(\s+repository_url:\s*).*$", re.M), r"\g<1>{url}"),
    (re.compile(r"^(\s+repository_branch:\s*).*$", re.M), r"\g<1>{branch}"),
]


def read_setting(config_text: str) -> tuple[str, str]:
    """``(url, branch)`` from the top-level ``repository:`` block of ``_config.yml``."""
    block = re.search(r"^repository:[ \t]*\n((?:[ \t]+.*\n?|[ \t]*\n)*)", config_text, re.M)
    if not block:
        raise SystemExit("_config.yml has no top-level 'repository:' block with 'url:'.")
    values = dict(re.findall(r"^[ \t]+(url|branch):[ \t]*[\"']?([^\"'\s#]*)", block.group(1), re.M))
    if "url" not in values:
        raise SystemExit("_config.yml: 'repository:' has no 'url:'.")
    return values["url"], values.get("branch") or "main"


def write_setting(config_text: str, url: str, branch: str) -> str:
    """``_config.yml``'s text with ``repository.url`` / ``branch`` set (comments kept)."""
    read_setting(config_text)  # fails clearly when the block is missing
    start = re.search(r"^repository:[ \t]*\n", config_text, re.M).end()
    end = re.search(r"^\S", config_text[start:], re.M)
    end = start + end.start() if end else len(config_text)
    block = config_text[start:end]
    block = re.sub(r"^([ \t]+url:[ \t]*).*$", lambda m: m.group(1) + url, block, count=1, flags=re.M)
    if re.search(r"^[ \t]+branch:", block, re.M):
        block = re.sub(r"^([ \t]+branch:[ \t]*).*$", lambda m: m.group(1) + branch, block, count=1, flags=re.M)
    else:
        block = re.sub(r"^([ \t]+)(url:.*\n)", lambda m: m.group(1) + m.group(2) + m.group(1) + f"branch: {branch}\n",
                       block, count=1, flags=re.M)
    return config_text[:start] + block + config_text[end:]


def check_setting(url: str, branch: str) -> None:
    if not URL_RE.match(url) or url.endswith(".git"):
        raise SystemExit(f"repository url must look like https://github.com/OWNER/REPO (no trailing '/' "
                         f"or '.git'), got {url!r}.")
    if not BRANCH_RE.match(branch):
        raise SystemExit(f"repository branch {branch!r} is not a valid branch name.")


def rewrite(text: str, rules, url: str, branch: str) -> str:
    values = {"url": url, "slug": url.removeprefix("https://github.com/"), "branch": branch}
    for pattern, template in rules:
        # Fill {url} etc. first; escape backslashes so re.sub only expands the \g<1> groups.
        replacement = template.format(**{k: v.replace("\\", "\\\\") for k, v in values.items()})
        text = pattern.sub(replacement, text)
    return text


def page_files(root: Path) -> list[Path]:
    """Notebooks, book pages and the README: every file that may embed the URL."""
    skip = {"_build", ".venv", ".ipynb_checkpoints", ".cache", "node_modules"}
    files = [root / "README.md"] if (root / "README.md").exists() else []
    for folder in ("notebooks", "book"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in {".ipynb", ".md"} and not skip & set(path.relative_to(root).parts):
                files.append(path)
    return files


def install_urls(text: str) -> list[str]:
    """The ``git+https://github.com/...`` URLs in a file's text."""
    return [m.group(0).removeprefix("git+") for m in PAGE_RULES[0][0].finditer(text)]


def plan(root: Path, url: str | None = None, branch: str | None = None) -> dict[Path, str]:
    """The files whose text would change, with their new text."""
    config_path = root / "_config.yml"
    config_text = config_path.read_text()
    cur_url, cur_branch = read_setting(config_text)
    url, branch = url or cur_url, branch or cur_branch
    check_setting(url, branch)
    changes = {}
    new_config = rewrite(write_setting(config_text, url, branch), CONFIG_RULES, url, branch)
    if new_config != config_text:
        changes[config_path] = new_config
    for path in page_files(root):
        text = path.read_text()
        new = rewrite(text, PAGE_RULES, url, branch)
        if new != text:
            changes[path] = new
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="set repository.url in _config.yml first (https://github.com/OWNER/REPO)")
    parser.add_argument("--branch", help="set repository.branch in _config.yml first (default: keep it)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything disagrees")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    changes = plan(root, args.url, args.branch)
    url, branch = read_setting(changes.get(root / "_config.yml", (root / "_config.yml").read_text()))
    names = [str(p.relative_to(root)) for p in changes]
    if args.check:
        if changes:
            print(f"These files disagree with _config.yml's repository ({url}, branch {branch}):")
            print("\n".join(f"  {n}" for n in names))
            print("Run `make set-repository` (python scripts/set_repository.py) to rewrite them.")
            return 1
        print(f"Every embedded repository URL agrees with _config.yml: {url} (branch {branch}).")
        return 0
    for path, text in changes.items():
        path.write_text(text)
    print(f"Repository {url} (branch {branch}): " + (f"rewrote {', '.join(names)}." if names else "nothing to change."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
