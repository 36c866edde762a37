"""``upstream show ID``: one vendor's page in the terminal, as the board shows it (issue 13).

Status, components in page order with their groups, the recent incidents with every update's
markdown rendered by rich (``aggregator.history.markup.to_rich``), the uptime line (observed by
upstream and reported by the vendor, each saying what it covers), how to be alerted, and the
provider's poll interval and next due time. The data comes from ``Upstream.show``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from aggregator.cli import common as cli


def register(app: typer.Typer) -> None:
    known = {c.callback for c in app.registered_commands}
    if show_command not in known:
        app.command("show")(show_command)


def show_command(
    ctx: typer.Context,
    provider: Annotated[str, typer.Argument(help="Provider id or name")],
    incidents: Annotated[int, typer.Option(help="How many recent incidents and maintenances", min=0)] = 5,
    json_out: Annotated[bool, typer.Option("--json", help="The same as JSON (UTC)")] = False,
) -> None:
    """One vendor's page: status, components, incidents, uptime, alerts."""
    from aggregator.errors import UpstreamError

    try:
        page = cli.upstream(ctx).show(provider, incidents=incidents)
    except UpstreamError as exc:
        cli.fail(str(exc))
    if json_out:
        cli.print_json(page)
        return
    print_page(page, datetime.now(UTC))


def print_page(page: dict[str, Any], now: datetime) -> None:
    from rich.markup import escape
    from rich.padding import Padding
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    from aggregator.history.markup import to_rich
    from aggregator.history.report import duration, human_duration, percent

    out = cli.console()
    title = Text(page["name"], style="bold")
    title.append(f"  {page['category'] or 'Uncategorised'} · {page['platform']}", style="dim")
    out.print(title)
    line = f"{cli.styled_status(page['status'])}" + (f" - {escape(page['description'])}" if page["description"] else "")
    out.print(line)
    if page["reachable"] is False:
        out.print(f"[red]unreachable[/] at the last poll: {escape(page['last_error'] or '')}")
    elif page["last_polled_at"] is None:
        out.print("not polled yet: upstream poll")
    out.print(Text(page["url"] or "", style="dim"))

    out.print(Rule("Components", align="left"))
    vendor = (page["uptime"]["vendor"] or {}).get("components") or []
    reported = {c["id"]: c for c in vendor}
    if page["components"]:
        table = Table(box=None, header_style="bold", pad_edge=False, show_header=True)
        table.add_column("COMPONENT")
        table.add_column("STATUS")
        table.add_column("VENDOR-REPORTED", justify="right")
        group = None
        for c in page["components"]:
            if c["group_name"] != group and c["group_name"]:
                table.add_row(Text(c["group_name"], style="bold"), "", "")
            group = c["group_name"]
            name = ("  " if c["group_name"] else "") + c["name"]
            rep = reported.get(c["id"])
            table.add_row(escape(name), cli.styled_status(c["status"]),
                          percent(rep["uptime_percent"]) if rep else "-")
        out.print(table)
    else:
        out.print("The page lists no components.")

    observed = page["uptime"]["observed"]
    uptime = f"Uptime, last 90 days: observed by upstream {observed['shown']} ({observed['covers']})"
    if page["uptime"]["vendor"]:
        pages = [c for c in vendor if not c["is_group"]]
        worst = min((c["uptime_percent"] for c in pages if c["uptime_percent"] is not None), default=None)
        uptime += (f"; reported by the vendor: lowest component {percent(worst)} "
                   f"({page['uptime']['vendor']['covers']})")
    out.print(uptime, markup=False)
    stats = page["uptime"]["incidents"]
    out.print(f"Incidents, last 90 days: {stats['count']}"
              + (f" ({stats['backfilled']} from the vendor's history, {stats['observed']} observed)"
                 if stats["backfilled"] else "")
              + f"; mean time to resolve {human_duration(stats['mttr_seconds'])} ({stats['mttr_counts']})",
              markup=False)

    out.print(Rule("Recent incidents", align="left"))
    if not page["incidents"]:
        out.print("No incidents stored.")
    for n in page["incidents"]:
        seconds, ongoing = duration(n, now)
        head = Text()
        head.append(n["title"], style="bold")
        head.append(f"  [{n['impact']}]", style={"critical": "red", "major": "dark_orange", "minor": "yellow",
                                                  "maintenance": "blue"}.get(n["impact"], ""))
        head.append(f" {n['status'].replace('_', ' ')}")
        if n.get("backfilled"):
            head.append("  from the vendor's history", style="dim")
        out.print(head)
        start = n["scheduled_for"] if n["kind"] == "maintenance" and n["scheduled_for"] else n["started_at"]
        when = f"started {cli.local_time(start)}"
        if n["is_open"]:
            when += f", ongoing for {human_duration(seconds)}"
        else:
            when += f", resolved {cli.local_time(n['resolved_at'])}, lasted {human_duration(seconds)}"
        out.print(Text(when, style="dim"))
        for u in n.get("updates") or []:
            out.print(Padding(Text(f"{(u['status'] or 'update').replace('_', ' ').capitalize()} · "
                                   f"{cli.local_time(u['created_at'])}", style="bold cyan"), (0, 0, 0, 2)))
            out.print(Padding(to_rich(u["body"]), (0, 0, 0, 4)))
        out.print()

    out.print(Rule("Get alerted", align="left"))
    out.print(page["subscribe"], markup=False, highlight=False)
    out.print(f"Atom feed of its changes: {page['feed']}", markup=False, highlight=False)
    interval = human_duration(page["interval_seconds"])
    due = cli.local_time(page["next_due_at"]) if page["next_due_at"] else "now (never polled)"
    out.print(f"Polled every {interval}" + (" (its own interval)" if page["own_interval"] else "")
              + f"; next due {due}", markup=False)
