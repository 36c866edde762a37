"""Time `upstream import` of N statuspage-shaped pages served on 127.0.0.1 (plus a decoy, a login
page, a duplicate and a 404): python benchmarks/import_speed.py 5000 [--dry-run].
CFG env: config.toml text (e.g. per_host = 32) for the caps."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pathlib import Path

from tests.loopback import LoopbackServer

F = Path(__file__).resolve().parent.parent / "fixtures"
summary = (F / "statuspage/acme-1-operational.json").read_bytes()
n = int(sys.argv[1])
with LoopbackServer() as site:
    for k in range(n):
        site.set(f"/p{k}", b"<html><head><title>Acme %d Status</title></head></html>" % k, content_type="text/html")
        site.set(f"/p{k}/api/v2/summary.json", summary)
    site.set("/decoy", (F / "detect/marketing.html").read_bytes(), content_type="text/html")
    site.set("/login", (F / "detect/statuspage-login.html").read_bytes(), content_type="text/html")
    d = tempfile.mkdtemp()
    urls = [site.url(f"/p{k}") for k in range(n)] + [site.url("/decoy"), site.url("/login"), site.url("/p0"), site.url("/gone")]
    Path(d, "list.txt").write_text("\n".join(urls))
    Path(d, "config.toml").write_text(os.environ.get("CFG", ""))
    env = {**os.environ, "UPSTREAM_CONFIG_DIR": d}
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "aggregator.cli.main", "--db", f"{d}/up.db", "import", f"{d}/list.txt"] + sys.argv[2:], capture_output=True, text=True, env=env)
    print("seconds", time.monotonic() - t, "rc", r.returncode)
    print(r.stdout[-1500:])
    print(r.stderr[-1500:])
    from collections import Counter
    print(len(site.hits), Counter(p.split("/")[-1] for p, _ in site.hits).most_common(8))
