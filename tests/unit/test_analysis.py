import threading

from indexer.text import analysis


def test_normalize_folds_width_and_case():
    assert analysis.normalize("ＡＢＣ１２３　Memory  FOAM") == "abc123 memory foam"


def test_detect_language_per_value():
    assert analysis.detect_language("孕妇抱枕 侧睡") == "zh"
    assert analysis.detect_language("memory foam pillow") == "en"
    assert analysis.detect_language("!!! 123") == "en"  # digits are Latin-script runs
    assert analysis.detect_language("   ") == "und"


def test_domain_words_are_single_tokens():
    # jieba's own dictionary splits 抱枕 into 抱 / 枕; the shipped vocabulary keeps it whole.
    assert "抱枕" in analysis.tokens("孕妇抱枕侧睡")
    assert "记忆棉" in analysis.tokens("记忆棉枕头")


def test_english_tokens_are_stemmed_and_stopwords_dropped():
    assert analysis.tokens("Pillows for the Running Women's shoes") == ["pillow", "run", "women", "shoe"]


def test_mixed_text_keeps_both_scripts_in_order():
    assert analysis.tokens("memory foam 抱枕") == ["memori", "foam", "抱枕"]
    assert analysis.cjk_chars("memory foam 抱枕") == ["抱", "枕"]


def test_covered_text_removes_unreadable_scripts():
    assert analysis.covered_text("孕妇抱枕 Pregnancy Pillow", ["en"]) == "pregnancy pillow"
    assert analysis.covered_text("孕妇抱枕", ["en"]) == ""
    assert analysis.covered_text("孕妇抱枕 X", ["*"]) == "孕妇抱枕 x"


def test_query_and_document_analysis_agree():
    title = "乐辰轻薄记忆棉枕头 Memory Foam Pillows"
    query = "记忆棉枕头 memory foam pillow"
    assert set(analysis.tokens(query)) <= set(analysis.tokens(title))


def test_cjk_heads_are_the_last_character_of_each_part_except_a_suffix():
    from search_api.retrieval.clauses import cjk_heads

    assert cjk_heads("护肤") == ["肤"]
    assert cjk_heads("蓝牙耳机 降噪") == ["机", "噪"]
    assert cjk_heads("枕头 袜子") == ["枕", "袜"]
    assert cjk_heads("U型枕 pillow") == ["枕"]
    assert cjk_heads("memory foam") == []
    assert cjk_heads("头") == ["头"]  # a lone suffix character is its own head


def test_threads_stemming_at_once_get_the_stems_one_thread_gets():
    """A warm-up's legs and query understanding stem in several threads at once (a shared stemmer crashed a worker)."""
    words = [f"{base}{suffix}" for base in ("pillow", "cushion", "blanket", "organize", "relation", "happy")
             for suffix in ("s", "ing", "ness", "ations", "ically", "ments", "er", "est")]
    expected = {w: str(analysis.snowballstemmer.stemmer("english").stemWord(w)) for w in words}
    wrong: list[str] = []
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for _ in range(300):
            for w in words:
                try:
                    got = analysis.stem.__wrapped__(w)
                except IndexError as exc:
                    wrong.append(f"{w}: {exc}")
                    continue
                if got != expected[w]:
                    wrong.append(f"{w}: {got} != {expected[w]}")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong, wrong[:5]
