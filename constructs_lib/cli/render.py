"""How the CLI writes: plain text, JSON for scripts (``--json``), and a display updated in place.

``Output`` is what every command handler writes to. ``Output.live()`` gives a ``Display``: with
``rich`` importable, stdout a terminal and ``NO_COLOR`` unset it redraws one block in place
(``rich.live``); otherwise it prints the lines that changed since the last update, as plain
lines a log or a pipe keeps. ``rich`` is an optional extra (``pip install
cleanrooms-ml-cdk-constructs[cli]``) and is imported only when the live display is used.
"""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TextIO


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if hasattr(value, "as_json"):
        return value.as_json()
    raise TypeError(f"not JSON: {value!r}")


def rich_usable(stream: TextIO) -> bool:
    """Whether the live display may use ``rich``: it is importable, ``stream`` is a terminal
    and ``NO_COLOR`` is unset (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return False
    return importlib.util.find_spec("rich") is not None


class Display(Protocol):
    """A block of lines shown while something runs; ``ticks``: redrawn in place, so worth
    updating as time passes."""

    ticks: bool

    def update(self, lines: Sequence[str]) -> None: ...


#: What only the passing of time changes in a line (``elapsed 3m05s``, ``after 1h02m``).
_TICKING = re.compile(r"\b(elapsed|after) [0-9hms]+")


class PlainDisplay:
    """Prints each line that is new or changed since the previous update; a line whose only
    change is a duration (``elapsed ...``, ``after ...``) is not printed again."""

    ticks = False

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown: set[str] = set()

    def update(self, lines: Sequence[str]) -> None:
        for line in lines:
            key = _TICKING.sub(r"\1", line)
            if key not in self._shown:
                self._stream.write(line + "\n")
                self._shown.add(key)
        self._stream.flush()


class RichDisplay:
    """Redraws the block in place with ``rich.live``."""

    ticks = True

    def __init__(self, live: Any) -> None:
        self._live = live

    def update(self, lines: Sequence[str]) -> None:
        text = importlib.import_module("rich.text").Text
        block = text()
        for index, line in enumerate(lines):
            if index:
                block.append("\n")
            block.append(line, style=_style(line))
        self._live.update(block, refresh=True)


def _style(line: str) -> str:
    """A line's colour by the status it shows first."""
    for status, style in (
        ("SUCCEEDED", "green"),
        ("RUNNING", "yellow"),
        ("PENDING", "dim"),
        ("NOT_RUN", "dim"),
        ("HANDED_OVER", "green"),
    ):
        if f": {status}" in line.split(" | ")[0]:
            return style
    if line.startswith("outcome:") or ": FAILED" in line or ": ABORTED" in line:
        return "red"
    return ""


class Output:
    """Where a command writes. ``json``: the command emits one JSON document (``emit``) instead
    of text (``print``)."""

    def __init__(self, *, json: bool = False, stream: TextIO | None = None) -> None:
        self.json = json
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def print(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def emit(self, obj: Any) -> None:
        self.stream.write(json.dumps(obj, indent=2, default=_json_default) + "\n")
        self.stream.flush()

    @contextmanager
    def live(self) -> Iterator[Display]:
        """A display updated in place in a terminal (``rich``), else plain changed lines."""
        if self.json or not rich_usable(self.stream):
            yield PlainDisplay(self.stream)
            return
        console = importlib.import_module("rich.console").Console(file=self.stream)
        live_class = importlib.import_module("rich.live").Live
        with live_class(console=console, auto_refresh=False, transient=False) as live:
            yield RichDisplay(live)


def table(rows: Sequence[Sequence[str]]) -> str:
    """Plain columns, the first row the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def duration(seconds: float | None) -> str:
    """``1h02m``, ``3m05s``, ``12s``; ``-`` for None."""
    if seconds is None:
        return "-"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def stamp(moment: datetime.datetime | None) -> str:
    """A UTC time, to the second; ``-`` for None."""
    if moment is None:
        return "-"
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
