"""One way to write a length of time everywhere: ``30s``, ``5m``, ``2h``, ``3d``, ``1w`` (or a bare
number of seconds), each use with its own bounds (a poll interval: 5 s to 1 day)."""

from __future__ import annotations

import math
import re

from aggregator.errors import UserError

UNITS = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d|w)?\s*")

INTERVAL_MIN = 5.0
INTERVAL_MAX = 86400.0


def parse_duration(text: str, *, what: str = "duration", minimum: float = 0.0,
                   maximum: float = math.inf) -> float:
    """Seconds in ``text`` (``30s``, ``5m``, ``2h``, ``3d``, ``1w``, ``300``); UserError, naming
    ``what`` and the bounds, for anything else."""
    m = _DURATION.fullmatch(text.lower())
    if not m:
        raise UserError(f"cannot read {what} {text!r} (write it like 30s, 5m, 2h or 3d)")
    seconds = float(m.group(1)) * UNITS[m.group(2)]
    if not minimum <= seconds <= maximum:
        raise UserError(f"{what} must be between {format_duration(minimum)} and {format_duration(maximum)}, "
                        f"not {text.strip()}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact spelling: 300 -> 5m, 86400 -> 1d, 90 -> 90s."""
    if math.isinf(seconds):
        return "forever"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
