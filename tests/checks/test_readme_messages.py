"""The README's synth-time error examples are the messages the code makes, word for word."""

from __future__ import annotations

from pathlib import Path

from tests.checks.readme_messages import messages

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_quotes_each_message_exactly() -> None:
    # GIVEN the README's "Bad input fails at synth time" section
    text = README.read_text()
    section = text[text.index("## Bad input fails at synth time") :]
    block = section.split("```\n", 2)[1]
    # WHEN each documented mistake is made in code THEN the README holds its message verbatim
    assert block.splitlines() == messages()
