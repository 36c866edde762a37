"""``upstream mcp`` driven by the MCP SDK's own stdio client: list the tools, call each."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests import boarddb
from tests.conftest import REPO


async def session_calls(db: Path, errlog: Path) -> tuple[list[str], dict[str, object], dict[str, bool]]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=sys.executable, args=["-m", "aggregator.cli", "--db", str(db), "mcp"],
                                   env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=str(REPO))
    calls = {"status": {}, "components": {"provider": "acme"}, "incidents": {"provider": "Acme Cloud"},
             "maintenances": {}, "history": {"since": "2026-11-20", "provider": "acme", "limit": 5},
             "catalog_search": {"query": "github", "limit": 3}}
    results: dict[str, object] = {}
    errors: dict[str, bool] = {}
    with errlog.open("w") as err:
        async with stdio_client(params, errlog=err) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            names = sorted(t.name for t in tools.tools)
            for name, args in calls.items():
                result = await session.call_tool(name, args)
                errors[name] = bool(result.is_error)
                results[name] = result.structured_content or json.loads(result.content[0].text)
            bad = await session.call_tool("components", {"provider": "nobody"})
            results["bad"] = bad.structured_content or json.loads(bad.content[0].text)
    return names, results, errors


@pytest.mark.slow
def test_mcp_tools_over_stdio(tmp_path: Path) -> None:
    db = boarddb.build(tmp_path / "up.db")
    names, results, errors = asyncio.run(asyncio.wait_for(session_calls(db, tmp_path / "err.log"), 120))
    assert names == sorted(["status", "components", "incidents", "maintenances", "history", "catalog_search"])
    assert not any(errors.values()), errors
    status = results["status"]
    assert status["anything_down"] is True
    assert {p["provider"] for p in status["not_operational"]} >= {"acme", "evil"}
    assert [c["name"] for c in results["components"]["components"]] == ["REST API", "GraphQL API", "Dashboard",
                                                                        "Webhooks"]
    assert [i["id"] for i in results["incidents"]["incidents"]] == ["inc0hook0001"]
    assert [m["id"] for m in results["maintenances"]["maintenances"]] == ["mnt0switch01"]
    assert 0 < len(results["history"]["events"]) <= 5
    assert results["catalog_search"]["results"][0]["id"].startswith("github")
    assert "not following" in results["bad"]["error"]
