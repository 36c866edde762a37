"""Print the README's platform table from the registered adapters and the fixtures on disk.

    python tools/platform_table.py        # paste between the README's platform-table markers
"""

from __future__ import annotations

import csv
from pathlib import Path

from aggregator.adapters import load_adapters

REPO = Path(__file__).resolve().parent.parent
# Where each platform's real captures live in ../shared/corpus (read in place by the tests).
CORPUS_GLOBS = {
    "statuspage": ["statuspage/*"], "incidentio": ["incidentio/*"], "instatus": ["instatus/*"],
    "betterstack": ["betterstack/*"], "statusio": ["statusio/*"], "cachet": ["cachet/*"], "cstate": ["cstate/*"],
    "gcp": ["gcp/*"], "aws": ["aws/*"], "azure": ["azure/*"], "slack": ["slack/*"], "heroku": ["heroku/*"],
    "salesforce": ["salesforce/*"], "apple": ["apple/*"], "html": ["statuspage-html/*"],
    "uptimekuma": ["uptimekuma/*"], "uptimerobot": ["uptimerobot/*"], "uptimecom": ["uptimecom/*"],
    "gatus": ["gatus/*"],
    "feed": ["statuspage/*.atom", "statuspage/*.rss", "incidentio/*.atom", "aws/*.rss", "azure/*.xml"],
}


def rows() -> list[tuple[str, str, str, int, int, int]]:
    catalog = REPO / "providers" / "catalog.csv"
    counts: dict[str, int] = {}
    with catalog.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            counts[row["platform"]] = counts.get(row["platform"], 0) + 1
    corpus = REPO.parent / "shared" / "corpus"
    out = []
    for platform, adapter in load_adapters().items():
        authored = len(list((REPO / "fixtures" / platform).glob("*")))
        real = sum(len(list(corpus.glob(g))) for g in CORPUS_GLOBS.get(platform, []))
        reads = ", ".join(sorted(adapter.reads)) or "overall status"
        lacks = "; ".join(f"no {part} ({why})" for part, why in sorted(adapter.lacks.items()))
        out.append((platform, adapter.title, f"{reads}; {lacks}" if lacks else reads,
                    authored, real, counts.get(platform, 0)))
    return out


def main() -> None:
    print("| platform | what it is | reads | fixtures (authored) | real captures tested | catalog rows |")
    print("|---|---|---|---|---|---|")
    for platform, title, reads, authored, real, catalog_rows in rows():
        print(f"| `{platform}` | {title} | {reads} | {authored} | {real} | {catalog_rows} |")


if __name__ == "__main__":
    main()
