"""`symcount repl`: a prompt that keeps definitions, the input, symbol
values and settings between lines, completes words, keeps a history, and shows errors
without leaving."""
import io
import subprocess
import sys

import pytest

import symcount
from symcount import zoo
from symcount.repl import Session, history_path, run


def test_definitions_input_and_values_are_kept_between_lines():
    session = Session()
    assert session.handle("def C(k) = (conv4-{k}/2[pad=1] bn lrelu)") == "defined C"
    assert session.handle(":input 3xHxW") == "input 3xHxW"
    symbolic = session.handle("C64-C128")
    assert "⌊H/4⌋" in symbolic
    session.handle(":set H=256 W=256")
    table = session.handle("C64-C128")
    # the same as the one-shot API with the same text, input and values, each formula beside its value
    net = symcount.parse("def C(k) = (conv4-{k}/2[pad=1] bn lrelu) C64-C128", input="3xHxW")
    assert table == net.table(values=net.values(H=256, W=256), formulas=True)
    # two stride-2 convolutions with kernel 4 and padding 1: 256 → 128 → 64 (by hand)
    assert "128×H₂×W₂ = 128×64×64" in table
    assert session.handle(":formulas off") .startswith("formulas: off")
    alone = session.handle("C64-C128")
    assert alone == net.table(values=net.values(H=256, W=256)) and "128×64×64" in alone and "H₂" not in alone


def test_settings_change_the_next_lines():
    session = Session()
    session.handle(":rounding exact")
    assert "96×217/4×217/4" in session.handle("input 3x224x224 conv11-96/4[pad=0]")  # the seed: 54.25
    session.handle(":rounding")
    session.handle(":format json")
    assert session.handle("input 3x8x8 conv3-4").lstrip().startswith("{")
    session.handle(":format text")
    session.handle(":convention torchinfo")
    assert "torchinfo" in session.handle("input 3x8x8 conv3-4")


def test_commands_act_on_the_last_network():
    session = Session()
    with pytest.raises(symcount.SymcountError, match="no network yet"):
        session.handle(":check")
    session.handle("input 3x227x227 conv11-96/4[pad={p}]")
    assert "p ∈ {0…1}" in session.handle(":solve conv1=55x55 p=0..10")
    session.handle(":set p=0")
    assert "class Alex(nn.Module)" in session.handle(":export alex")
    session.handle("input 3xSxS conv3-8 pool fc10")
    swept = session.handle(":sweep S=32..64:32 --quantity params,macs").splitlines()
    header = swept.index("-" * len(swept[-1])) - 1
    assert swept[header].split() == ["S", "params", "MACs"]
    # fc10 after 8×16×16 at S=32: 2048·10 + 10; conv 3·3·3·8 + 8 (by hand)
    assert swept[header + 2].split()[:2] == ["32", f"{2048 * 10 + 10 + 224:,}"]


def test_a_zoo_name_is_a_line():
    session = Session()
    assert session.handle("lenet5") == zoo.load("lenet5").table()


def test_completion_of_keywords_zoo_names_blocks_symbols_and_commands():
    session = Session()
    session.handle("def bottleneck(c) = (conv1-{c})")
    session.handle("input 3xHxW conv3-{width}")
    assert "conv" in session.completions("co")
    assert {"side", "silu"} <= set(session.completions("si")) and "crop" in session.completions("cr")
    assert {"resnet18", "resnet50"} <= set(session.completions("resn"))
    assert session.completions("bott") == ["bottleneck"]
    assert "width" in session.completions("wi")
    assert session.completions(":se") == [":set"]


def test_errors_are_shown_and_the_prompt_goes_on():
    stdin = io.StringIO("conv3-64 sofmax\n:bogus\ninput 3x8x8 conv3-4\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run(stdin, stdout, stderr) == 2  # not a terminal: it went on to the end, and reports the failures
    assert "unknown layer 'sofmax'" in stderr.getvalue() and "did you mean 'softmax'" in stderr.getvalue()
    assert "unknown command :bogus" in stderr.getvalue()
    assert "4×8×8" in stdout.getvalue() and "Traceback" not in stderr.getvalue()


def test_an_entry_may_span_lines_until_its_parentheses_close():
    stdin = io.StringIO("def R(k) = res(conv3-{k}\n   conv3-{k})\ninput 3x8x8 R3\n:quit\nconv3-1\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    run(stdin, stdout, stderr)
    assert stderr.getvalue() == ""
    assert stdout.getvalue().startswith("defined R\n") and "conv3-1" not in stdout.getvalue()


def test_a_command_line_ends_an_entry_left_open_and_runs():
    stdin = io.StringIO("input 1x5x7 (relu\n:help\ninput 3x8x8 conv3-4\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run(stdin, stdout, stderr) == 2  # the open entry failed
    assert "left open" in stderr.getvalue() and "'('" in stderr.getvalue() and "column 13" in stderr.getvalue()
    assert ":quit" in stdout.getvalue()  # :help ran, as a command, not as part of the entry
    assert "4×8×8" in stdout.getvalue()  # and the lines after it were read as entries


def test_a_blank_line_ends_an_entry_left_open():
    stdin = io.StringIO("input 1x5x7 (relu\n\ninput 3x8x8 conv3-4\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run(stdin, stdout, stderr) == 2
    assert "left open" in stderr.getvalue() and "4×8×8" in stdout.getvalue()


def test_an_entry_left_open_at_the_end_of_the_input_is_an_error_and_the_exit_status_says_so():
    done = subprocess.run([sys.executable, "-m", "symcount", "repl"], capture_output=True, text=True, timeout=120,
                          input="input 3x8x8 conv3-4\ninput 1x5x7 (relu\n  conv3-{k\n")
    assert done.returncode == 2 and "4×8×8" in done.stdout
    assert "left open" in done.stderr and "end of the input" in done.stderr
    assert "'{'" in done.stderr and "line 2, column 9" in done.stderr  # where the innermost open bracket is


def test_the_command_line_starts_it_and_history_is_kept(tmp_path):
    readline = pytest.importorskip("readline")
    done = subprocess.run([sys.executable, "-m", "symcount", "repl"], input="input 3x8x8 conv3-4\n:quit\n",
                          capture_output=True, text=True, timeout=120,
                          env={"SYMCOUNT_HISTORY": str(tmp_path / "history"), "PATH": ""})
    assert done.returncode == 0 and "4×8×8" in done.stdout
    # history: the same readline calls the interactive prompt makes, on a file of our own
    import os
    os.environ["SYMCOUNT_HISTORY"] = str(tmp_path / "history")
    try:
        from symcount.repl import _line_editing
        readline.clear_history()
        remember, save = _line_editing(Session())
        readline.add_history("conv3-64x2 pool fc10")
        save()
        assert (tmp_path / "history").read_text().splitlines()[-1] == "conv3-64x2 pool fc10"
        assert history_path() == str(tmp_path / "history")
    finally:
        del os.environ["SYMCOUNT_HISTORY"]


class Terminal:
    """`symcount repl` on a pseudo-terminal: what it prints, and keys typed into it."""

    def __init__(self, history):
        pty = pytest.importorskip("pty")
        pytest.importorskip("readline")
        import os
        self.controller, terminal = pty.openpty()
        env = {**os.environ, "SYMCOUNT_HISTORY": str(history), "TERM": "dumb"}
        self.process = subprocess.Popen([sys.executable, "-m", "symcount", "repl"], stdin=terminal, stdout=terminal,
                                        stderr=terminal, env=env, close_fds=True)
        os.close(terminal)
        self.received = b""

    def read_until(self, marker, seconds=60):
        import os
        import select
        import time
        deadline = time.monotonic() + seconds
        while marker not in self.received and time.monotonic() < deadline:
            ready, _, _ = select.select([self.controller], [], [], 0.5)
            if ready:
                try:
                    self.received += os.read(self.controller, 65536)
                except OSError:
                    break
        return marker in self.received

    def type(self, keys: bytes):
        import os
        os.write(self.controller, keys)

    def expect(self, marker: bytes):
        """Wait for `marker`, failing with the end of what was printed."""
        assert self.read_until(marker), self.received.decode(errors="replace")[-2000:]

    def quit(self) -> int:
        """Leave with :quit: the exit status."""
        self.type(b":quit\n")
        self.process.wait(timeout=60)
        return self.process.returncode

    def close(self):
        import os
        self.process.kill()
        os.close(self.controller)


def test_on_a_terminal_tab_completes_and_history_is_written(tmp_path):
    """The prompt as a user meets it: on a pseudo-terminal, `lenet<TAB>` completes to the
    zoo name, and leaving writes the history file."""
    history = tmp_path / "history"
    terminal = Terminal(history)
    try:
        terminal.expect(b"symcount> ")
        terminal.type(b"lenet\t\n")
        terminal.expect(b"fc2")
        assert terminal.quit() == 0
    finally:
        terminal.close()
    assert history.read_text().splitlines()[-2:] == ["lenet5", ":quit"]


def test_on_a_terminal_ctrl_d_abandons_an_open_entry_and_the_prompt_goes_on(tmp_path):
    terminal = Terminal(tmp_path / "history")
    try:
        terminal.expect(b"symcount> ")
        terminal.type(b"input 1x5x7 (relu\n")
        terminal.expect(b"...> ")
        terminal.type(b"\x04")  # Ctrl-D
        terminal.expect(b"left open")
        terminal.type(b"input 3x8x8 conv3-4\n")
        terminal.expect("4×8×8".encode())
        assert terminal.quit() == 0
    finally:
        terminal.close()


def test_sweep_takes_the_command_s_ranges_a_grid_or_paired_and_set_values():
    session = Session()
    session.handle("input 3xHxW conv3-{C} pool fc10")
    session.handle(":set C=4")

    def points(answer):  # the rows under the rule: H, W, then params
        lines = answer.splitlines()
        rows = lines[[i for i, line in enumerate(lines) if set(line) == {"-"}][0] + 1:]
        return [tuple(int(cell.replace(",", "")) for cell in row.split()[:3]) for row in rows]

    def params(h, w):  # the network parsed at that numeric size: an independent path
        return symcount.parse("conv3-4 pool fc10", input=f"3x{h}x{w}").params

    grid = points(session.handle(":sweep H=8,16 W=8..24:8 --quantity params"))
    assert [(h, w) for h, w, _ in grid] == [(8, 8), (8, 16), (8, 24), (16, 8), (16, 16), (16, 24)]
    assert all(p == params(h, w) for h, w, p in grid)
    paired = points(session.handle(":sweep H=8..24:8 W=16..48:16 --paired --quantity params"))
    assert [(h, w) for h, w, _ in paired] == [(8, 16), (16, 32), (24, 48)]
    assert all(p == params(h, w) for h, w, p in paired)
    with pytest.raises(symcount.SymcountError, match="one length"):
        session.handle(":sweep H=8..24:8 W=16..32:16 --paired")


def test_history_keeps_an_entry_typed_over_several_lines_whole():
    from symcount.repl import one_line
    assert one_line('res(conv3-8  # the first\n  "stage 1": conv3-8)') == 'res(conv3-8 "stage 1": conv3-8)'
    assert one_line('"a # b": conv3-8') == '"a # b": conv3-8'  # one line: kept as typed
    session = Session()
    two_lines = session.handle("input 3x8x8 res(conv3-4  # a comment\nrelu)")
    assert session.handle(one_line("input 3x8x8 res(conv3-4  # a comment\nrelu)")) == two_lines


def test_on_a_terminal_an_entry_over_two_lines_is_one_history_entry(tmp_path):
    history = tmp_path / "history"
    terminal = Terminal(history)
    try:
        terminal.expect(b"symcount> ")
        terminal.type(b"input 3x8x8 (conv3-4\n")
        terminal.expect(b"...> ")
        terminal.type(b"relu)\n")
        terminal.expect("4×8×8".encode())
        terminal.quit()
    finally:
        terminal.close()
    assert history.read_text().splitlines()[-2:] == ["input 3x8x8 (conv3-4 relu)", ":quit"]


def test_a_huge_sweep_is_refused_not_run():
    session = Session()
    session.handle("input 3xSxS conv3-8")
    with pytest.raises(symcount.SymcountError, match="more than 10,000"):
        session.handle(":sweep S=1..100000000")


def test_commands_and_zoo_names_may_carry_a_comment():
    stdin = io.StringIO("input 3x8x8 conv3-4\n:export PatchEncoder   # a module\nlenet5   # a zoo name\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run(stdin, stdout, stderr) == 0, stderr.getvalue()
    assert "class PatchEncoder(nn.Module)" in stdout.getvalue()
    assert "input 1×32×32" in stdout.getvalue()  # the zoo entry was read: LeNet-5's 32×32 input (LeCun et al. 1998)
