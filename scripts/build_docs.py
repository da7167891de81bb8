"""Build the HTML API reference of ``constructs_lib`` with pdoc, and check it.

Usage: ``python scripts/build_docs.py [--output build/api] [--package constructs_lib]``
(``make docs``). The reference is rendered from the docstrings (reStructuredText: ``:param x:``
fields, ``Example::`` blocks). The build fails, listing every problem, when:

- pdoc emits a warning while reading or rendering the package (an unresolvable annotation, an
  include that fails, ...), or a docstring holds a reST field pdoc renders wrongly: pdoc 16
  reads a ``:param name:`` field's name up to the *last* colon of the line, so
  ``:param name: up to 63 characters. Default: derived`` shows the parameter as
  "name: up to 63 characters. Default". Such fields are reported as ``DocstringWarning``, with
  the file and line of the field;
- a link inside the generated HTML (``href``/``src`` to another generated file, or a
  ``#fragment``) points at a file or an id that is not there;
- a name exported in the package's ``__all__`` is missing from the reference or has no
  docstring.

The checking functions take paths and names, so tests run them on small fake packages and HTML
trees.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import re
import shutil
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pdoc.doc
import pdoc.extract
import pdoc.render

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = Path("build/api")
DEFAULT_PACKAGE = "constructs_lib"
# Written into the output folder: a folder holding it is ours to empty before a rebuild (stale
# pages would otherwise satisfy the link check).
MARKER = ".build_docs"


class DocstringWarning(UserWarning):
    """A docstring that pdoc would render wrongly."""


# The reST field rule of pdoc 16.0.0 (pdoc.docstrings._rst_fields, first line only): a field is
# recognised only at the start of a line, and its name runs to the last ":" of that line.
_PDOC_FIELD = re.compile(r"^:(?P<type>param|type|return|rtype|raises)(?:[ ]+(?P<name>.+))?:")
# The same line read as reST does: the field name ends at the first ":" followed by a space.
_REST_FIELD = re.compile(
    r"^(?P<indent>[ \t]*):(?P<type>[A-Za-z]+)(?:[ ]+(?P<name>[^:`]+?))?:(?=\s|$)"
)
_NAMED_FIELDS = frozenset({"param", "type", "raises"})
_UNNAMED_FIELDS = frozenset({"return", "rtype"})
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_REFRESH_URL = re.compile(r"url\s*=\s*(?P<url>\S+)", re.IGNORECASE)


@dataclass
class Build:
    """What one build produced: the pages written, and every problem found."""

    pages: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _use_project_node() -> None:
    """Run jsii on the project's pinned Node 22 (as the Makefile and tests/conftest.py do)."""
    node_bin = ROOT / "node_modules" / ".bin"
    path = os.environ.get("PATH", "")
    if node_bin.is_dir() and not path.startswith(str(node_bin)):
        os.environ["PATH"] = f"{node_bin}{os.pathsep}{path}"


def _prepare_output(output: Path) -> None:
    if output.exists():
        if not output.is_dir():
            raise SystemExit(f"build_docs: {output} exists and is not a folder")
        if any(output.iterdir()) and not (output / MARKER).exists():
            raise SystemExit(
                f"build_docs: {output} is not empty and was not written by this script; "
                "choose another --output or empty it"
            )
        shutil.rmtree(output)
    output.mkdir(parents=True)
    (output / MARKER).write_text("Written by scripts/build_docs.py; emptied on every build.\n")


def _format_warning(caught: warnings.WarningMessage) -> str:
    message = str(caught.message).strip()
    if issubclass(caught.category, DocstringWarning):
        return f"{caught.filename}:{caught.lineno}: {message}"
    return f"{caught.category.__name__} (from {caught.filename}:{caught.lineno}): {message}"


def render(package: str, output: Path) -> Build:
    """Render ``package`` and its public submodules into ``output``; collect warnings.

    The package and every name of its ``__all__`` (which may load lazily) are imported before
    the warnings are captured: an import failure is an error of its own (it raises), and
    warnings raised by importing third-party libraries are not documentation problems.
    """
    imported = importlib.import_module(package)
    for name in getattr(imported, "__all__", ()):
        getattr(imported, name, None)  # load lazily exported names (and aws_cdk) here
    _prepare_output(output)
    pdoc.render.configure(
        docformat="restructuredtext",
        footer_text=package,
        search=True,
        show_source=True,
    )
    build = Build()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        modules = {
            name: pdoc.doc.Module.from_name(name) for name in pdoc.extract.walk_specs([package])
        }
        for module in modules.values():
            check_docstring_fields(module)
            page = output / f"{module.fullname.replace('.', '/')}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(pdoc.render.html_module(module, modules), encoding="utf-8")
            build.pages.append(page)
        index = pdoc.render.html_index(modules)
        if index:
            (output / "index.html").write_text(index, encoding="utf-8")
            build.pages.append(output / "index.html")
        search = pdoc.render.search_index(modules)
        if search:
            (output / "search.js").write_text(search, encoding="utf-8")
    build.problems.extend(_format_warning(w) for w in caught)
    build.problems.extend(check_public_names(modules[package], output))
    return build


def _documented_objects(
    namespace: pdoc.doc.Module | pdoc.doc.Class,
) -> Iterator[pdoc.doc.Doc[Any]]:
    """Every object pdoc renders with its own docstring, below ``namespace`` (included)."""
    yield namespace
    for member in namespace.own_members:
        if isinstance(member, pdoc.doc.Class):
            yield from _documented_objects(member)
        elif not isinstance(member, pdoc.doc.Module):
            yield member


def _parameter_names(obj: pdoc.doc.Doc[Any]) -> set[str] | None:
    """The names a ``:param:`` field of this object may document (None: do not check)."""
    if not isinstance(obj, (pdoc.doc.Function, pdoc.doc.Class)):
        return set()
    try:
        parameters = inspect.signature(obj.obj).parameters
    except (TypeError, ValueError):
        return None
    return {name for name in parameters if name not in ("self", "cls")}


def _field_line(obj: pdoc.doc.Doc[Any], text: str) -> tuple[str, int]:
    """The source file and line of ``text`` (a docstring line) inside ``obj``'s source."""
    filename = str(obj.source_file or obj.modulename)
    if obj.source_file is None or obj.source_lines is None:
        return filename, 0
    start, end = obj.source_lines
    lines = obj.source_file.read_text(encoding="utf-8").splitlines()
    for number in range(start, end + 1):
        if number <= len(lines) and lines[number - 1].strip() == text.strip():
            return filename, number
    return filename, start


def check_docstring_fields(module: pdoc.doc.Module) -> None:
    """Warn (``DocstringWarning``) about reST fields pdoc would render wrongly.

    - a field whose name pdoc reads differently from reST (a ``:`` later on its first line);
    - a field pdoc does not render as a field (an unknown kind such as ``:returns:``, or an
      indented field, which pdoc leaves as text);
    - a ``:param x:`` or ``:raises`` field without a name, or naming a parameter the
      signature does not have.
    """
    for obj in _documented_objects(module):
        docstring = obj.docstring
        if ":" not in docstring:
            continue
        parameters = _parameter_names(obj)
        for line in docstring.splitlines():
            rest = _REST_FIELD.match(line)
            if not rest:
                continue
            kind, name = rest["type"], (rest["name"] or "").strip()
            problem = None
            if kind not in _NAMED_FIELDS | _UNNAMED_FIELDS:
                problem = (
                    f"pdoc does not render the field :{kind}: (use :param:, :raises:, :return:)"
                )
            elif rest["indent"]:
                problem = f"pdoc renders the indented field :{kind}: as text; start it at column 0"
            elif kind in _NAMED_FIELDS and not name:
                problem = f"the field :{kind}: names nothing"
            else:
                pdoc_field = _PDOC_FIELD.match(line)
                pdoc_name = ((pdoc_field["name"] or "") if pdoc_field else "").strip()
                if pdoc_name != name:
                    problem = (
                        f"pdoc reads the name of this :{kind}: field as {pdoc_name!r}, not "
                        f"{name!r} (its first line holds another ':'); start the description "
                        "on the next line, indented"
                    )
                elif (
                    kind in ("param", "type")
                    and parameters is not None
                    and name.lstrip("*") not in parameters
                ):
                    problem = f":{kind} {name}: names no parameter of {obj.fullname}"
            if problem:
                filename, number = _field_line(obj, line)
                warnings.warn_explicit(
                    f"{obj.fullname}: {problem}: {line.strip()!r}",
                    DocstringWarning,
                    filename,
                    number,
                )


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            elif name in ("href", "src"):
                self.links.append((self.getpos()[0], value))
        # index.html of a one-module reference is a redirect: <meta content="0; url=./x.html">
        attributes = dict(attrs)
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            refresh = _REFRESH_URL.search(attributes.get("content") or "")
            if refresh:
                self.links.append((self.getpos()[0], refresh["url"].strip("'\"")))


def _parse_page(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def check_links(root: Path) -> list[str]:
    """Every internal ``href``/``src`` in the HTML under ``root`` that does not resolve.

    Links are ``href`` and ``src`` attributes and the address of a ``<meta http-equiv="refresh">``
    redirect. Internal means without a scheme (``https:``, ``data:``, ...) and not
    protocol-relative. The target must be a file under ``root`` (a folder stands for its
    ``index.html``); a ``#fragment`` must be an ``id`` (or ``<a name>``) of the target page (an
    empty one is the top of the page).
    """
    root = root.resolve()
    parsed: dict[Path, _PageParser] = {}

    def page_of(path: Path) -> _PageParser:
        if path not in parsed:
            parsed[path] = _parse_page(path)
        return parsed[path]

    problems: list[str] = []
    for page in sorted(root.rglob("*.html")):
        for line, link in page_of(page).links:
            if _URL_SCHEME.match(link) or link.startswith("//"):
                continue
            parts = urlsplit(link)
            where = f"{page.relative_to(root)}:{line}: {link!r}"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(root):
                problems.append(f"{where} points outside {root}")
                continue
            if not target.is_file():
                problems.append(f"{where}: no such file {target.relative_to(root)}")
                continue
            fragment = unquote(parts.fragment)
            if not fragment:
                continue
            if target.suffix != ".html":
                problems.append(f"{where}: #{fragment} on a file that is not a page")
            elif fragment not in page_of(target).ids:
                problems.append(f"{where}: no id {fragment!r} in {target.relative_to(root)}")
    return problems


def check_public_names(module: pdoc.doc.Module, root: Path) -> list[str]:
    """Every name of ``module.__all__`` missing from its page, or documented by no docstring."""
    public = getattr(module.obj, "__all__", None)
    if public is None:
        return [f"{module.fullname} defines no __all__: its public names are unknown"]
    page = root / f"{module.fullname.replace('.', '/')}.html"
    ids = _parse_page(page).ids if page.is_file() else set()
    problems: list[str] = []
    for name in public:
        member = module.get(name)
        if not hasattr(module.obj, name):
            problems.append(f"{module.fullname}.{name} is exported but does not exist")
        elif member is None or name not in ids:
            problems.append(f"{module.fullname}.{name} is exported but not in the reference")
        elif not member.docstring.strip():
            problems.append(f"{module.fullname}.{name} is exported but has no docstring")
    return problems


def build(package: str, output: Path) -> Build:
    """Render the reference, then check its links; the problems of both are in the result."""
    result = render(package, output)
    result.problems.extend(check_links(output))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default: build/api")
    parser.add_argument("--package", default=DEFAULT_PACKAGE, help="default: constructs_lib")
    args = parser.parse_args(argv)
    _use_project_node()
    # Document the checkout, not another installed copy of the package.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    result = build(args.package, args.output)
    if result.problems:
        print(
            f"API reference of {args.package}: {len(result.problems)} problem(s):", file=sys.stderr
        )
        for problem in result.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(
        f"API reference of {args.package}: {args.output / 'index.html'} ({len(result.pages)} pages)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
