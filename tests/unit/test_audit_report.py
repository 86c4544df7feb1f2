"""Audit exports: CSV cells a spreadsheet cannot run, and the report's one stylesheet."""

from __future__ import annotations

import csv
import io
import re
from base64 import b64encode
from hashlib import sha256

import pytest

from search_api.brands import audit_report


def audit_run(keyword: str, persona: str = "anon") -> dict:
    cell = {"brand": "B", "keyword": keyword, "persona": persona, "zone_shown": False, "zone_brand": None,
            "zone_won": False, "best_rank": 3, "top10": 1, "topk": 1, "share": 0.1, "ranks": [3], "ids": ["P1"],
            "results": 10, "index_version": "v1", "time": "2026-11-29T10:00:00+00:00"}
    return {"cells": [cell]}


@pytest.mark.parametrize("keyword", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)",
                                     "\t=1", "\r=1"])
def test_formula_cells_are_exported_as_text(keyword):
    text = audit_report.to_csv(audit_run(keyword))
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["keyword"] == "'" + keyword
    assert row["best_rank"] == "3" and row["share"] == "0.1"  # numbers stay numbers


def test_plain_cells_are_unchanged_and_the_header_too():
    text = audit_report.to_csv(audit_run("memory foam pillow", persona="viewer"))
    assert text.splitlines()[0] == ",".join(audit_report.CSV_COLUMNS)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["keyword"] == "memory foam pillow" and row["persona"] == "viewer" and row["ids"] == "P1"


def test_a_semicolon_cannot_split_a_keyword_into_a_formula_cell():
    line = audit_report.to_csv(audit_run("x;=1+1")).splitlines()[1]
    assert '"x;=1+1"' in line


def test_the_report_style_hash_is_the_hash_of_its_only_stylesheet():
    html = audit_report.to_html({"id": "a1", "created": "now", "index_versions": ["v1"], "top_k": 10, "done": 1,
                                 "personas": [{"label": "anon"}], "brands": ["B"], **audit_run("pillow")})
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1
    assert audit_report.STYLE_HASH == "sha256-" + b64encode(sha256(styles[0].encode()).digest()).decode()
    # nothing else a policy would have to allow: no scripts, style attributes, links or images
    assert not re.search(r"<script|\sstyle=|<link|<img|\son\w+=|https?://", html)
