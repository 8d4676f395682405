"""A Hugging Face config.json in, the notation out: the network it describes against what transformers
builds from the same configuration, recorded on small configurations of every model type the importer
writes (tests/fixtures/configs/configs.json, with the versions and the command): the parameters, and
FlopCounterMode's FLOPs of a forward pass at two lengths."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import symcount
from symcount.cli import main

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "configs" / "configs.json").read_text())["configs"]


@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_a_configurations_network_is_what_transformers_builds(name):
    recorded = FIXTURE[name]
    net = symcount.from_config(recorded["config"])
    assert net.params + net.non_trainable == recorded["params"]  # Whisper's stored position table among them
    for lengths, flops in recorded["flops"].items():
        values = {"T": int(lengths[2:]), "S": 4}
        at = {net.symbols[n]: v for n, v in values.items() if n in net.symbols}
        assert 2 * net.macs.xreplace(at) == flops, lengths


def test_the_command_prints_the_notation_it_wrote_then_the_table(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(FIXTURE["llama_gqa"]["config"]))
    assert main(["config", str(path), "--depth", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# notation written from {path}\ninput T tokens\nembed11-8\n")
    assert "attn2[kv_heads=1, causal, rope, bias=false]" in out and "1,176 params" in out
    assert main(["config", str(path), "--notation"]) == 0
    assert "params" not in capsys.readouterr().out


@pytest.mark.parametrize("config, message", [
    ({"model_type": "rwkv"}, "model_type 'rwkv' is not one symcount writes; it writes bert, deepseek_v3"),
    ({"model_type": "llama", "hidden_size": "big"}, "hidden_size = 'big' in the llama configuration: a size"),
    ({"model_type": "llama", "hidden_size": 8}, "the llama configuration has no 'num_hidden_layers'"),
    ({**FIXTURE["llama_gqa"]["config"], "num_key_value_heads": 3}, "num_key_value_heads = 3 does not divide"),
    ({**FIXTURE["gpt2"]["config"], "activation_function": "swishy"}, "activation_function = 'swishy'"),
    ([1, 2], "a configuration is a JSON object"),
])
def test_a_configuration_that_cannot_be_written_is_named(config, message):
    with pytest.raises(symcount.SymcountError, match=message):
        symcount.from_config(config)


def test_a_file_that_is_not_there_or_not_json(tmp_path, capsys):
    assert main(["config", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["config", str(broken)]) == 2
    assert "is not JSON" in capsys.readouterr().err
