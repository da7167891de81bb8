"""Print the size of every library module and of its largest class (lines), largest first.

Used to keep the layout readable: the target is no module over about 400 lines and no class over
about 250 (see docs/contributing.md, "Layout"). Usage: ``python scripts/module_sizes.py
[--over]``; with ``--over`` only the modules or classes above the target are listed and the exit
status is 1 when there are any.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE_TARGET = 400
CLASS_TARGET = 250


def sizes() -> list[tuple[str, int, str, int]]:
    """(module path, lines, largest class name, its lines) for every module of the library."""
    rows = []
    for path in sorted([*ROOT.glob("constructs_lib/**/*.py"), *ROOT.glob("lambda/*.py")]):
        text = path.read_text()
        largest = ("", 0)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                largest = max(largest, (node.name, length), key=lambda item: item[1])
        rows.append((str(path.relative_to(ROOT)), len(text.splitlines()), *largest))
    return sorted(rows, key=lambda row: -row[1])


def main(argv: list[str]) -> int:
    over_only = "--over" in argv
    rows = sizes()
    if over_only:
        rows = [r for r in rows if r[1] > MODULE_TARGET or r[3] > CLASS_TARGET]
    for module, lines, cls, cls_lines in rows:
        print(f"{lines:5d}  {module:55s} {cls_lines:5d}  {cls}")
    return 1 if over_only and rows else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
