"""Text for a terminal: what a file says is shown, never obeyed.

A log line can carry escape sequences that a terminal acts on: OSC sets the window title or
writes the clipboard (OSC 52), CSI moves the cursor and clears the screen, and bidi controls
reorder what is read. The CLI and the shell print evidence, so everything they print goes
through `printable`: escape sequences and control characters are removed (tabs and line
breaks stay), and bidi controls become visible as `<U+202E>`.
"""

from __future__ import annotations

import re

import typer

# OSC (ESC ] … BEL or ESC \), DCS/SOS/PM/APC strings, CSI (ESC [ … final byte), other ESC
# pairs, then any C0 or C1 control character left but tab and line feed.
_SEQUENCES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def printable(text: str) -> str:
    """`text` with escape sequences and control characters removed, bidi controls shown."""
    text = _SEQUENCES.sub("", text)
    return _BIDI.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", text)


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """typer.echo for anything that may hold text from evidence or from people."""
    typer.echo(printable(text), err=err, nl=nl)
