#!/usr/bin/env python3
"""Print how long loading the catalog and searching it take (what `upstream providers search` pays).

    .venv/bin/python benchmarks/catalog_search.py

Measures, in a fresh interpreter each time: import of the catalog module, the first load of the
shipped CSV, searches of several kinds (exact alias, prefix, fuzzy typo, no match), and the whole
`upstream providers search` command through typer. Figures vary with the machine; nothing here is
asserted.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

IN_PROCESS = r"""
import time
t0 = time.perf_counter()
from aggregator.catalog import data as catalog
t1 = time.perf_counter()
c = catalog.load_catalog()
t2 = time.perf_counter()
print(f"rows: {len(c)}")
print(f"import aggregator.catalog.data: {(t1 - t0) * 1000:.1f} ms")
print(f"first load_catalog():      {(t2 - t1) * 1000:.1f} ms")
for word in ("AWS", "GCP", "cloudfl", "githbu", "status", "qqqzzzxxx"):
    t = time.perf_counter()
    hits = c.search(word, 10)
    dt = (time.perf_counter() - t) * 1000
    top = hits[0].entry.id if hits else "-"
    print(f"search {word!r:12} {dt:7.1f} ms  ({len(hits)} hits, top {top})")
t = time.perf_counter()
for _ in range(20):
    c.search("githbu", 10)
print(f"fuzzy search, warm:        {(time.perf_counter() - t) / 20 * 1000:.1f} ms each")
"""

COMMAND = r"""
import typer
from aggregator.cli.catalog import register
app = typer.Typer()
@app.callback()
def root() -> None: ...
register(app)
app(args=["providers", "search", "GCP", "--json"], standalone_mode=False)
"""


def main() -> None:
    subprocess.run([sys.executable, "-c", IN_PROCESS], cwd=REPO, check=True)
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", COMMAND], cwd=REPO, check=True, capture_output=True)
        runs.append(time.perf_counter() - started)
    print(f"whole `providers search GCP --json` process (interpreter start included): "
          f"best {min(runs) * 1000:.0f} ms, median {sorted(runs)[2] * 1000:.0f} ms of 5")


if __name__ == "__main__":
    main()
