"""The vendor catalog: the shipped ``providers/catalog.csv`` plus the user's own ``catalog.toml``.

Lookup, fuzzy search, categories, and following a catalog vendor. This module is on the start-up
path of ``upstream providers search``: it imports only the standard library at module level
(rapidfuzz, platformdirs and tomli-w are imported where they are needed) and keeps rows as plain
dataclasses, so loading 5,000 rows and searching them takes milliseconds.

The user catalog (``<config dir>/catalog.toml``, config dir from ``UPSTREAM_CONFIG_DIR`` or
platformdirs) wins over the shipped one: an entry with a shipped id overrides the fields it sets,
an entry with a new id adds a vendor::

    [providers.acme]
    name = "Acme"
    url = "https://status.acme.example"
    platform = "statuspage"
    category = "Collaboration & Productivity"
    aliases = ["Acme Corp"]
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aggregator.catalog.ids import ID_RE, fold, slugify, squash
from aggregator.config import config_dir
from aggregator.errors import CatalogError

# One fixed list. "Other" is where a vendor goes when no source says what it does.
CATEGORIES: tuple[str, ...] = (
    "AI & ML",
    "Cloud & Hosting",
    "CDN, DNS & Networking",
    "DevTools & CI/CD",
    "Monitoring & Observability",
    "Security & Identity",
    "Databases & Data",
    "Analytics & Product",
    "Email & Communication",
    "Collaboration & Productivity",
    "CRM, Sales & Marketing",
    "Customer Support",
    "Payments & Fintech",
    "Finance & Accounting",
    "E-commerce & Retail",
    "HR & Payroll",
    "Education",
    "Healthcare",
    "Media & Streaming",
    "Gaming",
    "CMS & Web Builders",
    "Crypto & Web3",
    "IoT & Hardware",
    "Logistics & Supply Chain",
    "Real Estate & Property",
    "Legal & Compliance",
    "Government & Nonprofit",
    "Other",
)

# Platform names the catalog may use: the adapter module stems (providers/*.py, providers/vendors/*.py).
PLATFORMS: frozenset[str] = frozenset({
    "statuspage", "incidentio", "instatus", "betterstack", "statusio", "cachet", "statuspal", "sorry", "hund",
    "openstatus", "statusiq", "statushub", "cstate", "feed", "html",
    "gcp", "aws", "azure", "slack", "heroku", "salesforce", "apple", "stripe",
    "uptimekuma", "uptimerobot", "uptimecom", "gatus",
})

CONFIDENCES: tuple[str, ...] = ("verified", "curated", "unverified")

# Column order of providers/catalog.csv.
FIELDS: tuple[str, ...] = ("id", "name", "url", "platform", "category", "aliases", "page_id", "feed_url",
                           "confidence", "sources", "alt_urls", "platform_from", "evidence", "defunct")
# How strong one source's word about a row is, strongest first (README "How far a row is trusted").
# An evidence item is "<strength>:<source>[@<date>]", e.g. "probed:w6w-apps@2026-08", "polled:stts".
STRENGTHS: tuple[str, ...] = ("probed", "captured", "polled", "curated", "listed", "guess")
LIST_SEP = ";"

CATALOG_CSV = Path(__file__).resolve().parents[2] / "providers" / "catalog.csv"



class UnknownProvider(CatalogError):
    def __init__(self, name: str, suggestions: Sequence[Entry] = ()) -> None:
        self.name = name
        self.suggestions = list(suggestions)
        hint = f"; did you mean: {', '.join(f'{e.name} ({e.id})' for e in self.suggestions)}" if suggestions else ""
        super().__init__(f"no provider {name!r} in the catalog{hint}")


class AmbiguousName(CatalogError):
    def __init__(self, name: str, candidates: Sequence[Entry]) -> None:
        self.name = name
        self.candidates = list(candidates)
        listed = ", ".join(f"{e.id} ({e.url})" for e in self.candidates)
        super().__init__(f"{name!r} names {len(self.candidates)} providers: {listed}; use an id")


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    name: str
    url: str
    platform: str
    category: str = "Other"
    aliases: tuple[str, ...] = ()
    page_id: str | None = None
    feed_url: str | None = None
    confidence: str = "unverified"
    sources: tuple[str, ...] = ()
    alt_urls: tuple[str, ...] = ()
    platform_from: str = ""
    evidence: tuple[str, ...] = ()
    defunct: str = ""
    user: bool = False

    def to_row(self) -> dict[str, str]:
        """The CSV row (lists joined with ';', missing values empty)."""
        row: dict[str, str] = {}
        for name in FIELDS:
            value = getattr(self, name)
            row[name] = LIST_SEP.join(value) if isinstance(value, tuple) else (value or "")
        return row

    def to_dict(self) -> dict[str, Any]:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float
    matched: str


# ------------------------------------------------------------------------------------------------
# Text and URL normalisation (shared with tools/build_catalog.py)
# ------------------------------------------------------------------------------------------------

def normalise_url(url: str) -> str:
    """The scheme as given (https when there is none: a plain-http internal page stays http),
    lower-case host, default port dropped, no query, fragment or trailing slash (a ``www.`` stays
    as given: it may be a different host)."""
    url = url.strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = parts.hostname.lower().rstrip(".")
    scheme = parts.scheme.lower()
    default_port = 443 if scheme == "https" else 80
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    return urlunsplit((scheme, netloc, path, "", ""))


def user_catalog_path() -> Path:
    return config_dir() / "catalog.toml"


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------

def _split(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(LIST_SEP) if p.strip()) if value else ()


def read_csv(path: Path) -> list[Entry]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(header[: len(FIELDS)]) != FIELDS:
                raise CatalogError(f"{path}: unexpected header {header!r} (want {','.join(FIELDS)})")
            out = []
            for row in reader:
                if len(row) < len(FIELDS):
                    raise CatalogError(f"{path}: line {reader.line_num} has {len(row)} fields, want {len(FIELDS)}")
                (id_, name, url, platform, category, aliases, page_id, feed_url, confidence, sources, alt_urls,
                 platform_from, evidence, defunct) = row[: len(FIELDS)]
                out.append(Entry(id_, name, url, platform, category, _split(aliases), page_id or None,
                                 feed_url or None, confidence, _split(sources), _split(alt_urls), platform_from,
                                 _split(evidence), defunct))
            return out
    except OSError as exc:
        raise CatalogError(f"cannot read the catalog {path}: {exc.strerror or exc}") from None


def write_csv(entries: Iterable[Entry], path: Path) -> None:
    """Write rows sorted by id (so that the file diffs well), atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for entry in sorted(entries, key=lambda e: e.id):
            writer.writerow(entry.to_row())
    tmp.replace(path)


def _user_entry(pid: str, data: Any, shipped: Entry | None, source: Path) -> Entry:
    where = f"{source}: [providers.{pid}]"
    if not isinstance(data, dict):
        raise CatalogError(f"{where} must be a table")
    if not ID_RE.fullmatch(pid):
        raise CatalogError(f"{where}: bad id (use lowercase letters, digits, '.', '_' and '-')")
    unknown = set(data) - {"name", "url", "platform", "category", "aliases", "page_id", "feed_url", "checked",
                           "outcome"}
    if unknown:
        raise CatalogError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    if shipped is None:
        missing = [k for k in ("name", "url", "platform") if not data.get(k)]
        if missing:
            raise CatalogError(f"{where}: a new provider needs {', '.join(missing)}")
    base = shipped or Entry(id=pid, name="", url="", platform="")
    changes: dict[str, Any] = {"user": True, "sources": (*base.sources, "user") if shipped else ("user",)}
    for key in ("name", "url", "platform", "category", "page_id", "feed_url"):
        if key in data:
            value = data[key]
            if not isinstance(value, str):
                raise CatalogError(f"{where}: {key} must be a string")
            changes[key] = (value.strip() or None) if key in {"page_id", "feed_url"} else value.strip()
    if "aliases" in data:
        aliases = data["aliases"]
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise CatalogError(f"{where}: aliases must be a list of strings")
        changes["aliases"] = tuple(a.strip() for a in aliases if a.strip())
    entry = replace(base, **changes)
    try:
        entry = replace(entry, url=normalise_url(entry.url))
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    if entry.platform not in PLATFORMS:
        raise CatalogError(f"{where}: unknown platform {entry.platform!r} (known: {', '.join(sorted(PLATFORMS))})")
    try:
        entry = replace(entry, category=canonical_category(entry.category))
    except CatalogError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    # A user's row is theirs to vouch for, but no probe has checked it: only an untouched URL keeps
    # the shipped confidence. A probe recorded by `catalog verify --write` is evidence of its own.
    confidence = shipped.confidence if shipped and "url" not in data else "unverified"
    if "checked" in data or "outcome" in data:
        checked, outcome = data.get("checked"), data.get("outcome")
        if not isinstance(checked, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", checked):
            raise CatalogError(f"{where}: checked must be a date like 2026-12-03")
        if outcome not in ALL_OUTCOMES:
            raise CatalogError(f"{where}: outcome must be one of {', '.join(ALL_OUTCOMES)}")
        probe = f"probed:verify@{checked}"
        earlier = tuple(e for e in base.evidence if not e.startswith("probed:verify"))
        if outcome in GOOD_OUTCOMES:
            return replace(entry, confidence="verified", platform_from=probe, evidence=(probe, *earlier))
        if outcome != "unreachable":  # no answer at all proves nothing about the page
            confidence = "unverified"
        return replace(entry, confidence=confidence, evidence=(f"{probe}:{outcome}", *earlier))
    return replace(entry, confidence=confidence)


def read_user_toml(path: Path, shipped: dict[str, Entry]) -> list[Entry]:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path} is not valid TOML: {exc}") from None
    providers = data.get("providers", {})
    if not isinstance(providers, dict):
        raise CatalogError(f"{path}: [providers] must be a table of tables")
    return [_user_entry(pid, body, shipped.get(pid), path) for pid, body in providers.items()]


class Catalog:
    """All entries, by id, with name and alias indexes for lookup and search."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: list[Entry] = list(entries)
        self.by_id: dict[str, Entry] = {}
        for entry in self.entries:
            self.by_id[entry.id] = entry
        if len(self.by_id) != len(self.entries):  # user overrides replaced shipped rows in place
            self.entries = list(self.by_id.values())
        self.by_name: dict[str, list[Entry]] = {}
        self.by_alias: dict[str, list[Entry]] = {}
        for entry in self.entries:
            self.by_name.setdefault(squash(entry.name), []).append(entry)
            for alias in entry.aliases:
                key = squash(alias)
                if key and entry not in self.by_alias.get(key, []):
                    self.by_alias.setdefault(key, []).append(entry)
        self._index: list[tuple[Entry, str, str, str, str]] | None = None
        self._choices: list[str] | None = None
        self._choice_entry: list[Entry] = []

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, provider_id: str) -> Entry | None:
        return self.by_id.get(provider_id.strip().lower())

    def resolve(self, name_or_id: str) -> Entry:
        """Exact id (as typed), then name, then alias (case and punctuation ignored);
        ``AmbiguousName`` / ``UnknownProvider`` otherwise. "circle" is an id; "Circle" is a name two
        companies share."""
        entry = self.by_id.get(name_or_id.strip())
        if entry is not None:
            return entry
        key = squash(name_or_id)
        for index in (self.by_name, self.by_alias):
            found = index.get(key, []) if key else []
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise AmbiguousName(name_or_id, sorted(found, key=_rank))
        raise UnknownProvider(name_or_id, [hit.entry for hit in self.search(name_or_id, limit=5)])

    def search(self, word: str, limit: int = 10) -> list[Hit]:
        """Exact matches first, then prefixes, then words and hosts containing the query, then fuzzy."""
        query = fold(word)
        key = squash(word)
        if not key or limit <= 0:
            return []
        hits: dict[str, Hit] = {}

        def take(entries: Iterable[Entry], score: float, matched: str | None = None) -> None:
            for entry in sorted(entries, key=_rank):
                if entry.id not in hits:
                    hits[entry.id] = Hit(entry, score, matched or entry.name)

        take([e for e in (self.by_id.get(word.strip()),) if e], 100.0)
        take(self.by_name.get(key, []), 100.0)
        for entry in sorted(self.by_alias.get(key, []), key=_rank):
            take([entry], 100.0, next(a for a in entry.aliases if squash(a) == key))
        prefix, inner = [], []
        # Each entry's names, words and host labels are joined behind separators, so "does any
        # start with the query" is one substring test per entry.
        dotted = "." in query
        at_key, at_word = "\n" + key, " " + query
        for entry, keys, words, labels, host in self._search_index():
            if at_key in keys or entry.id.startswith(query):
                prefix.append(entry)
            elif at_word in words or (query in host if dotted else at_key in labels):
                inner.append(entry)
        take(prefix, 90.0)
        take(inner, 80.0)
        if len(hits) < limit:
            from rapidfuzz import fuzz, process

            choices = self._fuzzy_choices()
            # Short queries match too much of everything at a low score: ask more of them.
            cutoff = 88 if len(key) <= 3 else 80 if len(key) <= 5 else 72
            for _, score, index in process.extract(query, choices, scorer=fuzz.WRatio, processor=None,
                                                   score_cutoff=cutoff, limit=limit * 3):
                entry = self._choice_entry[index]
                if entry.id not in hits:
                    hits[entry.id] = Hit(entry, min(float(score), 79.0), choices[index])
        return list(hits.values())[:limit]

    def _search_index(self) -> list[tuple[Entry, str, str, str, str]]:
        """Per entry: "\n"-joined squashed names and aliases, " "-joined words, "\n"-joined host
        labels, and the host (built once)."""
        if self._index is None:
            index = []
            for entry in self.entries:
                names = (entry.name, *entry.aliases)
                host = (urlsplit(entry.url).hostname or "").removeprefix("www.")
                index.append((entry, "".join("\n" + squash(n) for n in names),
                              "".join(" " + w for n in names for w in fold(n).split()),
                              "".join("\n" + label for label in re.split(r"[.-]", host)), host))
            self._index = index
        return self._index

    def _fuzzy_choices(self) -> list[str]:
        if self._choices is None:
            choices, owners = [], []
            for entry in self.entries:
                for text in (entry.name, *entry.aliases):
                    choices.append(fold(text))
                    owners.append(entry)
            self._choices, self._choice_entry = choices, owners
        return self._choices

    def list_entries(self, category: str | None = None, platform: str | None = None) -> list[Entry]:
        if category is not None:
            category = canonical_category(category)
        if platform is not None and platform not in PLATFORMS:
            raise CatalogError(f"unknown platform {platform!r} (known: {', '.join(sorted(PLATFORMS))})")
        out = [e for e in self.entries if (category is None or e.category == category)
               and (platform is None or e.platform == platform)]
        return sorted(out, key=lambda e: (fold(e.name), e.id))

    def categories(self) -> dict[str, int]:
        counts = dict.fromkeys(CATEGORIES, 0)
        for entry in self.entries:
            counts[entry.category] = counts.get(entry.category, 0) + 1
        return counts


_CONFIDENCE_RANK = {c: i for i, c in enumerate(CONFIDENCES)}


def _rank(entry: Entry) -> tuple[int, int, int, str]:
    """Order among equally good matches: user entries, then verified, curated; shorter names first."""
    return (0 if entry.user else 1, _CONFIDENCE_RANK.get(entry.confidence, 9), len(entry.name), entry.id)


def canonical_category(text: str) -> str:
    """A category given loosely ('devtools', 'ai & ml') as it is spelled in CATEGORIES."""
    key = squash(text)
    for category in CATEGORIES:
        if squash(category) == key:
            return category
    for matches in ([c for c in CATEGORIES if squash(c).startswith(key)],
                    [c for c in CATEGORIES if key in squash(c)]):
        if key and len(matches) == 1:
            return matches[0]
    raise CatalogError(f"unknown category {text!r} (known: {'; '.join(CATEGORIES)})")


_CACHE: dict[tuple[str, str, float | None], Catalog] = {}
_ROWS: dict[tuple[str, int], list[Entry]] = {}


def _shipped_rows(path: Path) -> list[Entry]:
    """The CSV's rows, read once per file version (the user TOML changes more often than the CSV)."""
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError as exc:
        raise CatalogError(f"cannot read the catalog {path}: {exc.strerror or exc}") from None
    if key not in _ROWS:
        _ROWS.clear()
        _ROWS[key] = read_csv(path)
    return _ROWS[key]


def load_catalog(path: Path | None = None, user_path: Path | None = None) -> Catalog:
    """The shipped catalog with the user's TOML merged over it (cached until the TOML changes)."""
    path = path or CATALOG_CSV
    user_path = user_path or user_catalog_path()
    try:
        stamp: float | None = user_path.stat().st_mtime_ns
    except OSError:
        stamp = None
    key = (str(path), str(user_path), stamp)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    shipped = _shipped_rows(path)
    by_id = {e.id: e for e in shipped}
    user = read_user_toml(user_path, by_id) if stamp is not None else []
    catalog = Catalog([*shipped, *user])
    _CACHE.clear()
    _CACHE[key] = catalog
    return catalog


# Module-level faces of the default catalog -------------------------------------------------------

def search(word: str, limit: int = 10) -> list[Hit]:
    return load_catalog().search(word, limit)


def get(provider_id: str) -> Entry | None:
    return load_catalog().get(provider_id)


def resolve(name_or_id: str) -> Entry:
    return load_catalog().resolve(name_or_id)


def list_entries(category: str | None = None, platform: str | None = None) -> list[Entry]:
    return load_catalog().list_entries(category, platform)


def categories() -> dict[str, int]:
    return load_catalog().categories()


def add_user_entry(name: str, url: str, platform: str, *, provider_id: str | None = None, category: str = "Other",
                   aliases: Sequence[str] = (), page_id: str | None = None, feed_url: str | None = None,
                   user_path: Path | None = None) -> Entry:
    """Add (or replace) a provider in the user's catalog.toml; returns the entry as it now loads."""
    import tomllib

    import tomli_w

    user_path = user_path or user_catalog_path()
    pid = provider_id or slugify(name)
    body: dict[str, Any] = {"name": name, "url": url, "platform": platform,
                            "category": canonical_category(category)}
    if aliases:
        body["aliases"] = list(aliases)
    if page_id:
        body["page_id"] = page_id
    if feed_url:
        body["feed_url"] = feed_url
    entry = _user_entry(pid, body, None, user_path)  # validate before writing anything
    try:
        data = tomllib.loads(user_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"cannot update {user_path}: {exc}") from None
    data.setdefault("providers", {})[pid] = {**body, "url": entry.url}
    user_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = user_path.with_name(f".{user_path.name}.tmp")
    # The user's own file: readable by them only, like the database.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(tomli_w.dumps(data))
    os.chmod(tmp, 0o600)  # an older temporary file keeps its mode through O_CREAT
    tmp.replace(user_path)
    return entry


# ------------------------------------------------------------------------------------------------
# Following catalog vendors (the store is the lead's aggregator.store.writer.Store, or anything like it)
# ------------------------------------------------------------------------------------------------

def catalog_url_refused(url: str) -> str | None:
    """Why a catalog row's URL may not be followed: it names a private, loopback, link-local or
    metadata address (a catalog row is not the user's own word that an internal page is meant)."""
    import ipaddress
    from urllib.parse import urlsplit

    from aggregator.netguard import classify

    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"the catalog's URL names a local host ({host})"
    try:
        kind = classify(str(ipaddress.ip_address(host)))
    except ValueError:
        return None  # a name: resolved and checked when it is fetched
    return None if kind == "public" else f"the catalog's URL names a {kind} address ({host})"


def follow(store: Any, names: Sequence[str], catalog: Catalog | None = None) -> list[Entry]:
    """Resolve every name first (nothing is followed if one is unknown or ambiguous), then follow all."""
    from aggregator.adapters import get_adapter, resolve_poll_url
    from aggregator.errors import AdapterError

    catalog = catalog or load_catalog()
    entries = [catalog.resolve(name) for name in names]
    for entry in entries:
        if entry.defunct:
            raise CatalogError(f"{entry.id} is defunct ({entry.defunct}); nothing was followed")
    try:
        urls = [resolve_poll_url(get_adapter(e.platform), e.url, page_id=e.page_id or None,
                                 feed_url=e.feed_url or None) for e in entries]
    except AdapterError as exc:
        raise CatalogError(f"cannot follow: {exc.reason} (run: upstream catalog verify ID)") from None
    for entry, url in zip(entries, urls, strict=True):
        reason = None if entry.user else catalog_url_refused(url)  # the user's catalog.toml may name internal pages
        if reason:
            raise CatalogError(f"cannot follow {entry.id}: {reason}")
    for entry, url in zip(entries, urls, strict=True):
        # As ``add`` does: an id that already follows another page is never re-pointed (its
        # history would mix two pages).
        existing = store.get_provider(entry.id)
        if existing and existing["url"] != url:
            raise CatalogError(f"id {entry.id!r} already follows {existing['url']}, not the catalog's {url}; "
                               f"remove it first (upstream remove {entry.id}) or add the catalog's page "
                               f"under another id (upstream add URL --id NEW)")
    for entry, url in zip(entries, urls, strict=True):
        store.add_provider(entry.id, name=entry.name, url=url, platform=entry.platform, category=entry.category)
    return entries


def follow_all(store: Any, catalog: Catalog | None = None) -> tuple[int, list[tuple[str, str]]]:
    """Follow every catalog vendor not followed yet (for ``upstream poll --all``).

    Returns how many were added and the (id, reason) of entries that cannot be polled as written.
    """
    from aggregator.adapters import get_adapter, resolve_poll_url
    from aggregator.errors import AdapterError

    catalog = catalog or load_catalog()
    followed = {row["id"] for row in store.providers()}
    added, skipped = 0, []
    for entry in catalog.entries:
        if entry.id in followed:
            continue
        if entry.defunct:
            skipped.append((entry.id, f"defunct: {entry.defunct}"))
            continue
        try:
            url = resolve_poll_url(get_adapter(entry.platform), entry.url, page_id=entry.page_id or None,
                                   feed_url=entry.feed_url or None)
        except (AdapterError, KeyError) as exc:
            skipped.append((entry.id, getattr(exc, "reason", None) or str(exc)))
            continue
        reason = None if entry.user else catalog_url_refused(url)
        if reason:
            skipped.append((entry.id, reason))
            continue
        store.add_provider(entry.id, name=entry.name, url=url, platform=entry.platform, category=entry.category)
        added += 1
    return added, skipped


def unfollow(store: Any, names: Sequence[str], catalog: Catalog | None = None) -> list[tuple[str, bool]]:
    """Stop following; a name is a followed id, else a catalog name. Returns (id, was followed)."""
    out = []
    for name in names:
        pid = name.strip()
        if store.get_provider(pid) is None:
            pid = (catalog or load_catalog()).resolve(name).id
        out.append((pid, store.remove_provider(pid)))
    return out


# ------------------------------------------------------------------------------------------------
# Verification: probe entries with detection (``upstream catalog verify``)
# ------------------------------------------------------------------------------------------------

# Detection verdict -> what it means for a catalog row. "dead": the server answered, with an error
# (HTTP 404, 410, 5xx); "unreachable": nothing answered (DNS, connection, timeout), which says more
# about the network than the page when every probe of a run fails that way (``nothing_reached``).
OUTCOMES: dict[str, str] = {
    "login_required": "login_only",
    "page_inactive": "inactive",
    "not_status_page": "not_status_page",
    "unclaimed": "unclaimed",
}
GOOD_OUTCOMES = ("ok", "moved", "platform_mismatch")
ALL_OUTCOMES = (*GOOD_OUTCOMES, "dead", "unreachable", "login_only", "inactive", "not_status_page", "unclaimed")


@dataclass(frozen=True, slots=True)
class VerifyResult:
    entry: Entry
    outcome: str  # one of ALL_OUTCOMES
    detection: Any  # aggregator.catalog.detect.Detection
    checked: str = ""  # the day of the probe (ISO date, UTC)

    @property
    def platform(self) -> str | None:
        return self.detection.platform

    @property
    def reason(self) -> str:
        return self.detection.reasons[-1] if self.detection.reasons else ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.entry.id, "name": self.entry.name, "url": self.entry.url,
                "catalog_platform": self.entry.platform, "outcome": self.outcome, "checked": self.checked,
                "detection": self.detection.to_dict()}


def classify(entry: Entry, detection: Any) -> str:
    verdict = str(detection.verdict)
    if verdict in OUTCOMES:
        return OUTCOMES[verdict]
    if verdict == "unreachable":
        return "unreachable" if detection.network_error else "dead"
    if verdict == "moved":
        return "moved"
    return "ok" if detection.platform == entry.platform else "platform_mismatch"


async def verify(entries: Sequence[Entry], http: Any, concurrency: int = 8, apis: Any = None,
                 on_done: Any = None) -> list[VerifyResult]:
    """Detect every entry's page (at most ``concurrency`` at once); results in the entries' order."""
    import asyncio

    from aggregator.catalog.detect import detect

    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(entry: Entry) -> VerifyResult:
        async with gate:
            found = await detect(entry.url, http, apis)
        result = VerifyResult(entry, classify(entry, found), found, checked=today())
        if on_done is not None:
            on_done(result)
        return result

    return list(await asyncio.gather(*(one(e) for e in entries)))


def today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).date().isoformat()


def _error_kind(error: str) -> str:
    """'timed out after 10s' -> 'timed out'; 'DNS lookup failed (...)' -> 'DNS lookup failed'."""
    return re.split(r" \(| after ", error, maxsplit=1)[0]


def nothing_reached(results: Sequence[VerifyResult]) -> str | None:
    """One line when no probe of a run got any answer at all (no network, a proxy, a firewall):
    then no row can be called dead. None when at least one server answered."""
    errors = [r.detection.network_error for r in results]
    if not errors or any(e is None for e in errors):
        return None
    kinds: dict[str, int] = {}
    for error in errors:
        kinds[_error_kind(error)] = kinds.get(_error_kind(error), 0) + 1
    how = (f"every one failed the same way ({errors[0]})" if len(kinds) == 1 else
           "they failed with " + ", ".join(f"{k} ({n})" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])))
    return (f"could not reach anything: none of {len(errors)} probes got an answer, {how}; check the network "
            "(or proxy) and run again. No row was judged.")


def trust_lines(entry: Entry) -> list[str]:
    """Why a row is trusted as much as it is, for ``upstream providers show`` (README "How far a row
    is trusted")."""
    words = {"probed": "probed live by", "captured": "a real recorded response from", "polled":
             "polled by a live tool:", "curated": "named by a curated list:", "listed": "named by a weak list:",
             "guess": "guessed by"}
    lines = []
    if entry.defunct:
        lines.append(f"defunct: {entry.defunct}; never followed")
    why = {"verified": "a live probe read this page as this platform",
           "curated": "a live tool, a real capture or a curated list names this page (or two weak lists do), "
                      "and its platform is not a machine's guess",
           "unverified": "only machine guesses or one weak list name it, or nothing says what platform it is"}
    lines.append(f"{entry.confidence}: {why.get(entry.confidence, '')}")
    for item in entry.evidence:
        kind, _, rest = item.partition(":")
        who, _, when = rest.partition("@")
        when, _, outcome = when.partition(":")
        who = "your `catalog verify`" if who == "verify" else who
        said = f"{words.get(kind, kind)} {who}" + (f" (checked {when})" if when else "")
        lines.append(said + (f": {outcome}" if outcome else ""))
    source = entry.platform_from
    if source == "guess:host":
        lines.append(f"platform {entry.platform}: from the host name alone (a guess)")
    elif source == "none":
        lines.append("platform: no evidence; read as a generic HTML page until `upstream catalog verify` probes it")
    elif source:
        strength, _, who = source.partition(":")
        label = {"probed": "a live probe", "captured": "a real capture", "polled": "a live tool",
                 "curated": "a curated list", "listed": "a weak list", "guess": "a guess"}.get(strength, strength)
        lines.append(f"platform {entry.platform}: said by {who.replace('@', ' on ')} ({label})")
    return lines


def record_verification(results: Iterable[VerifyResult], user_path: Path | None = None) -> int:
    """Record what the probes found in the user's catalog.toml, with the day of the probe, so the
    row loads with that evidence (``checked``/``outcome`` keys, and the platform, URL, page id and
    feed a good probe found). Returns how many rows were written."""
    import tomllib

    import tomli_w

    user_path = user_path or user_catalog_path()
    try:
        data = tomllib.loads(user_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"cannot update {user_path}: {exc}") from None
    providers = data.setdefault("providers", {})
    written = 0
    for result in results:
        body = providers.setdefault(result.entry.id, {})
        if not isinstance(body, dict):
            raise CatalogError(f"{user_path}: [providers.{result.entry.id}] must be a table")
        body["checked"] = result.checked or today()
        body["outcome"] = result.outcome
        found = result.detection
        if result.outcome in GOOD_OUTCOMES and found.platform in PLATFORMS:
            body["platform"] = found.platform
            if found.base_url and found.base_url != result.entry.url:
                body["url"] = found.base_url
            for key in ("page_id", "feed_url"):
                if getattr(found, key):
                    body[key] = getattr(found, key)
        written += 1
    user_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = user_path.with_name(f".{user_path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(tomli_w.dumps(data))
    os.chmod(tmp, 0o600)
    tmp.replace(user_path)
    _CACHE.clear()
    return written


def apply_verification(entries: Sequence[Entry], results: Iterable[VerifyResult]) -> tuple[list[Entry], list[str]]:
    """Rows updated with what the probes found; returns (rows, notes about changes not made).

    A row whose page answered (ok, moved, platform mismatch) becomes ``verified`` with the detected
    platform, page id and feed; a moved row takes the new URL (the old one joins ``alt_urls``) unless
    another row already has it. Rows whose probe failed are left as they were: one failed probe is
    not proof, and the report lists them.
    """
    by_id = {e.id: e for e in entries}
    urls = {e.url: e.id for e in entries}
    notes: list[str] = []
    for result in results:
        entry = by_id.get(result.entry.id)
        found = result.detection
        if entry is None or result.outcome not in GOOD_OUTCOMES or not found.platform:
            continue
        probe = f"probed:verify@{result.checked or today()}"
        changes: dict[str, Any] = {"confidence": "verified", "platform": found.platform, "platform_from": probe,
                                   "evidence": (probe, *(e for e in entry.evidence if not e.startswith("probed:verify")))}
        if found.page_id or found.platform != entry.platform:
            changes["page_id"] = found.page_id
        if found.feed_url:
            changes["feed_url"] = found.feed_url
        if found.base_url:
            new_url = normalise_url(found.base_url) if found.base_url.startswith("https://") else found.base_url
            owner = urls.get(new_url)
            if new_url != entry.url and owner not in (None, entry.id):
                notes.append(f"{entry.id}: now at {new_url}, which row {owner} already has; URL left as it was")
            elif new_url != entry.url:
                changes["url"] = new_url
                changes["alt_urls"] = tuple(sorted({*entry.alt_urls, entry.url} - {new_url}))
                urls.pop(entry.url, None)
                urls[new_url] = entry.id
        by_id[entry.id] = replace(entry, **changes)
    return list(by_id.values()), notes


def write_verification(path: Path, results: Sequence[VerifyResult]) -> list[str]:
    """Apply ``results`` to the catalog CSV at ``path`` in place; returns the notes."""
    rows, notes = apply_verification(read_csv(path), results)
    write_csv(rows, path)
    _CACHE.clear()
    return notes
