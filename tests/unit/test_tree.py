"""The tree keeps the shape docs/architecture.md draws: documented subpackages, small modules, one-way imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("indexer", "search_api")
MAX_MODULE_LINES = 300


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py"))


def test_every_subpackage_says_what_it_owns_and_may_import():
    for init in (p for p in _modules() if p.name == "__init__.py" and p.parent.name not in PACKAGES):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), f"{init.relative_to(REPO)}: docstring must say what it may import"


def test_no_module_over_300_lines():
    long = {str(p.relative_to(REPO)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"split these modules: {long}"


def test_import_contracts_hold_and_catch_a_wrong_way_import(tmp_path):
    lint = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                                  "sys.exit(lint_imports_command())", "--no-cache"]
    ok = subprocess.run(lint, cwd=REPO, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout[-2000:]
    # The same contracts on a copy of the tree where a lower layer imports a higher one must fail.
    for pkg in PACKAGES:
        subprocess.run(["cp", "-r", str(REPO / pkg), str(tmp_path / pkg)], check=True)
    (tmp_path / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    errors = tmp_path / "indexer" / "core" / "errors.py"
    errors.write_text(errors.read_text(encoding="utf-8") + "\nfrom search_api.retrieval import fusion  # noqa\n",
                      encoding="utf-8")
    broken = subprocess.run(lint, cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert broken.returncode != 0
    assert "indexer.core.errors -> search_api.retrieval.fusion" in broken.stdout
