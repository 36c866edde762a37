"""What every adapter is: the endpoints it GETs and a pure function from their bodies to a Snapshot.

Adapters never do I/O. ``Adapter.parse`` is the only entry point the engine calls; it guarantees
that an adapter returns a valid ``Snapshot`` or raises an ``AdapterError`` and nothing else, so a
hostile or broken page can never crash a poll.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import TypeAdapter

from aggregator.model import (
    IMPACT_TO_STATUS,
    SEVERITY,
    Component,
    ComponentStatus,
    Impact,
    Incident,
    IncidentStatus,
    Maintenance,
    MaintenanceStatus,
    Snapshot,
    Update,
    worst_status,
)


class AdapterError(Exception):
    """The body could not be turned into a snapshot. ``reason`` is one short line for users."""

    reason_code: ClassVar[str] = "parse_error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ParseError(AdapterError):
    reason_code = "parse_error"


class NotJSONError(AdapterError):
    """HTML (or other text) came back where JSON was expected."""

    reason_code = "not_json"


class PageInactiveError(AdapterError):
    reason_code = "page_inactive"


class LoginRequiredError(AdapterError):
    reason_code = "login_required"


class NotStatusPageError(AdapterError):
    reason_code = "not_status_page"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One URL an adapter wants fetched; ``key`` names the body when it is handed back."""

    key: str
    url: str
    required: bool = True
    accept: str = "application/json"


Bodies = Mapping[str, bytes]

_REGISTRY: dict[str, type[Adapter]] = {}


class Adapter:
    """Base class of every platform adapter; subclasses register themselves by ``platform``.

    Subclasses set the class attributes and implement ``endpoints`` and ``build``.
    """

    platform: ClassVar[str] = ""
    title: ClassVar[str] = ""
    # Which parts of the model this adapter fills: components, incidents, maintenances, updates, regions.
    reads: ClassVar[frozenset[str]] = frozenset()
    # Keys of the bodies ``build`` understands, in the order ``classify`` tries them.
    keys: ClassVar[tuple[str, ...]] = ("main",)
    # Parts of the model the platform itself does not have (part -> why), so that ``upstream
    # platforms`` says so instead of leaving users to wonder why none ever show up.
    lacks: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.platform:
            _REGISTRY[cls.platform] = cls

    # --- what to GET -------------------------------------------------------------------------
    def endpoints(self, base_url: str) -> list[Endpoint]:
        """The URLs to fetch for the current state of the page at ``base_url``."""
        raise NotImplementedError

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        """URLs that tell how incidents and maintenances that left the current view ended."""
        return []

    def more_endpoints(self, bodies: Bodies, base_url: str) -> list[Endpoint]:
        """Further URLs that the bodies of ``endpoints`` call for: the other pages of a paginated
        list. The engine fetches them once, after ``endpoints``, and hands every body to ``build``
        together; their keys must be among ``keys``. Most platforms answer in one document."""
        return []

    # --- bodies to snapshot --------------------------------------------------------------------
    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        raise NotImplementedError

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        return []

    def build_notices(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        """Every incident and maintenance ``build`` reads: the history of an adapter whose history
        endpoints answer in the format of its current view (``build_history = Adapter.build_notices``)."""
        snapshot = self.build(bodies, base_url)
        return [*snapshot.incidents, *snapshot.maintenances]

    def classify(self, body: bytes, filename: str = "") -> str:
        """Which endpoint key a saved body answers (used by ``upstream parse`` on files)."""
        return self.keys[0]

    def check_keys(self, bodies: Bodies) -> None:
        """ParseError unless there is a body and every body is under one of this adapter's keys."""
        if not bodies:
            raise ParseError(f"{self.platform}: nothing to parse")
        unknown = set(bodies) - set(self.keys)
        if unknown:
            raise ParseError(f"{self.platform}: unknown body keys {sorted(unknown)} (expected {self.keys})")

    def body(self, bodies: Bodies, key: str | None = None) -> bytes:
        """The body ``build`` reads under ``key`` (by default the adapter's first key), else ParseError.

        A body is taken only under its own key, never because it is the only one given: the engine
        keys bodies by endpoint and ``upstream parse`` by ``classify``, so a body under another key
        is a caller's mistake (or another document) and is refused, the same way by every adapter.
        """
        wanted = key or self.keys[0]
        found = bodies.get(wanted)
        if found is None:
            article = "an" if wanted[:1] in ("a", "e", "i", "o", "u") else "a"
            raise ParseError(f"{self.platform}: expected {article} {wanted!r} body, got {sorted(bodies)}")
        return found

    def parse(self, bodies: Bodies, base_url: str | None = None) -> Snapshot:
        """Bodies (by endpoint key) to a Snapshot; raises only ``AdapterError``."""
        snapshot = self._guarded(self.build, bodies, base_url)
        update: dict[str, Any] = {}
        if snapshot.platform != self.platform:
            update["platform"] = self.platform
        # A page that lists one id twice: the last listing wins, as the store and the diff read it.
        for field in ("components", "incidents", "maintenances"):
            items = getattr(snapshot, field)
            if len({item.id for item in items}) != len(items):
                update[field] = _last_listing_wins(items, lambda item: item.id)
        return snapshot.model_copy(update=update) if update else snapshot

    def build_parts(self, bodies: Bodies, base_url: str | None) -> PageParts | None:
        """The page as ``PageParts``, for adapters that can give them (None: only ``build``)."""
        return None

    def parse_parts(self, bodies: Bodies, base_url: str | None = None) -> PageParts | None:
        """``parse`` short of building a model per component: the parts ``parse`` would assemble,
        or None where this adapter (or this page) has no such form. Raises only ``AdapterError``."""
        parts = self._guarded(self.build_parts, bodies, base_url)
        if parts is None:
            return None
        parts.platform = self.platform
        if len({c["id"] for c in parts.components}) != len(parts.components):
            parts.components = _last_listing_wins(parts.components, lambda c: c["id"])
        for field in ("incidents", "maintenances"):
            items = getattr(parts, field)
            if len({item.id for item in items}) != len(items):
                setattr(parts, field, _last_listing_wins(items, lambda item: item.id))
        return parts

    def _guarded(self, build: Any, bodies: Bodies, base_url: str | None) -> Any:
        try:
            return build(bodies, base_url)
        except AdapterError:
            raise
        except RecursionError as exc:
            raise ParseError(f"{self.platform}: document nested too deeply") from exc
        except Exception as exc:  # noqa: BLE001 - the contract: nothing but AdapterError escapes
            raise ParseError(f"{self.platform}: unexpected document shape ({type(exc).__name__}: {exc})"[:300]) from exc

    def parse_history(self, bodies: Bodies, base_url: str | None = None) -> list[Incident | Maintenance]:
        try:
            return self.build_history(bodies, base_url)
        except AdapterError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ParseError(f"{self.platform}: unexpected history shape ({type(exc).__name__}: {exc})"[:300]) from exc


def _last_listing_wins(items: list[Any], key: Any) -> list[Any]:
    last = {key(item): index for index, item in enumerate(items)}
    return [item for index, item in enumerate(items) if last[key(item)] == index]


@dataclass(slots=True)
class PageParts:
    """A page as an adapter read it, before its components become models.

    ``snapshot()`` is the Snapshot ``Adapter.parse`` gives. ``aggregator.parsing`` writes the
    parts out as the same JSON without building a model per component, which is most of the cost
    of parsing a large page; tests hold the two to the same bytes."""

    platform: str
    name: str | None
    url: str | None
    page_id: str | None
    status: ComponentStatus
    raw_status: str | None
    description: str | None
    components: list[dict[str, Any]]  # every Component field, in the model's order, values as validated
    incidents: list[Incident]
    maintenances: list[Maintenance]

    def snapshot(self) -> Snapshot:
        return Snapshot(platform=self.platform, name=self.name, url=self.url, page_id=self.page_id,
                        status=self.status, raw_status=self.raw_status, description=self.description,
                        components=_COMPONENT_LIST.validate_python(self.components), incidents=self.incidents,
                        maintenances=self.maintenances)


_COMPONENT_LIST = TypeAdapter(list[Component])


def load_adapters() -> dict[str, type[Adapter]]:
    """Import every module in ``providers`` and ``providers.vendors`` so that each registers itself."""
    import importlib
    import pkgutil

    import providers
    import providers.vendors

    for package in (providers, providers.vendors):
        for info in pkgutil.iter_modules(package.__path__):
            if not info.ispkg and info.name not in {"base", "catalog"}:
                importlib.import_module(f"{package.__name__}.{info.name}")
    return dict(sorted(_REGISTRY.items()))


def get_adapter(platform: str) -> Adapter:
    adapters = load_adapters()
    try:
        return adapters[platform]()
    except KeyError:
        known = ", ".join(adapters)
        raise KeyError(f"unknown platform {platform!r} (known: {known})") from None


# ------------------------------------------------------------------------------------------------
# Shared parsing helpers
# ------------------------------------------------------------------------------------------------

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


def resolve_poll_url(adapter: Adapter, page_url: str, *, page_id: str | None = None, api_url: str | None = None,
                     feed_url: str | None = None) -> str:
    """The URL to store for a followed page: the first candidate the adapter can poll.

    Most adapters derive their endpoints from the page URL; status.io, OpenStatus and friends
    need a page id or their API URL, and a feed-only page is polled at its feed.
    """
    candidates = [feed_url, page_url] if adapter.platform == "feed" else [page_url, api_url]
    if page_id:
        candidates.append(f"{site_root(page_url)}#{page_id}")
    last: AdapterError | None = None
    for candidate in candidates:
        if not candidate:
            continue
        try:
            adapter.endpoints(candidate)
        except AdapterError as exc:
            last = exc
            continue
        return candidate
    raise last or ParseError(f"{adapter.platform}: cannot tell what to poll for {page_url!r}")
