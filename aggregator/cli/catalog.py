"""Catalog commands: providers search/list/show, categories, catalog verify, detect, platforms,
follow/unfollow. ``register(app)`` adds them to the ``upstream`` app.

The query commands (providers ..., categories) read only the CSV and TOML: they import neither the
HTTP nor the parsing stack, so ``upstream providers search`` starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from aggregator.cli.common import (
    FormatOption,
    console,
    emit_listing,
    fail,
    open_store,
    pick_format,
    print_json,
)


def _catalog() -> Any:
    from aggregator.catalog.data import load_catalog
    from aggregator.errors import CatalogError

    try:
        return load_catalog()
    except CatalogError as exc:
        fail(str(exc))


def _e(text: Any) -> str:
    from rich.markup import escape

    return escape(str(text)) if text is not None else ""


# ------------------------------------------------------------------------------------------------
# providers search / list / show, categories
# ------------------------------------------------------------------------------------------------

def providers_search(
    word: Annotated[str, typer.Argument(metavar="WORDS", help="Name, alias, abbreviation or host to look for")],
    limit: Annotated[int, typer.Option(metavar="N", min=1, help="At most this many results")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="JSON array of matches")] = False,
    fmt: FormatOption = None,
) -> None:
    """Find vendors in the catalog (exact names and aliases first, then prefixes, then fuzzy).

    Example: upstream providers search "google cloud"
    """
    fmt = pick_format(fmt, json_out)
    hits = _catalog().search(word, limit)
    records = [{**h.entry.to_dict(), "score": round(h.score, 1), "matched": h.matched} for h in hits]
    if fmt in ("json", "ndjson"):
        emit_listing(fmt, [], [], records)
        return
    if not hits:
        fail(f"no provider matches {word!r} (see: upstream providers list)")
    from aggregator.catalog.ids import fold

    rows = []
    for h in hits:
        e = h.entry
        alias = "" if fold(h.matched) in {fold(e.name), e.id} else h.matched
        rows.append([_e(e.id), _e(e.name), _e(e.platform), _e(e.url), _e(alias)])
    emit_listing(fmt, ["ID", "NAME", "PLATFORM", "URL", "ALSO KNOWN AS"], rows, records)


def providers_list(
    category: Annotated[str | None, typer.Option(metavar="CATEGORY",
                                                 help="Only this category (see: upstream categories)")] = None,
    platform: Annotated[str | None, typer.Option(metavar="PLATFORM",
                                                 help="Only this platform (see: upstream platforms)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON array of entries")] = False,
    fmt: FormatOption = None,
) -> None:
    """List catalog vendors, optionally of one category or platform.

    Example: upstream providers list --category "Cloud & Hosting" --format csv
    """
    fmt = pick_format(fmt, json_out)
    from aggregator.errors import CatalogError

    try:
        entries = _catalog().list_entries(category, platform)
    except CatalogError as exc:
        fail(str(exc))
    if fmt in ("json", "ndjson"):
        emit_listing(fmt, [], [], [e.to_dict() for e in entries])
        return
    # Plain cells: nothing here is markup, and escaping 3,500 rows x 5 cells costs more than printing.
    emit_listing(fmt, ["ID", "NAME", "CATEGORY", "PLATFORM", "URL"],
                 [[_e(e.id), _e(e.name), _e(e.category), _e(e.platform), _e(e.url)] for e in entries], [])
    if sys.stderr.isatty():
        console(stderr=True).print(f"{len(entries)} providers")


def providers_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Provider id, name or alias")],
    json_out: Annotated[bool, typer.Option("--json", help="The entry as JSON")] = False,
) -> None:
    """Everything the catalog knows about one vendor, and why it is trusted as much as it is.

    Example: upstream providers show github
    """
    from aggregator.catalog.data import trust_lines
    from aggregator.errors import CatalogError

    try:
        entry = _catalog().resolve(name)
    except CatalogError as exc:
        fail(str(exc))
    if json_out:
        print_json({**entry.to_dict(), "trust": trust_lines(entry)})
        return
    out = console()
    for key, value in entry.to_dict().items():
        if value in (None, "", [], False):
            continue
        shown = "; ".join(value) if isinstance(value, list) else value
        out.print(f"[bold]{key:>13}[/]  {_e(shown)}")
    for i, line in enumerate(trust_lines(entry)):
        out.print(f"[bold]{'why trusted' if i == 0 else '':>13}[/]  {_e(line)}")


def categories_command(
    json_out: Annotated[bool, typer.Option("--json", help="JSON object category -> count")] = False,
    fmt: FormatOption = None,
) -> None:
    """The fixed list of categories, with how many catalog vendors are in each.

    Example: upstream categories --format tsv
    """
    fmt = pick_format(fmt, json_out)
    counts = _catalog().categories()
    if fmt == "json":
        print_json(counts)
        return
    emit_listing(fmt, ["CATEGORY", "PROVIDERS"], [[_e(c), str(n)] for c, n in counts.items()],
                 [{"category": c, "providers": n} for c, n in counts.items()], key_columns=("CATEGORY",))


# ------------------------------------------------------------------------------------------------
# detect, platforms
# ------------------------------------------------------------------------------------------------

def _detection_lines(found: Any) -> list[tuple[str, str]]:
    data = found.to_dict()
    rows = [(k, str(v)) for k, v in data.items() if k not in {"reasons", "url"} and v not in (None, "")]
    rows += [("why", r) for r in data["reasons"]]
    return rows


def detect_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(metavar="URL", help="A status page URL (http or https)")],
    json_out: Annotated[bool, typer.Option("--json", help="The detection as JSON")] = False,
    timeout: Annotated[float, typer.Option(metavar="SECONDS", help="Seconds per request")] = 15.0,
) -> None:
    """Which platform serves a status page, where its API and feed are, and why we think so.

    Example: upstream detect https://www.githubstatus.com --json
    """
    from aggregator.catalog.detect import Verdict
    from aggregator.cli.common import upstream
    from aggregator.errors import UpstreamError

    try:
        found = upstream(ctx).detect(url, timeout=timeout)
    except UpstreamError as exc:
        fail(str(exc))
    if json_out:
        print_json(found.to_dict())
    else:
        out = console()
        for key, value in _detection_lines(found):
            out.print(f"[bold]{key:>9}[/]  {_e(value)}")
    if found.verdict not in {Verdict.ok, Verdict.moved}:
        fail(f"{url}: {found.verdict.value}" + (f" ({found.reasons[-1]})" if found.reasons else ""))


def platforms_command(
    json_out: Annotated[bool, typer.Option("--json", help="JSON array of platforms")] = False,
    fmt: FormatOption = None,
) -> None:
    """The platforms upstream reads, and what it reads from each.

    Example: upstream platforms --format csv
    """
    fmt = pick_format(fmt, json_out)
    from aggregator.adapters import load_adapters

    rows = [{"platform": name, "title": cls.title, "reads": sorted(cls.reads), "lacks": dict(sorted(cls.lacks.items()))}
            for name, cls in load_adapters().items()]
    if fmt in ("json", "ndjson"):
        emit_listing(fmt, [], [], rows)
        return
    cells = []
    for row in rows:
        # What the platform itself does not have is said, so that an empty list is not a mystery.
        lacks = "; ".join(f"no {part} ({why})" for part, why in row["lacks"].items())
        cells.append([_e(row["platform"]), _e(row["title"]),
                      _e("; ".join(filter(None, [", ".join(row["reads"]), lacks])))])
    emit_listing(fmt, ["PLATFORM", "TITLE", "READS"], cells, rows, key_columns=("PLATFORM",))


# ------------------------------------------------------------------------------------------------
# catalog verify
# ------------------------------------------------------------------------------------------------

NOTHING_ANSWERS_AFTER = 12  # probes with no answer at all before a run stops and blames the network


def _result_line(result: Any, done: int, total: int) -> str:
    """One line per probed row, written the moment its probe ends (tab-separated: greppable, and
    readable in a terminal)."""
    platform = result.entry.platform if result.platform in (None, result.entry.platform) else \
        f"{result.entry.platform}->{result.platform}"
    where = result.detection.moved_to or result.entry.url
    reason = " ".join(result.reason.split())
    return f"[{done}/{total}]\t{result.entry.id}\t{result.outcome}\t{platform}\t{where}\t{reason}"


def catalog_verify(
    ids: Annotated[list[str] | None, typer.Argument(help="Provider ids or names (default: the whole catalog)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON array of results (written at the end)")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=200, help="Pages probed at once")] = 8,
    write: Annotated[bool, typer.Option("--write", help="Record what the probes found, with the date, in your "
                                                        "catalog.toml (or in the --catalog CSV)")] = False,
    catalog_path: Annotated[Path | None, typer.Option("--catalog", help="A catalog CSV to verify (and, with "
                                                                           "--write, update) instead of yours")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per request")] = 10.0,
) -> None:
    """Probe catalog pages: dead, unreachable, moved, login-only, inactive, unclaimed, not a status
    page, platform mismatch. Results stream as they come; Ctrl-C keeps (and --write records) those."""
    import asyncio

    from aggregator.catalog.data import (
        Catalog,
        nothing_reached,
        read_csv,
        record_verification,
        user_catalog_path,
        verify,
        write_verification,
    )
    from aggregator.errors import CatalogError
    from aggregator.http import HttpClient

    try:
        catalog = Catalog(read_csv(catalog_path)) if catalog_path else _catalog()
        entries = [catalog.resolve(i) for i in ids] if ids else list(catalog.entries)
    except CatalogError as exc:
        fail(str(exc))
    results: list[Any] = []

    class _NothingAnswers(Exception):
        pass

    def on_done(result: Any) -> None:
        results.append(result)
        if not json_out:
            sys.stdout.write(_result_line(result, len(results), len(entries)) + "\n")
            sys.stdout.flush()  # also when piped: each line as its probe ends
        # With no network every probe times out: say so after the first dozen, not after all of them.
        if len(results) == NOTHING_ANSWERS_AFTER < len(entries) and nothing_reached(results):
            raise _NothingAnswers

    async def run() -> None:
        async with HttpClient(timeout=timeout) as http:
            await verify(entries, http, concurrency=concurrency, on_done=on_done)

    interrupted = gave_up = False
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        interrupted = True
    except _NothingAnswers:
        gave_up = True
    by_id = {e.id: i for i, e in enumerate(entries)}
    results.sort(key=lambda r: by_id.get(r.entry.id, 0))
    if json_out:
        print_json([r.to_dict() for r in results])
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    if interrupted:
        sys.stderr.write(f"upstream: interrupted after {len(results)} of {len(entries)} probes"
                         + (f" ({summary})" if summary else "") + "\n")
    elif summary:
        sys.stderr.write(summary + "\n")
    nobody = nothing_reached(results)
    if nobody and not interrupted:
        fail(nobody + (f" (stopped after the first {len(results)} of {len(entries)})" if gave_up else ""), code=3)
    if write and results and not nobody:
        try:
            if catalog_path:
                for note in write_verification(catalog_path, results):
                    sys.stderr.write(f"upstream: note: {note}\n")
                where = catalog_path
            else:
                record_verification(results)
                where = user_catalog_path()
        except (CatalogError, OSError) as exc:
            fail(f"cannot record the results: {exc}")
        sys.stderr.write(f"upstream: recorded {len(results)} results (checked {results[0].checked}) in {where}\n")
    if interrupted:
        raise typer.Exit(130)


# ------------------------------------------------------------------------------------------------
# follow / unfollow
# ------------------------------------------------------------------------------------------------

def follow_command(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(help="Catalog ids, names or aliases (see: upstream providers search)")],
) -> None:
    """Follow catalog vendors (nothing is followed if one name is unknown or ambiguous)."""
    from aggregator.catalog.data import follow
    from aggregator.errors import CatalogError

    catalog = _catalog()
    with open_store(ctx) as store:
        try:
            entries = follow(store, names, catalog)
        except CatalogError as exc:
            fail(str(exc))
    for entry in entries:
        typer.echo(f"following {entry.id} ({entry.name}, {entry.platform})")


def unfollow_command(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(help="Followed ids, or catalog names")],
) -> None:
    """Stop following vendors (their event history is kept)."""
    from aggregator.catalog.data import unfollow
    from aggregator.errors import CatalogError

    with open_store(ctx) as store:
        try:
            done = unfollow(store, names, _catalog())
        except CatalogError as exc:
            fail(str(exc))
    missing = [pid for pid, removed in done if not removed]
    for pid, removed in done:
        if removed:
            typer.echo(f"unfollowed {pid}")
    if missing:
        fail(f"not following {', '.join(missing)}")


def register(app: typer.Typer) -> None:
    providers_app = typer.Typer(help="The vendor catalog: search, list, show.", no_args_is_help=True)
    providers_app.command("search")(providers_search)
    providers_app.command("list")(providers_list)
    providers_app.command("show")(providers_show)
    app.add_typer(providers_app, name="providers")
    catalog_app = typer.Typer(help="Check the catalog against the live pages.", no_args_is_help=True)
    catalog_app.command("verify")(catalog_verify)
    app.add_typer(catalog_app, name="catalog")
    app.command("categories")(categories_command)
    app.command("detect")(detect_command)
    app.command("platforms")(platforms_command)
    app.command("follow")(follow_command)
    app.command("unfollow")(unfollow_command)
