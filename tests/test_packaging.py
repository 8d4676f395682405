"""The grammar and the zoo ship inside the package and are found from an installed wheel."""
import os
from pathlib import Path

import pytest

import symcount
from symcount.notation.grammar import grammar_path

SOURCE_TREE = Path(__file__).resolve().parents[1]


def test_grammar_is_found_and_parses():
    assert grammar_path().is_file()
    assert symcount.parse("input 3x8x8 conv3-4").params == 3 * 3 * 3 * 4 + 4


def test_installed_package_carries_its_grammar():
    package = Path(symcount.__file__).resolve().parent
    if package.parent == SOURCE_TREE and not os.environ.get("CI"):
        pytest.skip("running from the source tree, not from an installed wheel (CI installs one)")
    assert package.parent != SOURCE_TREE, "CI must test the installed package, not the source tree"
    assert grammar_path() == package / "grammar" / "symcount.lark"
    # the zoo's notation files are package data too: every family file is there
    from symcount import zoo
    families = {entry.family for entry in zoo.entries().values()}
    assert families == {path.name for path in (package / "zoo").glob("*.sym")}
    assert families == {path.name for path in (SOURCE_TREE / "symcount" / "zoo").glob("*.sym")}


def test_lark_keeps_its_tables_only_where_no_other_user_can_write(tmp_path, monkeypatch):
    # a source checkout's Lark unpickles its table cache: never from a directory others can write to
    from symcount.notation.grammar import cache_file
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_file() == str(tmp_path / "symcount" / "lark-tables.pickle")
    assert (tmp_path / "symcount").stat().st_mode & 0o777 == 0o700
    (tmp_path / "symcount").chmod(0o777)
    assert cache_file() is False


def test_every_subpackage_of_the_source_tree_is_listed_for_the_wheel():
    """pyproject.toml names the packages a wheel carries; a folder left off it is missing when installed."""
    import re
    listed = set(re.findall(r'"(symcount[\w.]*)"', (SOURCE_TREE / "pyproject.toml").read_text().split("packages =")[1]
                            .split("]")[0]))
    present = {".".join(path.parent.relative_to(SOURCE_TREE).parts) for path in (SOURCE_TREE / "symcount").rglob("__init__.py")
               if "__pycache__" not in path.parts}
    assert present <= listed, f"not listed in pyproject.toml: {sorted(present - listed)}"
