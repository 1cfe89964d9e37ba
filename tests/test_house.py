"""House rules the code keeps: one atomic writer, one matplotlib style.

- Files and folders are written through :func:`galaxysd.cache.atomic_path` (or ``atomic_write_text`` /
  ``atomic_write_bytes``): no other module renames a temporary into place by hand.
- Figures take their font sizes from ``galaxysd/assets/book.mplstyle``: no figure code sets a
  numeric font size, and every module that draws with matplotlib applies the style by importing
  :mod:`galaxysd.plots`.
"""

import ast
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

import galaxysd

PACKAGE = Path(galaxysd.__file__).parent
ROOT = PACKAGE.parent
MODULES = sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py"))

#: Modules exempt from the rules below (none: every module follows them).
NOT_YET: tuple[str, ...] = ()
FONT_KEYWORDS = {"fontsize", "title_fontsize", "labelsize", "titlesize"}


def _checked(modules):
    return [m for m in modules if not any(fnmatch(m, pattern) for pattern in NOT_YET)]


def _tree(module: str) -> ast.AST:
    return ast.parse((ROOT / module).read_text(), filename=module)


def _renames(tree: ast.AST) -> list[int]:
    """Lines that call ``os.replace`` / ``os.rename`` (also when imported from ``os`` by name)."""
    from_os = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and node.module == "os" for alias in node.names if alias.name in ("replace", "rename")}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr in ("replace", "rename") and isinstance(f.value, ast.Name)
                and f.value.id == "os") or (isinstance(f, ast.Name) and f.id in from_os):
            lines.append(node.lineno)
    return lines


def _numeric_font_sizes(tree: ast.AST) -> list[int]:
    """Lines that pass a number as a font size (``fontsize=8``, ``title_fontsize=7``, ...)."""
    return [node.value.lineno for node in ast.walk(tree) if isinstance(node, ast.keyword)
            and node.arg in FONT_KEYWORDS and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, (int, float))]


def _draws_with_matplotlib(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.startswith("matplotlib") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("matplotlib"):
            return True
    return False


def test_only_the_cache_renames_a_temporary_into_place():
    offenders = {m: _renames(_tree(m)) for m in _checked(MODULES) if m != "galaxysd/cache.py"}
    offenders = {m: lines for m, lines in offenders.items() if lines}
    assert not offenders, f"write through galaxysd.cache.atomic_path instead of os.replace/os.rename: {offenders}"


def test_the_rename_check_sees_a_hand_written_atomic_write():
    code = "import os\nfrom os import rename as mv\nos.replace('a', 'b')\nmv('b', 'c')\n'x'.replace('a', 'b')\n"
    assert _renames(ast.parse(code)) == [3, 4]


def test_no_figure_code_sets_a_numeric_font_size():
    offenders = {m: _numeric_font_sizes(_tree(m)) for m in _checked(MODULES)}
    offenders = {m: lines for m, lines in offenders.items() if lines}
    assert not offenders, ("font sizes come from galaxysd/assets/book.mplstyle (or 'small'/'large' where a "
                           f"smaller or larger text is meant): {offenders}")


def test_the_font_size_check_sees_numbers_and_lets_relative_sizes_pass():
    code = "ax.legend(fontsize=7, title_fontsize=7.5)\nax.set_title('t', fontsize='large')\n"
    assert _numeric_font_sizes(ast.parse(code)) == [1, 1]


def _style_value(key: str) -> str:
    for line in (PACKAGE / "assets" / "book.mplstyle").read_text().splitlines():
        name, _, value = line.split("#", 1)[0].partition(":")
        if name.strip() == key:
            return value.strip()
    raise AssertionError(f"book.mplstyle sets no {key}")


FIGURE_MODULES = [m for m in _checked(MODULES) if _draws_with_matplotlib(_tree(m))]


def test_every_module_that_draws_is_checked_for_the_style():
    assert {"galaxysd/plots.py", "galaxysd/evaluation/figures.py", "galaxysd/classify/figures.py",
            "galaxysd/detg/figures.py"} <= set(FIGURE_MODULES)


@pytest.mark.parametrize("module", FIGURE_MODULES)
def test_importing_a_figure_module_applies_the_book_style(module):
    name = module[:-3].replace("/", ".")
    code = (f"import matplotlib; import {name}; "
            "print(matplotlib.rcParams['font.size'], matplotlib.rcParams['axes.titlesize'])")
    # a fresh interpreter: the style must come from importing this module, not from an earlier test
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    font_size, title_size = out.stdout.split()
    assert float(font_size) == float(_style_value("font.size"))
    assert float(title_size) == float(_style_value("axes.titlesize"))
