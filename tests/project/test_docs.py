"""The documentation holds: the API reference builds clean, links resolve, examples run.

- ``scripts/build_docs.py`` (``make docs``) renders the API reference with pdoc and fails on any
  warning, broken internal link, or exported name without a docstring;
- every relative link of README.md, docs/**/*.md and examples/**/README.md resolves;
- every ```python block marked ``<!-- runnable -->`` runs as a complete program, and runnable
  ```bash blocks appear only where a test runs them.

Each check has ``test_fails_if_*`` tests proving it reports what it is meant to catch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

import constructs_lib
from scripts import build_docs
from tests.docs_support import (
    ROOT,
    Fence,
    anchors,
    broken_links,
    docs_pages,
    fences,
    github_slug,
    links,
    markdown_files,
    marker_problems,
)

# ---------------------------------------------------------------------------------------------
# API reference


@dataclass
class ApiBuild:
    output: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@pytest.fixture(scope="module")
def api_build(tmp_path_factory: pytest.TempPathFactory) -> ApiBuild:
    """``make docs``'s command, run once for the module into a temporary folder."""
    output = tmp_path_factory.mktemp("docs") / "api"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_docs.py"), "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return ApiBuild(
        output, result.returncode, result.stdout, result.stderr, time.monotonic() - started
    )


def test_api_reference_builds_without_warnings_or_broken_links(api_build: ApiBuild) -> None:
    # GIVEN the library's docstrings
    # WHEN the API reference is built as `make docs` builds it
    # THEN it succeeds: no pdoc warning, no misread field, no broken link, no undocumented name
    assert api_build.returncode == 0, api_build.stderr
    assert (api_build.output / "index.html").is_file()
    assert "problem" not in api_build.stderr


def test_api_reference_documents_every_public_construct(api_build: ApiBuild) -> None:
    # GIVEN the built reference
    page = api_build.output / "constructs_lib.html"
    assert page.is_file(), api_build.stderr
    html = page.read_text(encoding="utf-8")
    # WHEN its sections are read
    # THEN every exported name has one, and reST fields render as a parameter list
    missing = [name for name in constructs_lib.__all__ if f'id="{name}"' not in html]
    assert missing == []
    assert 'id="AudienceModel.__init__"' in html
    assert "<strong>training_dataset</strong>" in html


def _fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> str:
    """An importable one-module package with ``source`` as its ``__init__.py``; its name."""
    name = f"fake_docs_{uuid.uuid4().hex[:8]}"  # unique: pdoc caches modules by name
    (tmp_path / "src" / name).mkdir(parents=True)
    (tmp_path / "src" / name / "__init__.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    return name


_CLEAN_SOURCE = '''"""A documented package."""

__all__ = ["Widget", "LIMIT"]

LIMIT = 3
"""How many widgets there may be."""


class Widget:
    """A widget.

    :param size: how big it is.
        Default: 1.
    """

    def __init__(self, size: int = 1) -> None:
        self.size = size
'''


def test_a_clean_fake_package_builds_without_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a package whose docstrings are all well formed (the baseline of the tests below)
    name = _fake_package(tmp_path, monkeypatch, _CLEAN_SOURCE)
    # WHEN its reference is built
    result = build_docs.build(name, tmp_path / "api")
    # THEN there is no problem
    assert result.problems == []
    assert (tmp_path / "api" / f"{name}.html").is_file()


def test_fails_if_pdoc_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an annotation pdoc cannot parse (pdoc warns and goes on)
    source = _CLEAN_SOURCE.replace("size: int = 1", 'size: "list[" = 1')
    name = _fake_package(tmp_path, monkeypatch, source)
    # WHEN the reference is built
    result = build_docs.build(name, tmp_path / "api")
    # THEN the warning is a problem, shown with its text
    assert len(result.problems) == 1
    assert "UserWarning" in result.problems[0]
    assert f"Error parsing type annotation list[ for {name}.Widget.__init__" in result.problems[0]


def test_fails_if_a_param_field_is_misread_by_pdoc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a :param: field with a second ":" on its first line, which pdoc misreads
    source = _CLEAN_SOURCE.replace(
        ":param size: how big it is.\n        Default: 1.",
        ":param size: how big it is. Default: 1.",
    )
    name = _fake_package(tmp_path, monkeypatch, source)
    # WHEN the reference is built
    result = build_docs.build(name, tmp_path / "api")
    # THEN the field is reported at its file and line, and pdoc did render it wrongly (should a
    # pdoc upgrade read it right, the last assertion fails: then drop the rule from the script)
    init = tmp_path / "src" / name / "__init__.py"
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"{init}:12: {name}.Widget: pdoc reads the name")
    html = (tmp_path / "api" / f"{name}.html").read_text(encoding="utf-8")
    assert "<strong>size: how big it is. Default</strong>" in html


def test_fails_if_a_field_names_no_parameter_or_is_not_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a :param: of a parameter that does not exist, and a :returns: field pdoc ignores
    source = _CLEAN_SOURCE.replace(
        ":param size:", ":param colour: its colour.\n    :returns: nothing.\n    :param size:"
    )
    name = _fake_package(tmp_path, monkeypatch, source)
    # WHEN the reference is built
    problems = build_docs.build(name, tmp_path / "api").problems
    # THEN both are reported
    assert len(problems) == 2
    assert f":param colour: names no parameter of {name}.Widget" in problems[0]
    assert "pdoc does not render the field :returns:" in problems[1]


def test_fails_if_an_exported_name_is_undocumented_or_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an exported constant without a docstring, and an exported name that does not exist
    source = _CLEAN_SOURCE.replace('"""How many widgets there may be."""\n', "").replace(
        '"LIMIT"]', '"LIMIT", "Gadget"]'
    )
    name = _fake_package(tmp_path, monkeypatch, source)
    # WHEN the reference is built
    problems = build_docs.build(name, tmp_path / "api").problems
    # THEN both are reported (pdoc also warns about the name it cannot resolve)
    assert len(problems) == 3
    assert f"Found 'Gadget' in {name}.__all__, but it does not resolve" in problems[0]
    assert problems[1:] == [
        f"{name}.LIMIT is exported but has no docstring",
        f"{name}.Gadget is exported but does not exist",
    ]


def test_fails_if_an_internal_link_is_broken(tmp_path: Path) -> None:
    # GIVEN a small generated tree: good links, and links to a missing page and missing ids
    (tmp_path / "pkg").mkdir()
    (tmp_path / "index.html").write_text(
        '<meta http-equiv="refresh" content="0; url=./pkg.html"/>', encoding="utf-8"
    )
    (tmp_path / "pkg.html").write_text(
        '<h1 id="top">pkg</h1><a href="#top">ok</a><a href="pkg/sub.html#Thing">ok</a>\n'
        '<a href="https://pdoc.dev">external</a><img src="data:image/png;base64,AA">\n'
        '<a href="#Nothing">same page</a>\n<a href="pkg/gone.html">missing page</a>\n'
        '<a href="pkg/sub.html#Other">missing id</a>',
        encoding="utf-8",
    )
    (tmp_path / "pkg" / "sub.html").write_text(
        '<section id="Thing"></section><a href="../pkg.html">up</a><a href="../../x.html">out</a>',
        encoding="utf-8",
    )
    # WHEN the links are checked
    problems = build_docs.check_links(tmp_path)
    # THEN exactly the four broken ones are reported, with page and line
    assert problems == [
        f"pkg/sub.html:1: '../../x.html' points outside {tmp_path.resolve()}",
        "pkg.html:3: '#Nothing': no id 'Nothing' in pkg.html",
        "pkg.html:4: 'pkg/gone.html': no such file pkg/gone.html",
        "pkg.html:5: 'pkg/sub.html#Other': no id 'Other' in pkg/sub.html",
    ]


def test_fails_if_the_redirect_of_the_index_is_broken(tmp_path: Path) -> None:
    # GIVEN an index page redirecting to a page that is not there
    (tmp_path / "index.html").write_text(
        '<meta http-equiv="refresh" content="0; url=./gone.html"/>', encoding="utf-8"
    )
    # WHEN the links are checked
    # THEN the redirect is reported
    assert build_docs.check_links(tmp_path) == [
        "index.html:1: './gone.html': no such file gone.html"
    ]


def test_fails_if_the_output_folder_holds_files_the_build_did_not_write(tmp_path: Path) -> None:
    # GIVEN an output folder holding someone's file
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    # WHEN the reference is built into it
    # THEN the build refuses, and the file is kept
    with pytest.raises(SystemExit, match="was not written by this script"):
        build_docs.build("constructs_lib", tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


# ---------------------------------------------------------------------------------------------
# Links of the Markdown pages


@pytest.mark.parametrize(
    "page", docs_pages(), ids=[p.relative_to(ROOT).as_posix() for p in docs_pages()]
)
def test_relative_links_resolve(page: Path) -> None:
    # GIVEN a page of the docs
    # WHEN its relative links are followed
    # THEN each reaches a file or folder of the repository, and each #anchor a heading there
    assert broken_links(page) == []


def test_docs_pages_include_the_readme_and_the_docs_folder() -> None:
    # GIVEN the repository
    # WHEN the pages whose links are checked are listed
    pages = {p.relative_to(ROOT).as_posix() for p in docs_pages()}
    # THEN the README, the docs folder and the consumer example are among them
    assert {"README.md", "docs/aws-assumptions.md", "examples/consumer/README.md"} <= pages


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_fails_if_a_link_points_at_a_missing_file(tmp_path: Path) -> None:
    # GIVEN a page with good links, links that are never checked, and two broken links
    _write(tmp_path, "docs/there.md", "# There\n")
    _write(tmp_path, "examples/app/README.md", "# App\n")
    page = _write(
        tmp_path,
        "README.md",
        "See [there](docs/there.md), [the app](examples/app/), [root](/docs/there.md),\n"
        "[AWS](https://aws.amazon.com), [mail](mailto:a@example.com), `[code](nowhere.md)`.\n"
        "```markdown\n[fenced](nowhere.md)\n```\n"
        "[missing](docs/missing.md) and ![image](img/logo.png)\n"
        "[outside](../elsewhere.md)\n",
    )
    # WHEN its links are checked
    problems = broken_links(page, tmp_path)
    # THEN only the broken ones are reported, with their line
    assert problems == [
        "README.md:6: (docs/missing.md): no such file or folder docs/missing.md",
        "README.md:6: (img/logo.png): no such file or folder img/logo.png",
        "README.md:7: (../elsewhere.md) points outside the repository",
    ]


def test_fails_if_an_anchor_matches_no_heading(tmp_path: Path) -> None:
    # GIVEN a target page with headings (one repeated), and links to its anchors
    _write(
        tmp_path,
        "docs/target.md",
        "# Target page\n\n## Use it: `make docs` & more\n\n## Notes\n\n## Notes\n\n"
        'Setext heading\n--------------\n\n<a id="custom"></a>\n',
    )
    page = _write(
        tmp_path,
        "docs/page.md",
        "# Page\n\n[a](target.md#use-it-make-docs--more) [b](target.md#notes-1) "
        "[c](target.md#setext-heading) [d](target.md#custom) [e](#page)\n"
        "[f](target.md#Notes) [g](target.md#notes-2) [h](#nowhere) [i](target.md#L3)\n",
    )
    # WHEN its links are checked
    problems = broken_links(page, tmp_path)
    # THEN the anchors no heading produces are reported (anchors are case-sensitive)
    assert problems == [
        "docs/page.md:4: (target.md#Notes): no heading or anchor #Notes in docs/target.md",
        "docs/page.md:4: (target.md#notes-2): no heading or anchor #notes-2 in docs/target.md",
        "docs/page.md:4: (#nowhere): no heading or anchor #nowhere in docs/page.md",
        "docs/page.md:4: (target.md#L3): no heading or anchor #L3 in docs/target.md",
    ]


def test_fails_if_a_link_points_at_a_file_git_ignores(tmp_path: Path) -> None:
    # GIVEN a git checkout whose build/ folder is ignored, and a link into it
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _write(tmp_path, ".gitignore", "build/\n")
    _write(tmp_path, "build/api/index.html", "<html></html>")
    _write(tmp_path, "app.py", "print('app')\n")
    page = _write(tmp_path, "README.md", "[api](build/api/index.html) [app](app.py#L1)\n")
    # WHEN its links are checked
    # THEN the link to the generated file is reported (it is not in a clone)
    assert broken_links(page, tmp_path) == [
        "README.md:1: (build/api/index.html) is ignored by git, so not in a clone"
    ]


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        (
            "Clean Rooms ML & Bedrock constructs (Python)",
            "clean-rooms-ml--bedrock-constructs-python",
        ),
        ("`add_compliance_checks(app)`", "add_compliance_checksapp"),
        ("Quality gates: all inside `make test`", "quality-gates-all-inside-make-test"),
        ("[AudienceModel](x.md) and *the* **queue**", "audiencemodel-and-the-queue"),
        ("What's new in 2.0?", "whats-new-in-20"),
        ("Größe und Übersicht", "größe-und-übersicht"),
        ("_emphasis_ vs snake_case", "emphasis-vs-snake_case"),
    ],
)
def test_headings_are_slugged_as_github_does(heading: str, slug: str) -> None:
    # GIVEN a heading  WHEN it is slugged  THEN the anchor is GitHub's
    assert github_slug(heading) == slug


def test_links_and_fences_are_read_with_their_lines() -> None:
    # GIVEN Markdown with a multi-line link text, a reference definition and a tilde fence
    text = (
        'Intro [a\nlink](one.md "title") and [ref][r].\n\n[r]: <two words.md>\n'
        "[^1]: a footnote, not a link\n<!-- [hidden](three.md) -->\n"
        "~~~~python\n```\nnot a fence end\n~~~~\n"
    )
    # WHEN links and fences are read
    # THEN each is found, at the line it is on
    assert [(link.line, link.target) for link in links(text)] == [
        (2, "one.md"),
        (4, "two words.md"),
    ]
    assert fences(text) == [Fence("python", 7, "```\nnot a fence end\n", runnable=False)]
    assert anchors("# A\n```\n# not a heading\n```\n") == {"a"}


# ---------------------------------------------------------------------------------------------
# Runnable blocks


def _runnable_python() -> list[Any]:
    params = []
    for page in docs_pages():
        relative = page.relative_to(ROOT).as_posix()
        python = [
            fence
            for fence in fences(page.read_text(encoding="utf-8"))
            if fence.runnable and fence.language == "python"
        ]
        for index, fence in enumerate(python, start=1):
            params.append(pytest.param(page, fence, id=f"{relative}-block{index}-line{fence.line}"))
    return params


def run_block(
    page: Path, fence: Fence, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Run a block as a program: fresh namespace, ``__main__``, cwd and CDK_OUTDIR temporary.

    The code is compiled with the Markdown file's name and line numbers, so a traceback points
    at the page. jsii's Node process started before this test and does not see the
    ``CDK_OUTDIR`` set here, so an ``App`` created without ``outdir`` is given that folder (what
    the CDK CLI does through the variable).
    """
    outdir = workdir / "cdk.out"
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("CDK_OUTDIR", str(outdir))
    original_init = cdk.App.__init__

    def init(self: cdk.App, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("outdir") is None:
            kwargs["outdir"] = os.environ["CDK_OUTDIR"]
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(cdk.App, "__init__", init)
    code = compile("\n" * fence.line + fence.code, str(page), "exec")
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(workdir / "app.py")}
    exec(code, namespace)
    return namespace


@pytest.mark.parametrize(("page", "fence"), _runnable_python())
def test_runnable_python_block_runs(
    page: Path, fence: Fence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a ```python block marked runnable
    # WHEN it runs as a complete program
    run_block(page, fence, tmp_path, monkeypatch)
    # THEN it finishes without an exception, having synthesized an app
    assert (tmp_path / "cdk.out" / "manifest.json").is_file(), "the block never called app.synth()"


def test_readme_or_docs_hold_a_runnable_python_block() -> None:
    # GIVEN the README and the docs  WHEN their runnable python blocks are collected
    # THEN there is at least one (the test above must not pass on nothing)
    assert _runnable_python() != []


def test_fails_if_a_runnable_python_block_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a runnable block that fails on its third line
    page = _write(
        tmp_path,
        "docs/page.md",
        "# Page\n\n<!-- runnable -->\n```python\nimport aws_cdk as cdk\n"
        "app = cdk.App()\nraise RuntimeError('boom')\n```\n",
    )
    [fence] = fences(page.read_text(encoding="utf-8"))
    assert fence.runnable
    workdir = tmp_path / "work"
    workdir.mkdir()
    # WHEN it runs
    with pytest.raises(RuntimeError, match="boom") as raised:
        run_block(page, fence, workdir, monkeypatch)
    # THEN the failure names the page and the line of the Markdown file
    frame = traceback.extract_tb(raised.value.__traceback__)[-1]
    assert (frame.filename, frame.lineno) == (str(page), 7)


def test_runnable_python_block_writes_into_the_temporary_outdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a runnable block that synthesizes an app without naming an outdir
    page = _write(
        tmp_path,
        "page.md",
        "<!-- runnable -->\n```python\nimport aws_cdk as cdk\napp = cdk.App()\n"
        "cdk.Stack(app, 'S')\nassembly = app.synth()\nimport os\ncwd = os.getcwd()\n```\n",
    )
    [fence] = fences(page.read_text(encoding="utf-8"))
    workdir = tmp_path / "work"
    workdir.mkdir()
    # WHEN it runs
    namespace = run_block(page, fence, workdir, monkeypatch)
    # THEN it ran as __main__ in the temporary folder, and synthesized into CDK_OUTDIR
    assert namespace["__name__"] == "__main__"
    assert namespace["cwd"] == str(workdir)
    assert namespace["assembly"].directory == str(workdir / "cdk.out")


def test_runnable_markers_are_where_a_test_runs_the_block() -> None:
    # GIVEN every Markdown file of the repository
    # WHEN the runnable markers are read
    problems = [problem for page in markdown_files() for problem in marker_problems(page)]
    # THEN each marks a python block, or a bash block in a file whose test runs it
    assert problems == []


def test_fails_if_a_runnable_bash_block_is_outside_the_allowed_files(tmp_path: Path) -> None:
    # GIVEN runnable bash blocks in an allowed file and in another, a marker before a console
    # block, a marker separated from its fence, and a marker shown inside a fence
    bash = "<!-- runnable -->\n```bash\nmake docs\n```\n"
    allowed = _write(tmp_path, "docs/install.md", bash)
    other = _write(
        tmp_path,
        "docs/other.md",
        bash + "<!-- runnable -->\n```console\n$ ls\n```\n<!-- runnable -->\n\n```python\n```\n"
        "````markdown\n<!-- runnable -->\n```python\n````\n",
    )
    # WHEN the markers are checked
    # THEN the allowed file passes and the other file's three misplaced markers are reported
    assert marker_problems(allowed, tmp_path) == []
    assert marker_problems(other, tmp_path) == [
        "docs/other.md:2: a runnable bash block, allowed only in docs/example-app.md, "
        "docs/install.md, docs/runbook.md, examples/consumer/README.md (whose tests run them)",
        "docs/other.md:6: <!-- runnable --> before a 'console' block, which no test runs "
        "(only python, and bash in the allowed files)",
        "docs/other.md:9: <!-- runnable --> is not on the line just before a fence",
    ]
