"""The benchmark runner works: ``python -m bench.run --smoke`` on SQLite (and on PostgreSQL when
ERP_TEST_DATABASE_URL is set, in a fresh database named after it) writes a JSON with every
section, the race gives 10 successes, 40 clean refusals and no server error every time, and no
request fails. Timings are not checked: benchmarks are not timed tests."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, ROOT

SECTIONS = ("generate", "create_confirm", "reference", "ratio", "pages", "race", "memory", "reports", "invariants")


def test_smoke_run_writes_every_section(tmp_path):
    from plugins.finance.reports import REPORTS

    out = tmp_path / "results.json"
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text("# Performance\n\nHand-written notes stay.\n")
    command = [sys.executable, "-m", "bench.run", "--smoke", "--sqlite", "--out", str(out), "--doc", str(doc),
               "--workdir", str(tmp_path / "work")]
    backends = {"sqlite"}
    if PG_URL:
        url = make_url(PG_URL)
        command += ["--postgres", url.set(database=f"{url.database}_bench_smoke").render_as_string(hide_password=False)]
        backends.add("postgresql")
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert finished.returncode == 0, finished.stderr[-4000:]
    result = json.loads(out.read_text())
    assert result["meta"]["smoke"] is True
    assert set(result["backends"]) == backends
    for backend, r in result["backends"].items():
        assert all(section in r for section in SECTIONS), (backend, sorted(r))
        assert r["generate"]["orders"] == 300 and r["generate"]["rows"] > 300
        for side in ("create_confirm", "reference"):
            for clients, ops in (("1", 10), ("20", 40)):
                run = r[side][clients]
                assert (run["clients"], run["operations"], run["errors"]) == (int(clients), ops, 0), (side, run)
                assert run["per_s"] > 0 and run["p95_ms"] >= run["p50_ms"] > 0
        assert set(r["ratio"]) == {"1", "20"}
        for page in ("list", "list_search", "detail"):
            assert r["pages"][page]["errors"] == 0 and r["pages"][page]["samples"] > 0, r["pages"][page]
        race = r["race"]
        assert race["repetitions"] == 2
        assert race["results"] == [[10, 40, 0]] * 2 and race["all_as_expected"]
        assert r["memory"]["worker_peak_rss_mb"] > 0 and len(r["memory"]["workers"]) == 2
        assert set(r["reports"]["slowest_per_report"]) == set(REPORTS)
        assert r["reports"]["order_lines"] >= 2500
        assert r["invariants"] == []
        assert set(result["verdicts"][backend]) >= {"list p95 ms", "detail p95 ms", "race 10/40/0 every time"}
    text = doc.read_text()
    assert text.startswith("# Performance\n\nHand-written notes stay.")
    assert "<!-- bench:results:begin -->" in text and "| race: 50 buyers" in text
