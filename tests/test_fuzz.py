"""Property-based fuzzing of every registered adapter (hypothesis).

Seeds are each adapter's authored fixtures (fixtures/<platform>/) and the real captures of its
platform (../shared/corpus/<platform>/, read in place), plus a few bodies of other platforms.
Each example mutates one seed (bytes: flips, cuts, splices of hostile tokens; or structure:
JSON values replaced by other types, huge numbers, deep nesting, odd unicode, keys dropped,
lists duplicated) and the property is the adapter contract: ``adapter.parse`` returns a
Snapshot that survives a JSON round trip and that the store can apply, or it raises the
adapter's own ``AdapterError``. Nothing else, and never slowly.

Bounded for CI: ``UPSTREAM_FUZZ_EXAMPLES`` (default 75 per adapter and strategy) and
derandomized, so a run is reproducible; ``UPSTREAM_FUZZ_EXAMPLES=2000 UPSTREAM_FUZZ_RANDOM=1``
for a deeper local run. Adapters registered later are picked up automatically.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.adapters import load_adapters
from aggregator.core import open_store
from aggregator.errors import AdapterError
from aggregator.page.adapter import Adapter
from aggregator.page.model import Snapshot
from aggregator.store.writer import PollOutcome, Store
from tests.conftest import CORPUS, FIXTURES

EXAMPLES = int(os.environ.get("UPSTREAM_FUZZ_EXAMPLES", "75"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("UPSTREAM_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
MAX_SEED_BYTES = 256 * 1024  # bigger captures are parsed whole by the corpus tests, not mutated here
PARSE_SECONDS = 5.0
BASE_URL = "https://status.example.com"
ADAPTERS = load_adapters()
EXECUTED: Counter[str] = Counter()

# Bytes that mean something to a JSON, XML or HTML reader, spliced in at random places.
TOKENS = [b'"', b"{", b"}", b"[", b"]", b",", b":", b"null", b"true", b"-1", b"1e999", b"-0", b"\\",
          b"\\u0000", b"\\ud800", b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"<", b">", b"</", b"/>",
          b"<![CDATA[", b"]]>", b"&amp;", b"&#0;", b"&#x110000;", b"&unknown;", b"<!--", b"-->",
          b"<script>", b"<?xml", b"<!DOCTYPE html>", b"\r\n", b"\t", b" " * 64]
# Strings that have broken parsers: times that are not, numbers as text, markup, bidi, huge.
NASTY_STRINGS = ["", " ", "null", "None", "undefined", "0", "-1", "NaN", "1e400", "true",
                 "2026-13-45T25:61:61Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "10000-01-01",
                 "Mon Feb 30 2026 10:00:00 GMT+9999", "02/31/2026 25:00 XYZ", "1735689600000",
                 "<script>alert(1)</script>", "[red]x[/red]", "{{7*7}}", "${jndi:ldap://x}",
                 "\u202eevil", "\ufeff", "\u0000", "\U0001d566\U0001d55f\U0001d55a", "a" * 5000,
                 "operational", "major_outage", "resolved", "investigating", "scheduled", "completed",
                 "DOWN", "UP", "HASISSUES", "degraded", "Partial Outage"]
DEEP = "\x00deep\x00"  # replaced after serialisation by a list nested 5,000 deep


def _json_leaf() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(),
        st.integers(min_value=-(2**31), max_value=2**31),
        st.sampled_from([2**64, -(2**63) - 1, 10**30, 1e308, -1e308, 0.5, -0.0, 1.7e-308]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(NASTY_STRINGS),
        st.text(max_size=40),
        st.just(DEEP),
    )


JSON_VALUES = st.recursive(
    _json_leaf(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "name", "status", "components", "incidents", "group", "updates", "page",
                         "created_at", "x"]) | st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


# ------------------------------------------------------------------------------------------------
# Seeds
# ------------------------------------------------------------------------------------------------

def _files(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from sorted(p for p in root.rglob("*") if p.is_file() and p.stat().st_size <= MAX_SEED_BYTES)


@cache
def seeds(platform: str) -> tuple[tuple[str, bytes], ...]:
    """(name, body) of the adapter's own fixtures and corpus files, then one file of each other
    platform's fixtures (foreign bodies must be refused cleanly too)."""
    own = [*_files(FIXTURES / platform), *_files(CORPUS / platform)]
    foreign = []
    for other in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name != platform):
        first = next(_files(other), None)
        if first is not None:
            foreign.append(first)
    return tuple((str(p.relative_to(p.parents[1])), p.read_bytes()) for p in [*own, *foreign])


def keyed(adapter: Adapter, name: str, body: bytes) -> str:
    try:
        key = adapter.classify(body, Path(name).name)
    except Exception as exc:  # noqa: BLE001 - classify must not fail either; report it as such
        raise AssertionError(f"{adapter.platform}.classify raised {type(exc).__name__} on {name}") from exc
    assert key in adapter.keys, f"{adapter.platform}.classify gave unknown key {key!r} for {name}"
    return key


# ------------------------------------------------------------------------------------------------
# Mutations
# ------------------------------------------------------------------------------------------------

def mutate_bytes(data: st.DataObject, body: bytes) -> bytes:
    for _ in range(data.draw(st.integers(1, 4), label="byte mutations")):
        size = len(body)
        if size == 0:
            return data.draw(st.binary(max_size=64))
        at = data.draw(st.integers(0, size - 1))
        end = min(size, at + data.draw(st.integers(1, 256)))
        kind = data.draw(st.sampled_from(["flip", "truncate", "delete", "insert", "duplicate", "replace"]))
        if kind == "flip":
            body = body[:at] + bytes([body[at] ^ (1 << data.draw(st.integers(0, 7)))]) + body[at + 1:]
        elif kind == "truncate":
            body = body[:at]
        elif kind == "delete":
            body = body[:at] + body[end:]
        elif kind == "insert":
            body = body[:at] + data.draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=16)) + body[at:]
        elif kind == "duplicate":
            body = body[:end] + body[at:end] * data.draw(st.integers(1, 50)) + body[end:]
        else:
            body = body[:at] + data.draw(st.sampled_from(TOKENS)) + body[end:]
    return body


def _walk(data: st.DataObject, doc: Any) -> tuple[Any, Any]:
    """A random (container, key) inside ``doc``; (None, None) is the root."""
    parent: Any = None
    key: Any = None
    node = doc
    for _ in range(data.draw(st.integers(0, 10))):
        if isinstance(node, dict) and node:
            choice = data.draw(st.sampled_from(list(node)))
        elif isinstance(node, list) and node:
            choice = data.draw(st.integers(0, len(node) - 1))
        else:
            break
        parent, key, node = node, choice, node[choice]
    return parent, key


def mutate_json(data: st.DataObject, doc: Any) -> Any:
    for _ in range(data.draw(st.integers(1, 5), label="json mutations")):
        parent, key = _walk(data, doc)
        node = doc if parent is None else parent[key]
        kind = data.draw(st.sampled_from(["replace", "drop", "duplicate", "empty", "wrap", "retype"]))
        if kind == "replace":
            new = data.draw(JSON_VALUES)
        elif kind == "drop" and parent is not None:
            del parent[key]
            continue
        elif kind == "duplicate" and isinstance(node, list):
            new = node + node
        elif kind == "empty":
            new = type(node)() if isinstance(node, dict | list | str) else None
        elif kind == "wrap":
            new = data.draw(st.sampled_from(["list", "dict"]))
            new = [node] if new == "list" else {"data": node}
        else:  # retype: the same content as another JSON type
            new = (list(node.values()) if isinstance(node, dict) else
                   {str(i): v for i, v in enumerate(node)} if isinstance(node, list) else str(node))
        if parent is None:
            doc = new
        else:
            parent[key] = new
    return doc


def dump_json(doc: Any) -> bytes:
    # The stdlib writes what orjson refuses (ints past 64 bits, Infinity): those must be met too.
    text = json.dumps(doc, ensure_ascii=False, allow_nan=True)
    deep = json.dumps(DEEP)
    if deep in text:
        text = text.replace(deep, "[" * 5000 + "]" * 5000)
    return text.encode("utf-8", "surrogatepass")


# ------------------------------------------------------------------------------------------------
# The property
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    db = open_store(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    yield db
    db.close()


def check_contract(adapter: Adapter, bodies: dict[str, bytes], store: Store, case: str) -> None:
    EXECUTED[case] += 1
    started = time.perf_counter()
    try:
        snapshot = adapter.parse(bodies, BASE_URL)
    except AdapterError as exc:
        assert isinstance(exc.reason, str) and exc.reason.strip(), "an AdapterError needs a reason"
        snapshot = None
    assert time.perf_counter() - started < PARSE_SECONDS, f"{adapter.platform}: parse too slow"
    if snapshot is None:
        return
    assert isinstance(snapshot, Snapshot)
    assert snapshot.platform == adapter.platform
    again = Snapshot.model_validate_json(snapshot.model_dump_json())
    assert again == snapshot
    # Whatever an adapter hands over, the store takes it, whole, without an error.
    pid = f"fuzz-{adapter.platform}"
    if store.get_provider(pid) is None:
        store.add_provider(pid, name=pid, url=BASE_URL, platform=adapter.platform)
    store.apply(PollOutcome(pid, datetime.now(UTC), snapshot=snapshot))
    stored = store.snapshot(pid)
    assert stored is not None and len(stored.components) == len(snapshot.components)
    rows = store.conn.execute("SELECT id, status FROM components WHERE provider = ?", [pid]).fetchall()
    assert dict(rows) == {c.id: c.status.value for c in snapshot.components}


def _adapter_ids() -> list[str]:
    return list(ADAPTERS)


@pytest.mark.parametrize("platform", _adapter_ids())
def test_mutated_bytes(platform: str, store: Store) -> None:
    adapter = ADAPTERS[platform]()
    bank = seeds(platform)
    assert bank, f"no seeds at all for {platform}"

    @FUZZ_SETTINGS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        name, body = data.draw(st.sampled_from(bank), label="seed")
        key = keyed(adapter, name, body)
        check_contract(adapter, {key: mutate_bytes(data, body)}, store, f"bytes:{platform}")

    run()


@pytest.mark.parametrize("platform", _adapter_ids())
def test_mutated_structure(platform: str, store: Store) -> None:
    adapter = ADAPTERS[platform]()
    bank = [(name, body) for name, body in seeds(platform) if _is_json(body)]
    if not bank:
        pytest.skip(f"{platform} has no JSON seeds")

    @FUZZ_SETTINGS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        name, body = data.draw(st.sampled_from(bank), label="seed")
        key = keyed(adapter, name, body)
        bodies = {key: dump_json(mutate_json(data, orjson.loads(body)))}
        # Sometimes the other endpoints of the same page come along unmutated.
        if data.draw(st.booleans(), label="with siblings"):
            for other_name, other in bank:
                other_key = keyed(adapter, other_name, other)
                bodies.setdefault(other_key, other)
        check_contract(adapter, bodies, store, f"json:{platform}")

    run()


def test_a_component_listed_twice_does_not_break_the_store(tmp_path: Path) -> None:
    """Found by the fuzzer: a page listing one component id twice made every later apply of
    that provider fail on the components primary key (its state frozen for good)."""
    summary = orjson.loads((FIXTURES / "statuspage" / "acme-1-operational.json").read_bytes())
    twice = dict(summary["components"][1], status="major_outage")
    summary["components"].append(twice)
    snapshot = ADAPTERS["statuspage"]().parse({"summary": orjson.dumps(summary)}, BASE_URL)
    with open_store(tmp_path / "up.db") as db:
        db.add_provider("acme", name="Acme", url=BASE_URL, platform="statuspage")
        db.apply(PollOutcome("acme", datetime.now(UTC), snapshot=snapshot))
        status = db.conn.execute("SELECT status FROM components WHERE provider = 'acme' AND id = ?",
                                 [twice["id"]]).fetchone()
    assert status == ("major_outage",)  # the last listing wins, as in the diff


def _is_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


def test_fuzz_cases_were_run(request: pytest.FixtureRequest) -> None:
    """The figure the README quotes comes from here (``-s`` shows it; xdist splits it by worker)."""
    total = sum(EXECUTED.values())
    if total:
        print(f"\nfuzz: {total} cases over {len({k.split(':')[1] for k in EXECUTED})} adapters in this worker")
    assert all(count > 0 for count in EXECUTED.values())
