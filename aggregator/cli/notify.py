"""Commands to be told about changes: subscribe, subscriptions, deliver, deliveries.

Secrets are shown once, when ``upstream subscribe`` creates a webhook's signing secret; every
other output (list, show, deliveries, errors) uses the masked form.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from aggregator.cli import common as cli

subscriptions_app = typer.Typer(help="List, inspect, pause, resume, test and remove subscriptions.",
                                no_args_is_help=True, rich_markup_mode=None)
deliveries_app = typer.Typer(help="Notifications queued, sent and failed; retry failed ones.",
                             invoke_without_command=True, rich_markup_mode=None)

STATE_STYLE = {"delivered": "green", "pending": "yellow", "sending": "yellow", "failed": "red", "folded": "dim"}


def _store(ctx: typer.Context) -> Any:
    return cli.open_store(ctx)


def _subscription(store: Any, ref: str) -> Any:
    from aggregator.errors import SubscriptionError
    from aggregator.notify.subscriptions import get_subscription

    try:
        return get_subscription(store.conn, ref)
    except SubscriptionError as exc:
        cli.fail(str(exc))


def _counts(store: Any) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for sub_id, state, n in store.conn.execute("SELECT subscription_id, state, count(*) FROM deliveries "
                                               "GROUP BY subscription_id, state"):
        counts.setdefault(sub_id, {})[state] = n
    return counts


# ------------------------------------------------------------------------------------------------
# subscribe
# ------------------------------------------------------------------------------------------------

def subscribe_command(
    ctx: typer.Context,
    sink: Annotated[str, typer.Argument(help="https://... webhook, cmd:COMMAND, file:PATH.ndjson, or an Apprise URL "
                                             "(slack://, mailto://, ntfy://, discord://, ...)")],
    provider: Annotated[list[str] | None, typer.Option("--provider", "-p", help="Only this provider (repeatable)")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="Only providers of this category")] = None,
    component: Annotated[list[str] | None, typer.Option("--component", help="Only components matching this glob "
                                                                          "(name, id or group; repeatable)")] = None,
    region: Annotated[list[str] | None, typer.Option("--region", help="Only this region (glob; repeatable)")] = None,
    min_severity: Annotated[str | None, typer.Option("--min-severity", help="minor, major or critical")] = None,
    kinds: Annotated[str | None, typer.Option("--kinds", help="Comma list of incident, component, maintenance, "
                                                            "provider, unreachable (default: incident,component,"
                                                            "maintenance)")] = None,
    notify_unreachable: Annotated[bool, typer.Option("--notify-unreachable",
                                                     help="Also say when a page cannot be fetched")] = False,
    name: Annotated[str | None, typer.Option("--name", help="A name to refer to it by")] = None,
    secret: Annotated[str | None, typer.Option("--secret", help="Webhook signing secret whsec_... (default: generated, "
                                                              "shown once)")] = None,
    sink_type: Annotated[str | None, typer.Option("--type", help="Force the sink type: webhook, command, file, "
                                                               "apprise")] = None,
    flap_window: Annotated[str, typer.Option("--flap-window", help="Fold status changes that revert within this "
                                                                 "(e.g. 5m; 0 = off)")] = "5m",
    max_attempts: Annotated[int | None, typer.Option("--max-attempts", help="Attempts before a delivery "
                                                                          "fails (default 8)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the subscription as JSON")] = False,
) -> None:
    """Be told about changes: send matching events to a webhook, a command, a file or a chat/email service."""
    from aggregator.errors import QueryError, SubscriptionError
    from aggregator.notify.subscriptions import Filters, create_subscription, parse_duration, parse_kinds
    from aggregator.store.reader import resolve_ids

    with _store(ctx) as store:
        try:
            providers = resolve_ids(store.conn, provider) if provider else []
            filters = Filters(providers=providers, categories=category or [], components=component or [],
                              regions=region or [], min_severity=min_severity.lower() if min_severity else None,
                              kinds=parse_kinds(kinds, notify_unreachable))
            sub = create_subscription(store.conn, sink, filters, name=name, secret=secret, sink_type=sink_type,
                                      flap_window=parse_duration(flap_window), max_attempts=max_attempts)
        except (SubscriptionError, QueryError) as exc:
            cli.fail(str(exc))
    generated = sub.secret if sub.sink == "webhook" and not secret else None
    if json_out:
        cli.print_json({**sub.public(), "signing_secret": generated})
        return
    typer.echo(f"subscription {sub.id}{f' ({sub.name})' if sub.name else ''}: {sub.sink} {sub.display}")
    typer.echo(f"  wants: {sub.filters.describe()}")
    if generated:
        typer.echo(f"  signing secret (shown once, keep it): {generated}")
    typer.echo("  try it: upstream subscriptions test " + str(sub.id))


# ------------------------------------------------------------------------------------------------
# subscriptions
# ------------------------------------------------------------------------------------------------

@subscriptions_app.command("list")
def list_command(ctx: typer.Context,
                 json_out: Annotated[bool, typer.Option("--json", help="JSON array")] = False,
                 fmt: cli.FormatOption = None) -> None:
    """Every subscription, its sink (secrets masked), what it wants and how its deliveries went.

    Example: upstream subscriptions list --format tsv
    """
    fmt = cli.pick_format(fmt, json_out)
    json_out = fmt in ("json", "ndjson")
    from aggregator.notify.subscriptions import load_subscriptions

    with _store(ctx) as store:
        subs = load_subscriptions(store.conn)
        counts = _counts(store)
    if json_out:
        cli.emit_listing(fmt, [], [], [{**s.public(), "deliveries": counts.get(s.id, {})} for s in subs])
        return
    if not subs and fmt == "table":
        typer.echo("No subscriptions: upstream subscribe URL [--provider ID] ...")
        return
    from rich.markup import escape

    cells = []
    for s in subs:
        c = counts.get(s.id, {})
        cells.append([str(s.id), escape(s.name or ""), s.sink, escape(s.display), escape(s.filters.describe()),
                      ("[yellow]paused[/]" + (f" by the {escape(s.paused_reason.split(':')[0])}" if s.paused_reason else ""))
                      if s.paused else "active", str(c.get("pending", 0) + c.get("sending", 0)),
                      str(c.get("failed", 0)), str(c.get("delivered", 0))])
    cli.emit_listing(fmt, ["ID", "NAME", "SINK", "TARGET", "WANTS", "STATE", "PENDING", "FAILED", "SENT"], cells, [],
                     key_columns=("ID", "TARGET"))


@subscriptions_app.command("show")
def show_command(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Subscription id or name")],
                 json_out: Annotated[bool, typer.Option("--json", help="JSON object")] = False) -> None:
    """One subscription in detail, with its latest deliveries."""
    from aggregator.notify.dispatch import list_deliveries

    with _store(ctx) as store:
        sub = _subscription(store, ref)
        counts = _counts(store).get(sub.id, {})
        recent = list_deliveries(store, subscription=sub.id, limit=10)
    if json_out:
        cli.print_json({**sub.public(), "deliveries": counts, "recent": recent})
        return
    info = sub.public()
    out = cli.console()
    for key in ("id", "name", "sink", "target", "secret", "paused", "created_at"):
        if info[key] is not None:
            out.print(f"{key:12} {info[key]}", markup=False)
    out.print(f"{'wants':12} {sub.filters.describe()}", markup=False)
    out.print(f"{'flap window':12} {sub.flap_window:g}s", markup=False)
    out.print(f"{'max attempts':12} {sub.max_attempts or 'default'}", markup=False)
    out.print(f"{'deliveries':12} " + (", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"),
              markup=False)
    for d in recent:
        out.print(f"  #{d['id']} {d['state']:9} {d['text'] or d['type']}"
                  + (f"  ({d['last_error']})" if d["last_error"] and d["state"] != "delivered" else ""), markup=False)


def _set_paused(ctx: typer.Context, ref: str, paused: bool) -> None:
    from aggregator.errors import SubscriptionError
    from aggregator.notify.subscriptions import set_paused

    with _store(ctx) as store:
        try:
            sub = set_paused(store.conn, ref, paused)
        except SubscriptionError as exc:
            cli.fail(str(exc))
    typer.echo(f"{'paused' if paused else 'resumed'} subscription {sub.label}")


@subscriptions_app.command("pause")
def pause_command(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Subscription id or name")]) -> None:
    """Stop notifying (events meanwhile are not queued; queued ones wait)."""
    _set_paused(ctx, ref, True)


@subscriptions_app.command("resume")
def resume_command(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Subscription id or name")]) -> None:
    """Notify again."""
    _set_paused(ctx, ref, False)


@subscriptions_app.command("remove")
def remove_command(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Subscription id or name")]) -> None:
    """Delete a subscription and its queued deliveries."""
    from aggregator.errors import SubscriptionError
    from aggregator.notify.subscriptions import remove_subscription

    with _store(ctx) as store:
        try:
            sub = remove_subscription(store.conn, ref)
        except SubscriptionError as exc:
            cli.fail(str(exc))
    typer.echo(f"removed subscription {sub.label}")


@subscriptions_app.command("test")
def test_command(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Subscription id or name")]) -> None:
    """Send a sample event through the subscription's real sink now."""
    from aggregator.http import run
    from aggregator.notify.dispatch import send_test

    with _store(ctx) as store:
        sub = _subscription(store, ref)
        _, payload, result = run(send_test(store, sub.id))
    if not result.ok:
        cli.fail(f"test notification to {sub.display} failed: {result.error}")
    status = f" (HTTP {result.status})" if sub.sink == "webhook" and result.status else ""
    typer.echo(f"sent a test notification to {sub.display}{status}: id {payload['id']}")


@subscriptions_app.command("schema")
def schema_command(output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write")] = None) -> None:
    """The JSON Schema of the event payload every sink receives."""
    import orjson

    from aggregator.notify.payload import json_schema

    data = orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    cli.write_output(data, output)


# ------------------------------------------------------------------------------------------------
# deliver / deliveries
# ------------------------------------------------------------------------------------------------

def deliver_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="At most this many deliveries")] = 200,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Send the notifications that are due, once (upstream watch does this continuously)."""
    from aggregator.http import run
    from aggregator.notify.dispatch import deliver_pending

    with _store(ctx) as store:
        report = run(deliver_pending(store, limit=limit))
    if json_out:
        cli.print_json({"attempted": report.attempted, "delivered": report.delivered, "retrying": report.retrying,
                        "failed": report.failed, "interrupted": report.interrupted,
                        "next_due": report.next_due.isoformat().replace("+00:00", "Z") if report.next_due else None,
                        "results": [r.__dict__ for r in report.results], "seconds": round(report.seconds, 3)})
        return
    out = cli.console()
    for r in report.results:
        tail = "" if r.ok else f": {r.error}" + (f" (retry in {r.retry_in:.0f}s)" if r.retry_in else "")
        out.print(f"  #{r.delivery_id} {r.type} -> subscription {r.subscription_id}: {r.state}{tail}", markup=False)
    out.print(report.summary(), markup=False)


@deliveries_app.callback()
def deliveries_command(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only deliveries that failed for good")] = False,
    pending: Annotated[bool, typer.Option("--pending", help="Only deliveries waiting to be sent")] = False,
    subscription: Annotated[str | None, typer.Option("--subscription", "-s", help="Only this subscription")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also changes folded into another notification")] = False,
    limit: Annotated[int, typer.Option(metavar="N", min=1, help="At most this many, newest first")] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="JSON array")] = False,
    fmt: cli.FormatOption = None,
) -> None:
    """Notifications queued, sent and failed (newest first).

    Example: upstream deliveries --failed --format tsv
    """
    if ctx.invoked_subcommand is not None:
        return
    fmt = cli.pick_format(fmt, json_out)
    json_out = fmt in ("json", "ndjson")
    from aggregator.notify.dispatch import list_deliveries

    states = ["failed"] if failed else ["pending", "sending"] if pending else \
        None if show_all else ["pending", "sending", "delivered", "failed"]
    with _store(ctx) as store:
        sub_id = _subscription(store, subscription).id if subscription else None
        rows = list_deliveries(store, states=states, subscription=sub_id, limit=limit)
    if json_out:
        cli.emit_listing(fmt, [], [], rows)
        return
    if not rows and fmt == "table":
        typer.echo("No failed deliveries." if failed else "No deliveries.")
        return
    from rich.markup import escape

    cells = []
    for d in rows:
        when = d["delivered_at"] if d["state"] == "delivered" else d["not_before"] or d["created_at"]
        cells.append([str(d["id"]), str(d["subscription_id"]),
                      f"[{STATE_STYLE.get(d['state'], 'white')}]{d['state']}[/]", str(d["attempts"]),
                      cli.local_time(when), escape(d["text"] or d["type"]),
                      escape(d["last_error"] or "") if d["state"] != "delivered" else ""])
    cli.emit_listing(fmt, ["ID", "SUB", "STATE", "TRIES", "WHEN", "WHAT", "ERROR"], cells, [])
    if failed and fmt == "table":
        sys.stderr.write("re-send with: upstream deliveries retry ID... (or --all-failed)\n")


@deliveries_app.command("retry")
def retry_command(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="Delivery ids")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Every failed delivery")] = False,
) -> None:
    """Send failed deliveries again (due now, with a fresh set of attempts)."""
    from aggregator.notify.dispatch import retry_deliveries

    if not ids and not all_failed:
        cli.fail("give delivery ids or --all-failed")
    with _store(ctx) as store:
        try:
            done = retry_deliveries(store, ids, all_failed=all_failed)
        except KeyError as exc:
            cli.fail(f"no delivery {exc.args[0]}")
    if not done:
        typer.echo("nothing to retry")
        return
    typer.echo(f"queued again: {', '.join(f'#{i}' for i in done)} (sent by upstream watch or upstream deliver)")


@deliveries_app.command("show")
def delivery_show_command(
    ctx: typer.Context,
    delivery_id: Annotated[int, typer.Argument(help="Delivery id")],
    json_out: Annotated[bool, typer.Option("--json", help="JSON object with the payload and attempts")] = False,
) -> None:
    """One delivery: its payload and every attempt."""
    import orjson

    from aggregator.notify.dispatch import delivery_attempts, list_deliveries

    with _store(ctx) as store:
        row = next(iter(list_deliveries(store, delivery_id=delivery_id, limit=1)), None)
        if row is None:
            cli.fail(f"no delivery {delivery_id}")
        payload = orjson.loads(store.conn.execute("SELECT payload FROM deliveries WHERE id = ?",
                                                  [delivery_id]).fetchone()[0])
        attempts = delivery_attempts(store, delivery_id)
    if json_out:
        cli.print_json({**row, "payload": payload, "attempts": attempts})
        return
    out = cli.console()
    out.print(f"#{row['id']} {row['type']} -> subscription {row['subscription_id']} ({row['target']}): "
              f"{row['state']}", markup=False)
    out.print(f"  {row['text'] or ''}", markup=False)
    out.print(f"  id {row['idempotency_key']}, events {row['event_seq']}..{row['last_event_seq']}", markup=False)
    for a in attempts:
        out.print(f"  attempt {a['attempt']} at {cli.local_time(a['started_at'])}: {a['outcome'] or 'in flight'}"
                  + (f" ({a['status']})" if a["status"] is not None else "")
                  + (f" {a['error']}" if a["error"] else ""), markup=False)


def register(app: typer.Typer) -> None:
    app.command("subscribe")(subscribe_command)
    app.add_typer(subscriptions_app, name="subscriptions")
    app.command("deliver")(deliver_command)
    app.add_typer(deliveries_app, name="deliveries")
