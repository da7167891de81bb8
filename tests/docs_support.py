"""Reading the Markdown docs for tests/project/test_docs.py: fences, links, GitHub heading slugs.

A small reader, not a full CommonMark parser: it knows what the docs of this repository use
(ATX and setext headings, fenced blocks, inline and reference links, HTML anchors) and reports
what it cannot verify rather than accepting it.
"""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent

#: On the line just before a fence: the block is a complete program a test runs.
RUNNABLE = "<!-- runnable -->"
#: The only files whose runnable ``bash`` blocks a test runs: the template test, the packaging
#: test, the runbook test and tests/project/test_documented_commands.py.
BASH_RUNNABLE_FILES = frozenset(
    {"examples/consumer/README.md", "docs/install.md", "docs/runbook.md", "docs/example-app.md"}
)
#: Folders never searched for Markdown (environments, generated output, dependencies).
_SKIPPED_DIRS = frozenset({"node_modules", "cdk.out", "build", "dist", "__pycache__"})

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_ATX_HEADING = re.compile(r"^ {0,3}(?P<level>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_NOT_A_PARAGRAPH = re.compile(r"^\s*(?:#|>|\||[-*+]\s|\d+[.)]\s|<!--)")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_LINE_ANCHOR = re.compile(r"L\d+(?:C\d+)?(?:-L\d+(?:C\d+)?)?")
_INLINE_LINK = re.compile(
    r"""!?\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]
        \(\s*(?P<target><[^<>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)
        (?:\s+(?:"[^"]*"|'[^']*'|\([^()]*\)))?\s*\)""",
    re.VERBOSE,
)
_REFERENCE_DEFINITION = re.compile(
    r"^ {0,3}\[(?P<label>[^\]^][^\]]*)\]:[ \t]*(?P<target><[^<>\n]*>|\S+)", re.MULTILINE
)
_HTML_LINK = re.compile(
    r"""<(?:a|img|source)\b[^>]*?\b(?:href|src)\s*=\s*["'](?P<target>[^"']*)["']"""
)
_HTML_ANCHOR = re.compile(r"""<[A-Za-z][^>]*?\b(?:id|name)\s*=\s*["'](?P<anchor>[^"']+)["']""")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_PARAGRAPH_END = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Fence:
    """A fenced code block: ``line`` is the opening fence's (1-based) line number."""

    info: str
    line: int
    code: str
    runnable: bool

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def first_code_line(self) -> int:
        return self.line + 1


@dataclass(frozen=True)
class Link:
    line: int
    target: str


def _fence_spans(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(opening index, closing index, info) of every fenced block; an unclosed one runs to EOF."""
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index])
        if not opening or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(index + 1, len(lines)) if closing.match(lines[j])), len(lines))
        yield index, end, opening["info"].strip()
        index = end + 1


def fences(text: str) -> list[Fence]:
    """Every fenced code block of a Markdown text, with its runnable marker."""
    lines = text.splitlines()
    found = []
    for start, end, info in _fence_spans(lines):
        indent = len(lines[start]) - len(lines[start].lstrip())
        body = [
            line[indent:] if line[:indent].isspace() else line for line in lines[start + 1 : end]
        ]
        runnable = start > 0 and lines[start - 1].strip() == RUNNABLE
        found.append(Fence(info, start + 1, "\n".join(body) + "\n", runnable))
    return found


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def _mask_code_spans(text: str) -> str:
    """Replace inline code spans by spaces (line breaks kept).

    A span closes with a run of as many backticks, in the same paragraph; a run that is not
    closed there stays as text.
    """
    out = []
    position = 0
    for run in re.finditer(r"`+", text):
        if run.start() < position:
            continue
        paragraph_end = _PARAGRAPH_END.search(text, run.end())
        closing = re.compile(rf"(?<!`){re.escape(run.group(0))}(?!`)")
        end = closing.search(text, run.end(), paragraph_end.start() if paragraph_end else len(text))
        if end is None:
            continue
        out.append(text[position : run.start()])
        out.append(re.sub(r"[^\n]", " ", text[run.start() : end.end()]))
        position = end.end()
    out.append(text[position:])
    return "".join(out)


def prose(text: str) -> str:
    """The text with fenced blocks, code spans and HTML comments blanked out (lines kept)."""
    lines = text.splitlines()
    for start, end, _ in _fence_spans(lines):
        for index in range(start, min(end + 1, len(lines))):
            lines[index] = ""
    masked = _mask_code_spans("\n".join(lines))
    return _HTML_COMMENT.sub(_blank, masked)


def links(text: str) -> list[Link]:
    """Inline links and images, reference definitions and HTML ``href``/``src``, outside code."""
    masked = prose(text)
    found = []
    for pattern in (_INLINE_LINK, _REFERENCE_DEFINITION, _HTML_LINK):
        for match in pattern.finditer(masked):
            target = match["target"]
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            found.append(Link(masked.count("\n", 0, match.start("target")) + 1, target))
    return sorted(found, key=lambda link: link.line)


def _heading_text(markdown: str) -> str:
    """The text GitHub renders for a heading's inline Markdown."""
    parts = re.split(r"(`+)(.+?)\1", markdown)
    rendered = []
    # re.split with two groups yields: text, backticks, code, text, backticks, code, ...
    for index in range(0, len(parts), 3):
        plain = parts[index]
        plain = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", plain)
        plain = re.sub(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])", r"\1", plain)
        plain = _HTML_TAG.sub("", plain)
        plain = re.sub(r"(?<![\w\\])(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1(?![\w])", r"\2", plain)
        rendered.append(plain)
        if index + 2 < len(parts):
            rendered.append(parts[index + 2])
    return "".join(rendered).strip()


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to ``-``.

    Letters, digits, ``-``, ``_`` and spaces are kept (each space becomes one ``-``, so
    ``A & B`` gives ``a--b``); everything else (punctuation, symbols, emoji) is dropped.
    """
    kept = []
    for char in _heading_text(heading).lower():
        if char in "-_ " or unicodedata.category(char)[0] in "LMN":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def headings(text: str) -> list[tuple[int, str]]:
    """(line, Markdown text) of every ATX and setext heading outside fenced blocks."""
    lines = text.splitlines()
    fenced = {i for start, end, _ in _fence_spans(lines) for i in range(start, end + 1)}
    found = []
    for index, line in enumerate(lines):
        if index in fenced:
            continue
        atx = _ATX_HEADING.match(line)
        if atx:
            found.append((index + 1, (atx["text"] or "").strip()))
            continue
        if (
            _SETEXT_UNDERLINE.match(line)
            and index > 0
            and index - 1 not in fenced
            and lines[index - 1].strip()
            and not _NOT_A_PARAGRAPH.match(lines[index - 1])
            and not _SETEXT_UNDERLINE.match(lines[index - 1])
        ):
            found.append((index, lines[index - 1].strip()))
    return found


def anchors(text: str) -> set[str]:
    """Every ``#fragment`` a Markdown page answers to on GitHub: heading slugs, HTML ids."""
    seen: dict[str, int] = {}
    found = set()
    for _, heading in headings(text):
        slug = github_slug(heading)
        if slug in seen:
            seen[slug] += 1
            slug = f"{slug}-{seen[slug]}"
        else:
            seen[slug] = 0
        found.add(slug)
    found.update(match["anchor"] for match in _HTML_ANCHOR.finditer(prose(text)))
    return found


def git_ignored(paths: Iterable[Path], root: Path) -> set[Path]:
    """The paths git ignores (generated, so absent from a clone); empty outside a git checkout."""
    candidates = [str(path.relative_to(root)) for path in paths]
    if not candidates or not (root / ".git").exists():
        return set()
    result = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "--stdin"],
        input="\n".join(candidates),
        capture_output=True,
        text=True,
        check=False,
    )
    return {root / line for line in result.stdout.splitlines() if line}


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """Every relative link of ``page`` that does not resolve inside ``root``, with the reason.

    A link resolves when its file or folder exists under ``root`` and git does not ignore it;
    a ``#fragment`` must be an anchor of the target Markdown page (of a folder's README.md),
    or a GitHub line anchor (``#L10-L20``) on another file. Links with a scheme (``https:``,
    ``mailto:``) and links inside code are not checked.
    """
    root = root.resolve()
    problems: list[str] = []
    targets: dict[Link, Path] = {}
    where_of = f"{page.resolve().relative_to(root)}"
    for link in links(page.read_text(encoding="utf-8")):
        where = f"{where_of}:{link.line}: ({link.target})"
        if _URL_SCHEME.match(link.target) or link.target.startswith("//"):
            continue
        parts = urlsplit(link.target)
        path, fragment = unquote(parts.path), unquote(parts.fragment)
        if not path and not fragment:
            problems.append(f"{where} is empty")
            continue
        if not path:
            target = page.resolve()
        elif path.startswith("/"):
            target = Path(os.path.normpath(root / path.lstrip("/")))
        else:
            target = Path(os.path.normpath(page.resolve().parent / path))
        if not target.is_relative_to(root):
            problems.append(f"{where} points outside the repository")
            continue
        if not target.exists():
            problems.append(f"{where}: no such file or folder {target.relative_to(root)}")
            continue
        targets[link] = target
        if not fragment:
            continue
        markdown = target / "README.md" if target.is_dir() else target
        if markdown.suffix.lower() == ".md" and markdown.is_file():
            if fragment not in anchors(markdown.read_text(encoding="utf-8")):
                problems.append(
                    f"{where}: no heading or anchor #{fragment} in {markdown.relative_to(root)}"
                )
        elif not (target.is_file() and _LINE_ANCHOR.fullmatch(fragment)):
            problems.append(f"{where}: #{fragment} cannot be checked on {target.relative_to(root)}")
    ignored = git_ignored(set(targets.values()), root)
    problems.extend(
        f"{where_of}:{link.line}: ({link.target}) is ignored by git, so not in a clone"
        for link, target in targets.items()
        if target in ignored
    )
    return problems


def docs_pages(root: Path = ROOT) -> list[Path]:
    """The pages whose links must resolve: README.md, docs/**/*.md, examples/**/README.md."""
    pages = [root / "README.md"] if (root / "README.md").is_file() else []
    pages += sorted((root / "docs").rglob("*.md")) if (root / "docs").is_dir() else []
    pages += sorted((root / "examples").rglob("README.md")) if (root / "examples").is_dir() else []
    return pages


def markdown_files(root: Path = ROOT) -> list[Path]:
    """Every Markdown file of the repository (hidden, generated and dependency folders skipped)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d not in _SKIPPED_DIRS and not d.endswith(".egg-info")
        )
        found += [Path(folder) / name for name in sorted(files) if name.lower().endswith(".md")]
    return found


def marker_problems(page: Path, root: Path = ROOT) -> list[str]:
    """Misplaced runnable markers: not just before a fence, before a block no test runs, or
    before a ``bash`` block in a file whose bash blocks no test runs."""
    relative = page.resolve().relative_to(root.resolve()).as_posix()
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines()
    fenced = {index for start, end, _ in _fence_spans(lines) for index in range(start + 1, end + 1)}
    by_line = {fence.line: fence for fence in fences(text)}
    problems = []
    for index, line in enumerate(lines):
        if line.strip() != RUNNABLE or index in fenced:
            continue
        fence = by_line.get(index + 2)
        if fence is None:
            problems.append(
                f"{relative}:{index + 1}: {RUNNABLE} is not on the line just before a fence"
            )
        elif fence.language == "bash":
            if relative not in BASH_RUNNABLE_FILES:
                problems.append(
                    f"{relative}:{fence.line}: a runnable bash block, allowed only in "
                    f"{', '.join(sorted(BASH_RUNNABLE_FILES))} (whose tests run them)"
                )
        elif fence.language != "python":
            problems.append(
                f"{relative}:{fence.line}: {RUNNABLE} before a {fence.language or 'plain'!r} "
                "block, which no test runs (only python, and bash in the allowed files)"
            )
    return problems
