"""The adapters the engine knows, found by entry point, and what only needs an adapter.

An adapter is any class registered in the ``upstream.adapters`` entry-point group (the shipped
ones in this project's pyproject.toml; a third-party package adds a platform by installing
itself, see docs/adapters.md). The engine never imports the adapters' package by name: it
loads what the group lists, once per process.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from aggregator.errors import AdapterError, ParseError, ParseFilesError
from aggregator.page.adapter import Adapter
from aggregator.page.model import Snapshot
from aggregator.page.reading import site_root

ENTRY_POINT_GROUP = "upstream.adapters"

_CLASSES: dict[str, type[Adapter]] | None = None
_INSTANCES: dict[str, Adapter] = {}


def load_adapters() -> dict[str, type[Adapter]]:
    """Every registered adapter class by platform name, sorted (loaded once per process).

    A registered object that is not an ``Adapter`` subclass, or whose ``platform`` differs from its
    entry-point name, is skipped: a broken third-party plugin must not take the engine down."""
    global _CLASSES
    if _CLASSES is None:
        found: dict[str, type[Adapter]] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                cls = ep.load()
            except Exception:  # noqa: BLE001 - a plugin that fails to import is left out, not fatal
                continue
            if isinstance(cls, type) and issubclass(cls, Adapter) and cls.platform == ep.name:
                found.setdefault(ep.name, cls)
        _CLASSES = dict(sorted(found.items()))
    return _CLASSES


def get_adapter(platform: str) -> Adapter:
    """A new adapter of ``platform`` (KeyError naming the known platforms for an unknown one)."""
    adapters = load_adapters()
    try:
        return adapters[platform]()
    except KeyError:
        known = ", ".join(adapters)
        raise KeyError(f"unknown platform {platform!r} (known: {known})") from None


def adapter_for(platform: str) -> Adapter:
    """The adapter of ``platform``, built once per process (raises KeyError for an unknown one)."""
    adapter = _INSTANCES.get(platform)
    if adapter is None:
        adapter = _INSTANCES[platform] = get_adapter(platform)
    return adapter


def warm_adapters() -> None:
    """Import and build every adapter now (a worker does, before it says it is ready)."""
    for platform in load_adapters():
        adapter_for(platform)


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


def parse_files(platform: str, files: list[Path], url: str | None = None) -> Snapshot:
    """``upstream parse``: key each saved file by what it answers (``adapter.classify``) and parse
    them together, with no database."""
    try:
        adapter = get_adapter(platform)
    except KeyError as exc:
        raise ParseFilesError(str(exc.args[0])) from None
    bodies: dict[str, bytes] = {}
    for path in files:
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise ParseFilesError(f"cannot read {path}: {exc.strerror or exc}") from None
        key = adapter.classify(body, path.name)
        if key in bodies:
            raise ParseFilesError(f"{path}: a second {key!r} document; give one file per endpoint")
        bodies[key] = body
    try:
        return adapter.parse(bodies, url)
    except AdapterError as exc:
        names = ", ".join(str(p) for p in files)
        raise ParseFilesError(f"{names}: {exc.reason}") from None
