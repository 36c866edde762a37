"""What adapters share to read bodies: JSON and HTML sniffing, times in every format pages use,
text and URL helpers, and the ordering and worst-of rules for notices and components."""

from __future__ import annotations

import codecs
import html as html_lib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from aggregator.errors import (
    AdapterError,
    LoginRequiredError,
    NotJSONError,
    PageInactiveError,
    ParseError,
)
from aggregator.page.model import Component, Incident, Maintenance, Update
from aggregator.page.vocab import (
    IMPACT_TO_STATUS,
    SEVERITY,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    worst_status,
)

_TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)


def decode_text(body: bytes) -> str:
    """Bytes to text, honouring a BOM (UTF-8, UTF-16 LE/BE, UTF-32) and sniffing BOM-less UTF-16."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace")
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    if len(body) >= 2 and body[0] == 0 and body[1] != 0:
        return body.decode("utf-16-be", errors="replace")
    if len(body) >= 2 and body[0] != 0 and body[1] == 0:
        return body.decode("utf-16-le", errors="replace")
    return body.decode("utf-8", errors="replace")


def classify_html(body: bytes) -> AdapterError:
    """Name what an HTML body is, for a clear error where JSON was expected."""
    match = _TITLE_RE.search(body[:20000])
    title = html_lib.unescape(match.group(1).decode("utf-8", "replace")).strip() if match else ""
    low = title.lower()
    if low.endswith("page inactive") or "page inactive" in low:
        return PageInactiveError(f"the status page is inactive ({title!r})")
    # Statuspage titles private pages "<Name> - Login"; "Login.gov Status" is a real status page.
    if re.search(r"(^|[-|:\u2013]\s*)(log ?in|sign ?in)(\s*$|\s*[-|:\u2013])", low):
        return LoginRequiredError(f"the status page needs a login ({title!r})")
    shown = f" ({title!r})" if title else ""
    return NotJSONError(f"got an HTML page instead of JSON{shown}")


def looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<meta", b"<title"))


def load_json(body: bytes, what: str = "document") -> Any:
    """Parse a JSON body; HTML, JSONP wrappers, BOMs and UTF-16 are handled, anything else is an AdapterError."""
    if not body or not body.strip():
        raise ParseError(f"empty {what}")
    if looks_like_html(body):
        raise classify_html(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    text = decode_text(body).strip()
    if looks_like_html(text.encode("utf-8", "replace")):
        raise classify_html(text.encode("utf-8", "replace"))
    jsonp = re.match(r"^[\w.$]+\s*\((.*)\)\s*;?\s*$", text, re.S)
    if jsonp:
        text = jsonp.group(1)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"{what} is not valid JSON ({exc})"[:200]) from None


def expect_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def load_object(body: bytes, what: str) -> dict[str, Any]:
    """A JSON body that must be an object: ``load_json`` then ``expect_dict``, both naming ``what``."""
    return expect_dict(load_json(body, what), what)


def as_list(value: Any) -> list[Any]:
    """A JSON array, or empty for null / missing / PHP's ``{}``-for-empty."""
    if isinstance(value, list):
        return value
    return []


def text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def int_or_none(value: Any) -> int | None:
    """A JSON integer (a position, an order), else None; ``true`` is not 1."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_JS_DATE_RE = re.compile(
    r"^\w{3} (\w{3}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT([+-]\d{4})"
)
_GO_TIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)? ([+-]\d{4})(?: [+-]?\w+)?$")
_US_DATE_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2})(?: ([A-Z]{2,4}))?$")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
# Zone abbreviations seen on status pages; RFC 822 ones are handled by email.utils.
ZONE_ABBREVIATIONS = {
    "UTC": 0, "GMT": 0, "Z": 0, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5,
    "EST": -5, "EDT": -4, "CET": 1, "CEST": 2, "BST": 1, "IST": 5.5, "JST": 9, "AEST": 10, "AEDT": 11,
}


def _offset(hhmm: str) -> timezone:
    sign = -1 if hhmm[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(hhmm[1:3]), minutes=int(hhmm[3:5])))


_NO_TIME = frozenset({"<no value>", "null", "None", "0001-01-01T00:00:00Z"})  # placeholders for "no time"
_EPOCH_RE = re.compile(r"-?\d+(\.\d+)?")


def parse_time(value: Any, default_tz: str | None = None) -> datetime | None:
    """Any timestamp a status page uses -> aware UTC datetime, or None if absent or unreadable.

    Accepts ISO 8601 (with offset, ``Z`` or naive), epoch seconds or milliseconds (number or
    string), RFC 822, JavaScript ``Date.toString()``, Go's ``2006-01-02 15:04:05 -0700 MST`` and
    ``MM/DD/YYYY HH:MM PDT``. A naive time is read in ``default_tz`` (IANA name), else UTC.
    """
    if value.__class__ is str and value[4:5] == "-" and value not in _NO_TIME:
        # The common case (RFC 3339, as nearly every JSON API sends), without the checks below.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=_zone(default_tz))
            try:
                return parsed.astimezone(UTC)
            except (OverflowError, ValueError):
                return None
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text in _NO_TIME:
        return None
    if _EPOCH_RE.fullmatch(text):
        return _from_epoch(float(text))
    parsed = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None and (m := _GO_TIME_RE.match(text)):
        parsed = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{m.group(3) or ''}").replace(
            tzinfo=_offset(m.group(4)))
    if parsed is None and (m := _JS_DATE_RE.match(text)):
        month = _MONTHS.get(m.group(1))
        if month:
            parsed = datetime(int(m.group(3)), month, int(m.group(2)), int(m.group(4)), int(m.group(5)),
                              int(m.group(6)), tzinfo=_offset(m.group(7)))
    if parsed is None and (m := _US_DATE_RE.match(text)):
        parsed = datetime(int(m.group(3)), int(m.group(1)), int(m.group(2)), int(m.group(4)), int(m.group(5)))
        if m.group(6) in ZONE_ABBREVIATIONS:
            parsed = parsed.replace(tzinfo=timezone(timedelta(hours=ZONE_ABBREVIATIONS[m.group(6)])))
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_zone(default_tz))
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _zone(name: str | None) -> Any:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _from_epoch(number: float) -> datetime | None:
    if number <= 0:
        return None
    if number > 1e11:  # milliseconds
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


_TAG_RE = re.compile(r"<[^>]+>")


def strip_html(text: str | None) -> str:
    """Markup to plain text: tags dropped, ``<br>``/``<p>`` to newlines, entities decoded."""
    if not text:
        return ""
    text = re.sub(r"(?i)<br\s*/?>|</p>|</li>|</div>", "\n", text)
    text = _TAG_RE.sub("", text)
    text = html_lib.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def site_root(url: str) -> str:
    """``https://status.example.com/some/path?x`` -> ``https://status.example.com/some/path``."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme or "https", parts.netloc, path, "", ""))


def join_url(base_url: str, path: str) -> str:
    return f"{site_root(base_url)}/{path.lstrip('/')}"


def first(values: Iterable[Any], default: Any = None) -> Any:
    return next(iter(values), default)


def word_key(value: Any) -> str:
    """A platform's status word normalised for table lookups.

    ``"Partial Outage"``, ``"partial-outage"`` and ``" PARTIAL_OUTAGE "`` all become
    ``"partial_outage"``; numbers become their decimal text (``100`` -> ``"100"``, ``-1`` -> ``"-1"``).
    """
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().lower()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text  # a code such as -1 keeps its sign
    return re.sub(r"[\s\-]+", "_", text)


# ------------------------------------------------------------------------------------------------
# Shared snapshot helpers: ordering, status tables, the page's overall state
# ------------------------------------------------------------------------------------------------

def epoch_seconds(when: datetime | None) -> float:
    """Seconds since the epoch for sorting; no time counts as 0 (the oldest)."""
    return when.timestamp() if when else 0.0


def notice_sort_key(notice: Incident | Maintenance) -> tuple[float, str]:
    """Sort key that puts the newest incident or maintenance first (then by id, for stable output).

    "Newest" is the start time, else the scheduled start (maintenances), else the last update.
    """
    when = notice.started_at
    if when is None and isinstance(notice, Maintenance):
        when = notice.scheduled_for
    when = when or notice.updated_at
    return (-epoch_seconds(when), notice.id)


def started_sort_key(notice: Incident | Maintenance) -> float:
    """Sort key for the latest start first; notices without a start go last, ties keep their order."""
    return -epoch_seconds(notice.started_at)


def by_kind_newest_first(notices: Iterable[Incident | Maintenance]) -> tuple[list[Incident], list[Maintenance]]:
    """Incidents and maintenances apart, each sorted by ``notice_sort_key``."""
    listed = list(notices)
    incidents = [n for n in listed if isinstance(n, Incident)]
    maintenances = [n for n in listed if isinstance(n, Maintenance)]
    return sorted(incidents, key=notice_sort_key), sorted(maintenances, key=notice_sort_key)


def latest_update(notice_id: str, status: IncidentStatus | MaintenanceStatus, raw_status: str | None, body: str,
                  when: datetime | None) -> Update:
    """The update of a source that shows only a notice's latest post; its id moves with its time."""
    return Update(id=f"{notice_id}@{when.isoformat() if when else 'latest'}", status=status.value,
                  raw_status=raw_status, body=body, created_at=when)


def sort_updates(updates: list[Update]) -> None:
    """Sort updates in place, newest first; undated ones go last and ties keep their order."""
    updates.sort(key=lambda u: epoch_seconds(u.created_at), reverse=True)


# The component ladder read as incident impacts (the inverse of IMPACT_TO_STATUS).
STATUS_TO_IMPACT: dict[ComponentStatus, Impact] = {status: impact for impact, status in IMPACT_TO_STATUS.items()}


def impacts_of(statuses: Mapping[str, ComponentStatus]) -> dict[str, Impact]:
    """The impact each word of a platform's status table implies (words of unknown state have none)."""
    return {word: STATUS_TO_IMPACT[status] for word, status in statuses.items() if status in STATUS_TO_IMPACT}


def open_impact_status(impact: Impact) -> ComponentStatus:
    """What an open incident of ``impact`` says about its components now; one of no stated impact
    still says something is wrong (degraded performance)."""
    return IMPACT_TO_STATUS[impact] if impact is not Impact.none else ComponentStatus.degraded_performance


def keep_worst(components: dict[str, Component], component: Component) -> None:
    """File ``component`` under its id unless an equally or more severe one is there already."""
    known = components.get(component.id)
    if known is None or SEVERITY[component.status] > SEVERITY[known.status]:
        components[component.id] = component


def stated_or_worst(stated: ComponentStatus | None, components: Iterable[Component]) -> ComponentStatus:
    """A page's overall state: its own word when that says something (not None or unknown), else
    the worst state of its components, else unknown."""
    if stated is not None and stated is not ComponentStatus.unknown:
        return stated
    statuses = [c.status for c in components]
    return worst_status(statuses) if statuses else ComponentStatus.unknown
