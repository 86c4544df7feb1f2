"""Synonyms without services: the Solr format, expansion, the live store (fake clock), clauses, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from indexer.index_format import ConfigError, EngineError
from search_api.core.settings import ApiSettings
from search_api.retrieval.clauses import text_clauses
from search_api.retrieval.keyword import SYNONYM_BOOST, keyword_body
from search_api.retrieval.params import parse_search
from search_api.retrieval.relax import Level, level_filter
from search_api.synonyms.brand_aliases import alias_rule
from search_api.synonyms.expansion import MAX_ADDED, NOTHING, SynonymSet, expand, variant
from search_api.synonyms.rules import Rule, SynonymError, parse, read_file
from search_api.synonyms.store import BRAND_RETRY_S, SynonymStore

FILE = """\
# furniture
sofa, couch , settee   # trailing comment

抱枕, 靠垫
iphone case, iphone cover => phone case
throw pillow, 抱枕套
pillow, cushion
"""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _set(text: str = FILE) -> SynonymSet:
    return SynonymSet(parse(text, "syn.txt"))


def test_the_solr_format_equivalences_mappings_comments_and_blank_lines():
    rules = parse(FILE, "/etc/x/syn.txt", label="syn.txt")
    assert rules[0] == Rule(("sofa", "couch", "settee"), ("sofa", "couch", "settee"), "syn.txt:2")
    assert rules[1].inputs == ("抱枕", "靠垫") and rules[1].origin == "syn.txt:4"
    assert rules[2] == Rule(("iphone case", "iphone cover"), ("phone case",), "syn.txt:5")
    assert len(rules) == 5


@pytest.mark.parametrize(("line", "reason"), [
    ("sofa", "an equivalence needs two different terms"),
    ("sofa, sofas", "an equivalence needs two different terms"),  # one word once analysed
    ("a => b => c", "more than one '=>'"),
    ("=> couch", "terms on both sides"),
    ("sofa, , couch", "empty term"),
    ("sofa, couch,", "empty term"),
    ("sofa, the", "'the' has no searchable words"),
    ("sofa, !!!", "'!!!' has no searchable words"),
    ("sofa\x07, couch", "control character"),
    ("sofa, " + "x" * 101, "longer than 100 characters"),
    (", ".join(f"w{i}" for i in range(51)), "more than 50 terms"),
])
def test_a_bad_line_is_refused_naming_file_and_line(line, reason):
    with pytest.raises(SynonymError) as caught:
        parse(f"# ok\nsofa, couch\n{line}\n抱枕, 靠垫\n", "syn.txt")
    assert str(caught.value).startswith("syn.txt:3: ") and reason in str(caught.value)
    assert isinstance(caught.value, ConfigError)  # a bad configured file stops the start like any setting


def test_files_missing_not_utf8_or_huge_are_refused(tmp_path):
    with pytest.raises(SynonymError, match="no such synonym file"):
        read_file(tmp_path / "nope.txt")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("sofa, couch\ncafé, coffee\n".encode("latin-1"))
    with pytest.raises(SynonymError, match=r"latin1.txt:2: not UTF-8"):
        read_file(latin1)
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"sofa, couch\n" * 200_000)
    with pytest.raises(SynonymError, match="larger than 2 MB"):
        read_file(huge)
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffsofa, couch\n".encode())
    assert read_file(bom)[0].origin == "bom.txt:1"  # origins name the file, not the server's directories


def test_the_shipped_default_file_parses_and_is_the_default():
    default = ApiSettings().synonyms_file
    assert default is not None and default.name == "synonyms.txt"
    assert len(read_file(default)) >= 40
    assert ApiSettings.from_env({"STORESEARCH_SYNONYMS": "off"}).synonyms_file is None
    assert ApiSettings.from_env({"STORESEARCH_SYNONYMS": "/x/s.txt"}).synonyms_file == Path("/x/s.txt")


def test_expansion_matches_analysed_words_both_ways():
    rules = _set()
    fired = expand("Couches for the living room", rules).fired
    assert [f.describe() for f in fired] == [{"matched": "couch", "added": ["sofa", "settee"], "rule": "syn.txt:2"}]
    assert expand("新款靠垫", rules).added == ("抱枕",)
    assert expand("my iPhone Cover", rules).added == ("phone case",)
    assert expand("phone case", rules) is NOTHING  # one-way: the right side adds nothing back
    assert expand("memory foam", rules) is NOTHING


def test_the_longest_term_fires_and_typed_terms_are_not_added_again():
    rules = _set()
    assert [f.matched for f in expand("throw pillow", rules).fired] == ["throw pillow"]  # not "pillow"
    assert expand("sofa couch settee", rules) is NOTHING
    assert expand("sofa settee", rules).added == ("couch",)
    many = _set(", ".join(f"word{i}" for i in range(40)) + "\n")
    assert len(expand("word0", many).added) == MAX_ADDED


def test_brand_keyword_aliases_become_equivalences():
    assert alias_rule("k1", "棉语", ["Mianyu"]) == Rule(("棉语", "Mianyu"), ("棉语", "Mianyu"), "brand-keyword:k1")
    assert alias_rule("k2", "Acme", ["ACME", "acme "]) is None  # the same word in other cases
    assert alias_rule("k3", "棉语", "Mianyu") is not None
    assert alias_rule("k4", "棉语", []) is None


def test_variants_replace_the_matched_words_as_the_query_wrote_them():
    rules = _set()
    assert expand("Couches for the living room", rules).variants == (
        "sofa for the living room", "settee for the living room")
    assert expand("新款靠垫 蓝色", rules).variants == ("新款抱枕 蓝色",)
    assert expand("iphone cover black", rules).variants == ("phone case black",)
    assert expand("couch", rules).variants == ("sofa", "settee")
    assert variant("pillows couch-cover", "couch", ("couch",), "sofa") == "pillows sofa-cover"
    assert variant("couches", "couch", ("couch",), "sofa") == "sofa"  # not "sofaes"
    assert variant("bags of chips", "bag of chips", ("bag", "chip"), "crisps") == "crisps"


def test_no_synonyms_leave_the_keyword_body_unchanged_and_variants_score_below_the_query():
    req = parse_search({"q": "couch cover"})
    plain = keyword_body(req, size=10)
    assert keyword_body(req, size=10, synonyms=()) == plain
    body = keyword_body(req, size=10, synonyms=("sofa cover",))
    should = body["query"]["bool"]["should"]
    # one meaning scored once: the best of the query as typed and its variant (dis_max), not both
    [alternatives] = [c["dis_max"]["queries"] for c in should if "dis_max" in c]
    assert alternatives[0]["bool"]["should"] == plain["query"]["bool"]["should"]
    added = alternatives[1]["bool"]["should"]
    assert added == text_clauses("sofa cover", SYNONYM_BOOST) and SYNONYM_BOOST < 1
    assert added[0]["combined_fields"]["boost"] == SYNONYM_BOOST
    # a product matching all the words of the variant is a strict (all terms) match, as one matching the query
    assert body["post_filter"]["bool"]["filter"][0] == level_filter(["couch cover", "sofa cover"], Level.ALL)


def _write(path: Path, text: str) -> None:
    """Write `text` with an mtime one second past the last one (however coarse the file system's clock)."""
    last = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(last + 1_000_000_000, last + 1_000_000_000))


def test_the_store_rereads_a_changed_file_at_most_every_check_and_keeps_the_last_good_set(tmp_path, caplog):
    path, clock = tmp_path / "syn.txt", Clock()
    _write(path, "sofa, couch\n")
    store = SynonymStore(path, check_every=2.0, clock=clock)
    _write(path, "sofa, couch\n抱枕, 靠垫\n")
    clock.now = 1.9
    assert store.expand("靠垫") is NOTHING  # not checked yet
    clock.now = 2.0
    assert store.expand("靠垫").added == ("抱枕",)
    _write(path, "sofa, couch\n抱枕, 靠垫\nbroken\n")
    clock.now = 4.0
    assert store.expand("靠垫").added == ("抱枕",) and store.expand("couch").added == ("sofa",)
    assert store.status()["file_error"].endswith("syn.txt:3: an equivalence needs two different terms "
                                                 "(a, b), or write a mapping (a => b)")
    assert "previous 2 file rules stay in force" in caplog.text
    with pytest.raises(SynonymError, match="syn.txt:3"):
        store.reload()
    assert store.status()["rules"] == 2
    _write(path, "sofa, couch, settee\n")
    assert store.reload()["rules"] == 1 and "file_error" not in store.status()
    assert store.expand("靠垫") is NOTHING and store.expand("couch").added == ("sofa", "settee")


def test_a_bad_or_missing_file_at_start_is_refused(tmp_path):
    (tmp_path / "bad.txt").write_text("sofa\n", encoding="utf-8")
    with pytest.raises(SynonymError, match="bad.txt:1"):
        SynonymStore(tmp_path / "bad.txt")
    with pytest.raises(SynonymError, match="no such synonym file"):
        SynonymStore(tmp_path / "missing.txt")


def test_brand_aliases_are_read_per_live_version_and_a_failed_read_keeps_the_last(tmp_path):
    reads, clock = [], Clock()

    def brands() -> tuple[Rule, ...]:
        reads.append(clock.now)
        if len(reads) == 2:
            raise EngineError("Elasticsearch unreachable")
        return (Rule(("棉语", "mianyu"), ("棉语", "mianyu"), f"brand-keyword:v{len(reads)}"),)

    store = SynonymStore(None, brands=brands, clock=clock)
    assert store.expand("mianyu") is NOTHING and not reads  # no version named: nothing read
    assert store.expand("mianyu", "idx-1").fired[0].rule == "brand-keyword:v1"
    store.expand("mianyu", "idx-1")
    assert len(reads) == 1  # same version: not read again
    assert store.expand("mianyu", "idx-2").fired[0].rule == "brand-keyword:v1"  # read failed: last aliases stay
    clock.now = BRAND_RETRY_S - 0.1
    store.expand("mianyu", "idx-2")
    assert len(reads) == 2
    clock.now = BRAND_RETRY_S
    assert store.expand("mianyu", "idx-2").fired[0].rule == "brand-keyword:v3"


def test_the_first_brand_read_is_waited_for_by_a_search_that_arrives_during_it():
    """An organic search and its brand zone expand at once: both must see the brand aliases."""
    started, release = threading.Event(), threading.Event()

    def slow_brands() -> tuple[Rule, ...]:
        started.set()
        release.wait(5)
        return (Rule(("棉语", "mianyu"), ("棉语", "mianyu"), "brand-keyword:B1"),)

    store = SynonymStore(None, brands=slow_brands)
    first = threading.Thread(target=store.expand, args=("mianyu", "idx-1"))
    first.start()
    assert started.wait(5)
    answers: list = []
    second = threading.Thread(target=lambda: answers.append(store.expand("mianyu", "idx-1")))
    second.start()
    second.join(0.3)
    assert second.is_alive(), "the second search went on without the aliases being read"
    release.set()
    first.join(5)
    second.join(5)
    assert answers[0].fired[0].rule == "brand-keyword:B1"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "search_api.cli", "synonyms", *args],
                          capture_output=True, text=True, timeout=120)


def test_synonyms_check_cli(tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(FILE, encoding="utf-8")
    bad.write_text("sofa, couch\n\niphone => \n", encoding="utf-8")
    ok = _cli("check", str(good))
    assert ok.returncode == 0 and ok.stdout.strip() == f"{good}: 5 rules"
    refused = _cli("check", str(bad))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [f"search-api: error: {bad}:3: a mapping needs terms on both "
                                                   "sides of '=>'"]
    assert _cli("check", str(tmp_path / "none.txt")).returncode == 2


def test_serve_refuses_a_bad_synonym_file_before_loading_anything(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("sofa, couch\nsofa => \n", encoding="utf-8")
    env = {**os.environ, "STORESEARCH_SYNONYMS": str(bad), "ES_URL": "http://127.0.0.1:1"}
    done = subprocess.run([sys.executable, "-m", "search_api.cli", "serve", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"search-api: error: {bad}:2: a mapping needs terms on both sides "
                                                "of '=>'"]
