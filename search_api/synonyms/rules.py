"""Synonym rules in the Solr format, parsed all or nothing.

    # a comment (from `#` to the end of the line); blank lines are ignored
    sofa, couch, settee        equivalence: each term finds the others
    抱枕, 靠垫                  Chinese, English, mixed and multi-word terms alike
    iphone case => phone case  one-way: the left terms add the right ones (not the reverse)

Terms are matched on the words `indexer` analysis makes of them (jieba words, English stems), so
"Couches" matches a rule written "couch" and "T-Shirt" one written "t shirt". A file with one bad
line is refused whole (`SynonymError` naming file:line and the reason): a half-applied set would
make two processes, or a process before and after a reload, answer differently without saying so.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from indexer.index_format import ConfigError, tokens

MAX_FILE_BYTES = 2 * 1024 * 1024
"""A hand-kept synonym list is kilobytes; megabytes mean a wrong file (a catalog, a log)."""

MAX_TERM_CHARS = 100
"""Brand keywords allow 100 characters; a longer "term" is a sentence, not a synonym."""

MAX_TERMS = 50
"""Terms in one rule: each becomes a query clause when the rule fires."""

ARROW = "=>"


class SynonymError(ConfigError):
    """A synonym file that cannot be used; the message is `file:line: reason`."""


@dataclass(frozen=True)
class Rule:
    """One rule: a query word matching any of `inputs` adds the `outputs` it is not itself.

    An equivalence has `inputs == outputs`. `origin` says where the rule came from, as `explain`
    shows it: `synonyms.txt:12`, `brand-keyword:<id>`.
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    origin: str


def term_key(term: str) -> tuple[str, ...]:
    """What a term matches: its analysed words (the query is analysed the same way)."""
    return tuple(tokens(term))


def _terms(side: str) -> tuple[str, ...]:
    """The comma-separated terms of one side of a rule, checked.

    Raises:
        ValueError: an empty, overlong or wordless term, or too many terms.

    """
    terms = [" ".join(t.split()) for t in side.split(",")]
    if len(terms) > MAX_TERMS:
        raise ValueError(f"more than {MAX_TERMS} terms in one rule")
    for term in terms:
        if not term:
            raise ValueError("empty term (two commas in a row, or a comma at an end)")
        if len(term) > MAX_TERM_CHARS:
            raise ValueError(f"term longer than {MAX_TERM_CHARS} characters: {term[:20]!r}…")
        if not term_key(term):
            raise ValueError(f"{term!r} has no searchable words")
    return tuple(dict.fromkeys(terms))


def parse_line(line: str, origin: str) -> Rule | None:
    """The rule on one line (None for a blank or comment line).

    Raises:
        ValueError: the line is not a rule (the reason, without file and line).

    """
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    if any(unicodedata.category(ch) == "Cc" and ch != "\t" for ch in text):
        raise ValueError("control character in the line")
    if text.count(ARROW) > 1:
        raise ValueError(f"more than one {ARROW!r}")
    if ARROW in text:
        left, right = (part.strip() for part in text.split(ARROW))
        if not left or not right:
            raise ValueError(f"a mapping needs terms on both sides of {ARROW!r}")
        return Rule(_terms(left), _terms(right), origin)
    terms = _terms(text)
    if len({term_key(t) for t in terms}) < 2:
        raise ValueError(f"an equivalence needs two different terms (a, b), or write a mapping (a {ARROW} b)")
    return Rule(terms, terms, origin)


def parse(text: str, source: str, *, label: str | None = None) -> tuple[Rule, ...]:
    """Every rule of a synonym file's text, or none at all.

    `source` names the file in errors; `label` (default: `source`) in each rule's `origin`.

    Raises:
        SynonymError: `source:line: reason` for the first bad line.

    """
    rules = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            rule = parse_line(line, f"{label or source}:{number}")
        except ValueError as exc:
            raise SynonymError(f"{source}:{number}: {exc}") from None
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def read_file(path: Path) -> tuple[Rule, ...]:
    """The rules of a synonym file (UTF-8, an optional BOM); origins name the file, not its directory.

    Raises:
        SynonymError: missing, unreadable, too large, not UTF-8, or a bad line (file:line: reason).

    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SynonymError(f"{path}: no such synonym file") from None
    except OSError as exc:
        raise SynonymError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SynonymError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; is it a synonym file?")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise SynonymError(f"{path}:{line}: not UTF-8 text") from None
    return parse(text, str(path), label=path.name)
