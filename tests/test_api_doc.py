"""docs/api.md: its example runs as written, against a Statuspage page served on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO
from tests.loopback import LoopbackServer


def test_the_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    doc = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```python\n(.*?)```", doc, re.S)
    monkeypatch.chdir(tmp_path)
    with LoopbackServer() as page:
        page.set_file("/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json")
        code = example.replace('"https://status.example.com"', repr(page.url().rstrip("/")))
        exec(compile(code, "docs/api.md", "exec"), {})  # noqa: S102 - the documentation's own example
    out = capsys.readouterr().out
    assert re.search(r"^polled 1, \d+ events$", out, re.M)
    assert re.search(r"^example operational$", out, re.M)
    assert "provider.status_changed" in out
    assert "refused: not an http(s) URL" in out
    assert (tmp_path / "example.db").exists()


def test_the_public_api_is_what_the_package_exports() -> None:
    import aggregator

    for name in aggregator.__all__:
        assert getattr(aggregator, name) is not None
    with pytest.raises(AttributeError):
        aggregator.no_such_name  # noqa: B018
