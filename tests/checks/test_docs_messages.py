"""docs/validation.md's synth-time error examples are the messages the code makes, word for word."""

from __future__ import annotations

import re

import pytest

from tests.checks.docs_messages import messages
from tests.conftest import ROOT

PAGE = ROOT / "docs" / "validation.md"
SECTION = "## Messages you will see"


def quoted_messages(text: str) -> list[str]:
    """The lines of the first fenced block under the section heading."""
    if SECTION not in text:
        raise ValueError(f"no {SECTION!r} section")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```[a-z]*\n(.*?)^```", section, re.DOTALL | re.MULTILINE)
    if block is None:
        raise ValueError(f"no fenced block under {SECTION!r}")
    return block.group(1).splitlines()


def test_page_quotes_each_message_exactly() -> None:
    # GIVEN the messages docs/validation.md shows
    quoted = quoted_messages(PAGE.read_text())
    # WHEN each documented mistake is made in code
    made = messages()
    # THEN the page holds every message verbatim, in the same order
    assert quoted == made


def test_fails_if_a_quoted_message_differs_from_the_code() -> None:
    # GIVEN the page with one word of one message changed
    text = PAGE.read_text().replace("must end with '/'", "must end with a slash", 1)
    # WHEN its messages are read
    quoted = quoted_messages(text)
    # THEN they no longer match what the code makes
    assert quoted != messages()


def test_fails_if_the_section_is_missing() -> None:
    # GIVEN a page without the section
    text = PAGE.read_text().replace(SECTION, "## Some other heading")
    # WHEN its messages are read THEN the check says which section it looked for
    with pytest.raises(ValueError, match="Messages you will see"):
        quoted_messages(text)
