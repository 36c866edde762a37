"""The library facade: ``Upstream`` is what the command line, the server and the MCP server call.

One ``Upstream`` is one database and one configuration, loaded once: every command gets the same
settings and the same one-line error for a bad config file. Writes go through one ``Store``
opened with every installed subsystem (today: notifications), so whichever caller applies a poll
also fills the outbox; the store itself imports no subsystem. Reads that must start fast
(``status``, ``history``) use ``aggregator.store.reader`` on a read-only connection and never
import the HTTP or parsing stack.

    from aggregator import open_upstream

    with open_upstream("up.db") as up:
        up.add("https://status.example.com")
        report = up.poll()
        for provider in up.status():
            print(provider["provider"], provider["status"])
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aggregator.config import Config, load_config
from aggregator.errors import UserError
from aggregator.page.vocab import iso_z

if TYPE_CHECKING:
    from aggregator.catalog.data import Entry
    from aggregator.catalog.detect import Detection
    from aggregator.page.model import Snapshot
    from aggregator.poll.runner import PollReport
    from aggregator.poll.watch import WatchStats
    from aggregator.store.writer import Store


def open_store(path: str | Path) -> Store:
    """The store at ``path`` (created and migrated as needed) with every subsystem's tables and hooks."""
    from aggregator import notify
    from aggregator.store.writer import Store

    return Store(path, subsystems=[notify.SUBSYSTEM])


def default_db_path() -> Path:
    """``$UPSTREAM_DB``, else ``upstream.db`` in the user data folder."""
    env = os.environ.get("UPSTREAM_DB")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("upstream", appauthor=False)) / "upstream.db"


class Upstream:
    """One database and one configuration; every operation a face of upstream offers."""

    def __init__(self, db: str | Path | None = None, config: Config | str | Path | None = None) -> None:
        self.db_path = Path(db) if db is not None else default_db_path()
        self._config = config if isinstance(config, Config) else None
        self._config_path = Path(config) if isinstance(config, str | Path) else None
        self._store: Store | None = None

    # --- what it is opened on ---------------------------------------------------------------------
    @property
    def config(self) -> Config:
        """config.toml, read once (ConfigError on the first use of a bad file)."""
        if self._config is None:
            self._config = load_config(self._config_path)
        return self._config

    @property
    def store(self) -> Store:
        """The read-write store (opened, and migrated, on first use)."""
        if self._store is None or self._store.closed:
            self._store = open_store(self.db_path)
        return self._store

    def reader(self) -> sqlite3.Connection:
        """A read-only connection for queries (QueryError when there is no usable database)."""
        from aggregator.store.reader import open_readonly

        return open_readonly(self.db_path)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Upstream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- following pages --------------------------------------------------------------------------
    def add(self, url: str, *, platform: str | None = None, name: str | None = None,
            provider_id: str | None = None, category: str | None = None) -> dict[str, Any]:
        """Follow the page at ``url``, detecting its platform when not given; returns the provider row.

        UserError for a URL that is not http(s), a page no adapter can read, an unknown platform or
        an id already following another page."""
        from aggregator.catalog.importing import follow_plan
        from aggregator.http import check_url

        try:
            url = check_url(url)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        url = url.rstrip("/")
        if category is not None:
            category = self.check_category(category)
        found = self.detect(url) if platform is None else None
        pid, name, url, platform = follow_plan(url, found, platform=platform, name=name, provider_id=provider_id)
        store = self.store
        existing = store.get_provider(pid)
        if existing and existing["url"] != url:
            raise UserError(f"id {pid!r} already follows {existing['url']}; choose another with --id")
        store.add_provider(pid, name=name or (existing or {}).get("name") or pid, url=url, platform=platform,
                           category=category)
        return store.get_provider(pid)

    @staticmethod
    def check_category(category: str) -> str:
        """The category as the catalog spells it ('devtools' -> 'Developer Tools'); UserError naming
        the known ones for anything else: the same check for add, import, export and subscribe."""
        from aggregator.catalog.data import canonical_category
        from aggregator.errors import CatalogError

        try:
            return canonical_category(category)
        except CatalogError as exc:
            raise UserError(str(exc)) from None

    def import_pages(self, items: Sequence[Any], *, dry_run: bool = False,
                     on_done: Callable[..., None] | None = None) -> Any:
        """Detect and follow many pages at once (``aggregator.catalog.importing.read_import``
        items), under the polling caps of config.toml; returns an ImportReport."""
        import asyncio
        import time

        from aggregator.catalog.importing import ImportReport, import_pages

        settings = self.config.poll
        started = time.monotonic()
        outcomes = asyncio.run(import_pages(list(items), self.store, concurrency=settings.concurrency,
                                            per_host=settings.per_host, timeout=settings.timeout,
                                            dry_run=dry_run, check_category=self.check_category,
                                            on_done=on_done))
        return ImportReport(outcomes=outcomes, dry_run=dry_run, seconds=time.monotonic() - started)

    def follow(self, names: Sequence[str]) -> list[Entry]:
        """Follow catalog vendors by id, name or alias (all or none: CatalogError names the first
        unknown or ambiguous one)."""
        from aggregator.catalog.data import follow

        return follow(self.store, names)

    def follow_all(self) -> tuple[int, list[tuple[str, str]]]:
        """Follow every catalog vendor not followed yet: (how many added, (id, why) of those skipped)."""
        from aggregator.catalog.data import follow_all

        return follow_all(self.store)

    def unfollow(self, names: Sequence[str]) -> list[tuple[str, bool]]:
        """Stop following by id or catalog name: (id, was it followed) for each."""
        from aggregator.catalog.data import unfollow

        return unfollow(self.store, names)

    def remove(self, provider_ids: Sequence[str], *, purge: bool = False) -> list[tuple[str, int]]:
        """Stop following these ids (all or none: UserError for one not followed). Their event log
        stays readable unless ``purge``; returns (id, events deleted) for each."""
        store = self.store
        missing = [pid for pid in provider_ids if store.get_provider(pid) is None]
        if missing:
            raise UserError(f"not following {missing[0]!r}")
        done = []
        for pid in provider_ids:
            store.remove_provider(pid)
            done.append((pid, store.purge_history(pid) if purge else 0))
        return done

    def set_interval(self, provider_id: str, seconds: float | None, *, now: float) -> None:
        """A provider's own interval (None: the platform's or the default)."""
        from aggregator.durations import INTERVAL_MAX, INTERVAL_MIN, format_duration

        if seconds is not None and not (INTERVAL_MIN <= seconds <= INTERVAL_MAX):
            raise UserError(f"interval must be between {format_duration(INTERVAL_MIN)} and "
                            f"{format_duration(INTERVAL_MAX)}, not {format_duration(seconds)}")
        if not self.store.set_interval(provider_id, seconds, now=now):
            raise UserError(f"not following {provider_id!r}")

    def detect(self, url: str, *, timeout: float | None = None) -> Detection:
        """Which platform serves ``url``, and why (network: the page and a few probes); UserError
        for a URL that is not http(s), the same check as ``add``."""
        from aggregator.catalog.detect import detect_url
        from aggregator.http import check_url

        try:
            check_url(url)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return detect_url(url, timeout=self.config.poll.timeout if timeout is None else timeout)

    # --- polling ----------------------------------------------------------------------------------
    def poll(self, provider_ids: Sequence[str] | None = None, *,
             on_done: Callable[..., None] | None = None) -> PollReport:
        """Poll followed providers once (all, or these ids), with the configured settings."""
        from aggregator.http import run
        from aggregator.poll.runner import poll_once

        store = self.store
        ids = list(provider_ids) if provider_ids else None
        try:
            store.providers(ids)
        except KeyError as exc:
            raise UserError(f"not following {exc.args[0]!r}") from None
        return run(poll_once(store, ids, settings=self.config.poll, on_done=on_done))

    def watch(self, **options: Any) -> WatchStats:
        """Poll as pages fall due, until stopped, delivering notifications as they are queued
        (``aggregator.poll.watch.run_watch`` options)."""
        from aggregator.notify.dispatch import deliver_pending
        from aggregator.poll.watch import run_watch

        options.setdefault("settings", self.config.poll)
        options.setdefault("deliver", deliver_pending)
        return run_watch(self.store, **options)

    def deliver(self) -> Any:
        """Send the notifications that are due; returns what was sent, retried and failed."""
        from aggregator.http import run
        from aggregator.notify.dispatch import deliver_pending

        return run(deliver_pending(self.store))

    # --- reading ----------------------------------------------------------------------------------
    def status(self, provider_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Each provider's current snapshot, health and open notices, in the exported shape."""
        from aggregator.store.reader import resolve_ids, status_json, status_rows

        conn = self.reader()
        try:
            ids = resolve_ids(conn, list(provider_ids)) if provider_ids else None
            return status_json(status_rows(conn, ids))
        finally:
            conn.close()

    def history(self, provider: str | None = None, *, since: datetime | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        """Events in log order (one provider's, or everyone's), in the exported shape."""
        from aggregator.store.reader import history, resolve_ids

        if limit is not None and limit < 1:
            raise UserError(f"limit must be a positive number, not {limit}")
        conn = self.reader()
        try:
            if provider is not None:
                provider = resolve_ids(conn, [provider])[0]
            return history(conn, provider, since=since, limit=limit)
        finally:
            conn.close()

    def incidents(self, provider: str | None = None, *, since: datetime | None = None,
                  open_only: bool = False, kind: str | None = "incident") -> list[dict[str, Any]]:
        """Incidents (``kind="maintenance"``: maintenances; None: both), newest first."""
        from aggregator.history.report import incident_rows
        from aggregator.store.reader import resolve_ids

        conn = self.reader()
        try:
            if provider is not None:
                provider = resolve_ids(conn, [provider])[0]
            return incident_rows(conn, provider, since=since, open_only=open_only, kind=kind)
        finally:
            conn.close()

    def show(self, provider: str, *, incidents: int = 10, now: datetime | None = None) -> dict[str, Any]:
        """One vendor's page as the board shows it, as data: its status, components in page order
        (with groups), its most recent incidents and maintenances (backfilled and observed) with
        every update, observed and vendor-reported uptime over 90 days, how to be alerted, and its
        poll interval and next due time. QueryError for a provider not followed."""
        from datetime import UTC

        import orjson

        from aggregator.history.report import incident_rows, shown_percent, uptime_report
        from aggregator.store.reader import resolve_ids, status_rows

        if incidents < 0:
            raise UserError(f"incidents must be 0 or more, not {incidents}")
        now = now or datetime.now(UTC)
        conn = self.reader()
        try:
            (pid,) = resolve_ids(conn, [provider])
            (row,) = status_rows(conn, [pid])
            extra = conn.execute("SELECT interval, next_due_at FROM providers WHERE id = ?", [pid]).fetchone()
            components = [dict(c) for c in conn.execute(
                "SELECT id, name, group_name, status, description FROM components WHERE provider = ? "
                "ORDER BY page_order", [pid])]
            notices = incident_rows(conn, pid, kind=None, with_updates=True)[:incidents]
            report = uptime_report(conn, pid, days=90, now=now)
        finally:
            conn.close()
        snap = orjson.loads(row["snapshot"]) if row["snapshot"] else {}
        own, due = extra[0], extra[1]
        vendor = report["vendor_uptime"]
        page = report["page"]
        return {
            "id": pid, "name": row["name"] or pid, "category": row["category"], "platform": row["platform"],
            "url": snap.get("url") or row["url"],
            "status": row["status"] if row["last_success_at"] else "unknown", "description": row["description"],
            "reachable": bool(row["reachable"]) if row["last_polled_at"] else None,
            "last_error": row["last_error"], "last_polled_at": row["last_polled_at"],
            "components": components,
            "incidents": notices,
            "uptime": {"observed": {"label": "observed by upstream", "shown": shown_percent(page),
                                    "uptime_percent": page["uptime_percent"], "covers": page["coverage"]["text"]},
                       "vendor": vendor, "incidents": report["incidents"]},
            "interval_seconds": self.config.poll.interval_for(row["platform"], own),
            "own_interval": own is not None,
            "next_due_at": iso_z(datetime.fromtimestamp(due, UTC)) if due is not None else None,
            "subscribe": f"upstream subscribe https://example.com/your-webhook --provider {pid}",
            "feed": f"upstream export --format atom --provider {pid}",
        }

    def export(self, fmt: str = "json", *, providers: Sequence[str] = (), categories: Sequence[str] = (),
               history: bool = False) -> bytes:
        """The store as normalised JSON, NDJSON or Atom (``export_html`` writes the board)."""
        from aggregator.history.export import export_bytes, select

        conn = self.reader()
        try:
            return export_bytes(conn, fmt, select(conn, providers, categories), history=history)
        finally:
            conn.close()

    def parse(self, platform: str, files: Sequence[Path], url: str | None = None) -> Snapshot:
        """Normalise saved responses of ``platform`` offline (no database)."""
        from aggregator.adapters import parse_files

        return parse_files(platform, list(files), url)


def open_upstream(db: str | Path | None = None, config: Config | str | Path | None = None) -> Upstream:
    """An ``Upstream`` on the database ``db`` (default: ``$UPSTREAM_DB`` or the user data folder) and
    the configuration ``config`` (a ``Config``, a path to a config.toml, or the default file)."""
    return Upstream(db, config)
