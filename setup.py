"""The build step pyproject.toml cannot declare: the wheel gets symcount/notation/standalone.py,
the parser generated from grammar/symcount.lark by Lark's standalone generator, so the
installed command loads LALR tables instead of importing Lark's grammar compiler (see
symcount/notation/grammar.py).  The module is written into the build directory only, never
into the source tree."""
import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithParser(build_py):
    def run(self):
        super().run()
        spec = importlib.util.spec_from_file_location("symcount_grammar", HERE / "symcount" / "notation" / "grammar.py")
        grammar = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(grammar)
        target = Path(self.build_lib) / "symcount" / "notation" / f"{grammar.STANDALONE_MODULE}.py"
        grammar.write_standalone(target, HERE / "grammar" / grammar.GRAMMAR_FILE)


setup(cmdclass={"build_py": BuildWithParser})
