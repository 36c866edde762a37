"""Vendor text made safe for a terminal or a log line.

A status page's name, a component or an incident title is text from someone else: an ESC
sequence in it could clear the screen, hide what follows or plant an OSC 8 link; a CR could
overwrite the line; a newline in a title would forge a second line in the ``watch`` log. Every
control character (C0, DEL, C1, and the Unicode line and paragraph separators) is shown as a
visible escape (``\\x1b``); tabs, CRs and newlines become a space in one-line output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# C0 (but tab and newline, handled apart), DEL, C1, NEL's neighbours, LS/PS, and the bidi
# overrides and isolates that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\t\n\r]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with no control character left: one line unless ``keep_newlines``."""
    text = text.replace("\t", " ").replace("\r", " ") if keep_newlines else _LINE_BREAKS.sub(" ", text)
    return _CONTROL.sub(_visible, text)


def safe_console_class() -> type[Any]:
    """A rich Console whose every printed text segment goes through ``terminal_safe``.

    Rich keeps ESC in text it prints (it strips only BEL, BS, VT, FF and CR), so vendor text in a
    table cell would reach the terminal raw. Filtering segments, after layout and before rich adds
    its own styling codes, covers every table and line printed through ``cli.console()``."""
    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def _render_buffer(self, buffer: Iterable[Segment]) -> str:
            cleaned = (segment if segment.control else
                       Segment(terminal_safe(segment.text, keep_newlines=True), segment.style)
                       for segment in buffer)
            return super()._render_buffer(cleaned)

    return SafeConsole
