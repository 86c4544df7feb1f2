"""Break one guarded behaviour at a time, run the test meant to catch it, restore the file (issue 18).

    .venv/bin/python scripts/break_guards.py [N ...]

Each case replaces one line of the guard with a broken one, runs its test (which must now fail),
and writes the file back whatever happens; `git status` at the end shows nothing changed. Prints
one line per case: the return code (1: the test caught the breakage) and the first error lines.
Needs Elasticsearch as the tests do (ES_URL, else the local node).
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = [
    ("verification failure deletes the new index", "indexer/build/pipeline.py",
     "        if record is not None and record.state in RESUMABLE:\n            discard_build(",
     "        if False:\n            discard_build(",
     "tests/integration/test_build.py::test_a_version_that_fails_verification_is_deleted_and_the_alias_stays"),
    ("refused documents block the swap", "indexer/build/pipeline.py",
     "        if record is not None and record.state in RESUMABLE:\n            discard_build(",
     "        if False:\n            discard_build(",
     "tests/integration/test_build.py::test_documents_es_refuses_block_the_swap"),
    ("no clone after the making changed (fingerprint)", "indexer/build/reuse.py",
     "    if record is None or record.fingerprint != fingerprint:", "    if record is None:",
     "tests/integration/test_reuse.py::test_a_rebuild_after_the_making_changed_reuses_nothing"),
    ("a broken model leaves keyword search answering", "search_api/retrieval/schedule.py",
     "    except Exception as exc:  # a broken model must not take keyword search down",
     "    except LegTimeout as exc:  # broken on purpose",
     "tests/integration/test_degraded.py::test_a_broken_model_leaves_keyword_search_answering"),
    ("replica background sync", "search_api/retrieval/replica.py",
     "        self._thread.start()\n\n    def stop", "        pass\n\n    def stop",
     "tests/integration/test_replica_follows.py"),
    ("lock heartbeat renews", "indexer/store/locks.py",
     "                state.write_if(self._es, self._settings, current, self._owner())", "                pass",
     "tests/integration/test_locks.py::test_a_long_holder_keeps_its_lock_past_the_stale_time"),
    ("a dead owner's lock is taken over", "indexer/store/locks.py",
     "    if owner.get(\"host\") == socket.gethostname() and not _alive(int(owner.get(\"pid\", 0))):",
     "    if False:",
     "tests/integration/test_locks.py::test_the_build_lock_of_a_killed_process_is_taken_over"),
    ("events-retention --dry-run drops nothing", "search_api/core/daily.py",
     "    if not dry_run:", "    if True:",
     "tests/integration/test_cli_commands.py::test_events_retention_dry_run_drops_nothing"),
    ("category filter", "search_api/retrieval/filters.py",
     "        out[\"category\"] = category_clause(req.categories)",
     "        pass",
     "tests/integration/test_served_answers.py::test_a_category_filter_keeps_only_that_category"),
    ("413 over the body limit", "search_api/http/app.py",
     "    app.config[\"MAX_CONTENT_LENGTH\"] = rt.settings.max_body_bytes",
     "    app.config[\"MAX_CONTENT_LENGTH\"] = None",
     "tests/integration/test_served_answers.py::test_a_body_over_the_limit_is_a_json_413_by_length_or_when_chunked"),
    ("207 when Elasticsearch refused some events", "search_api/http/routes.py",
     "    return jsonify(out), (207 if out[\"rejected\"] else 200)",
     "    return jsonify(out), 200",
     "tests/integration/test_events.py::test_an_item_elasticsearch_refuses_is_reported_and_the_rest_is_stored"),
    ("price range filter", "search_api/retrieval/filters.py",
     "        clauses.append({\"range\": {\"price\": {k: v for k, v in bounds.items() if v is not None}}})",
     "        pass",
     "tests/integration/test_served_answers.py::test_a_price_range_keeps_only_prices_within_it"),
    ("alias polling picks up a new build", "search_api/retrieval/replica.py",
     "        if loaded and time.monotonic() - self._checked_at < self._settings.alias_check_seconds:\n"
     "            return loaded",
     "        if loaded:\n            return loaded",
     "tests/integration/test_replica_follows.py"),
    ("upserts wait out a clone's write lock", "indexer/build/changes.py",
     "        with Lock(es, settings, WRITE_LOCK, purpose=\"upsert\", wait=WRITE_LOCK_WAIT_S):",
     "        with Lock(es, settings, WRITE_LOCK, purpose=\"upsert\", wait=0.0):",
     "tests/integration/test_locks.py::test_upserts_during_a_clones_write_block_wait_and_then_land"),
    ("price_desc sort", "search_api/retrieval/paging.py",
     "    Sort.PRICE_DESC: (\"price\", \"desc\"),", "    Sort.PRICE_DESC: (\"price\", \"asc\"),",
     "tests/integration/test_served_answers.py::test_a_field_sort_orders_the_answer_by_that_field"),
]


def main() -> int:
    """Run the cases named on the command line (all by default)."""
    only = set(sys.argv[1:])
    for i, (what, path, old, new, test) in enumerate(CASES):
        if only and str(i) not in only:
            continue
        f = ROOT / path
        text = f.read_text()
        if old not in text:
            print(f"[{i}] {what}: PATTERN NOT FOUND in {path}", flush=True)
            continue
        f.write_text(text.replace(old, new, 1))
        try:
            r = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "pytest", "-q", "-x", "-p",
                                "no:cacheprovider", test],
                               cwd=ROOT, capture_output=True, text=True, timeout=900)
            last = [line for line in r.stdout.splitlines() if line.strip()][-1:] or ["?"]
            err = [line for line in r.stdout.splitlines() if line.startswith("E ")][:2]
            print(f"[{i}] {what}: broken -> rc {r.returncode} ({last[0]}) {err}", flush=True)
        finally:
            f.write_text(text)
    subprocess.run(["git", "status", "--short"], cwd=ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
