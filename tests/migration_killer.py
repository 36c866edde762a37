"""Kill a schema migration at every statement: ``python -m tests.migration_killer BASE OUTDIR``.

For k = 1, 2, ... a forked child copies BASE (or starts from no file when BASE is ``-``) to
OUTDIR/k.db, opens it with ``open_store`` (which migrates it) and SIGKILLs itself just before
the k-th statement of the migration runs (SQLite's statement trace fires as a statement starts).
It stops at the first k the migration finishes before reaching, and prints one JSON line per k:
``{"k": k, "killed": true|false}``. Forking from this one process saves importing upstream for
every kill point; nothing is mocked: the migration, SQLite and the kill are real.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path

from aggregator.core import open_store
from aggregator.store import writer


def _open_killed_at(path: Path, kill_at: int) -> None:
    real_connect = writer.connect
    seen = 0

    def traced(where: object, **options: object):  # type: ignore[no-untyped-def]
        conn = real_connect(where, **options)  # type: ignore[arg-type]

        def count(_sql: str) -> None:
            nonlocal seen
            seen += 1
            if seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        conn.set_trace_callback(count)
        return conn

    writer.connect = traced  # type: ignore[assignment]
    open_store(path).close()


def main() -> None:
    base, outdir = sys.argv[1], Path(sys.argv[2])
    for kill_at in range(1, 500):
        target = outdir / f"{kill_at}.db"
        if base != "-":
            shutil.copyfile(base, target)
        pid = os.fork()
        if pid == 0:
            try:
                _open_killed_at(target, kill_at)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        print(json.dumps({"k": kill_at, "killed": killed}), flush=True)
        if not killed:
            return


if __name__ == "__main__":
    main()
