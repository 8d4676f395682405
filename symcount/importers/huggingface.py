"""A Hugging Face `config.json` in, notation out: the model its modeling file builds from that
configuration, written in the notation so that it can be read, edited and counted.

One writer a model type, each reading the keys its configuration class defines (with that class's
defaults where a key is absent) and writing the layers as the modeling file runs them; the sequence
lengths stay symbols, T (and S for an encoder's). Dropout, which changes no count, is left out.
"""
from __future__ import annotations

import json
import os

from symcount.errors import SymcountError


MISSING = object()


class Config:
    """The configuration's values, read by name; a missing key without a default is an error naming it,
    and a size must be a whole number of at least 1."""

    def __init__(self, values: dict, model_type: str):
        self.values, self.model_type = values, model_type

    def __call__(self, key, default=MISSING):
        value = self.values.get(key)
        if value is None:
            if default is MISSING:
                raise SymcountError(f"the {self.model_type} configuration has no {key!r}, which the model needs")
            return default
        return value

    def count(self, key):
        """A number of layers or experts that may be 0 (0 where absent)."""
        value = self(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SymcountError(f"{key} = {value!r} in the {self.model_type} configuration: a count is a whole "
                                "number of at least 0")
        return value

    def size(self, key, default=MISSING, optional=False):
        value = self(key, None if optional else default)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SymcountError(f"{key} = {value!r} in the {self.model_type} configuration: a size is a whole "
                                "number of at least 1")
        return value


def _gated(f, d, act, bias=False):
    """A gated MLP: down(act(gate(x)) · up(x)) (SwiGLU, GEGLU)."""
    b = "" if bias else "[bias=false]"
    return f"mul(fc{f}{b} {act} | fc{f}{b}) fc{d}{b}"


ACTIVATIONS = {"silu": "silu", "swish": "silu", "gelu": "gelu", "gelu_pytorch_tanh": "gelu", "gelu_new": "gelu",
               "relu": "relu"}


def _activation(c, key, default):
    name = c(key, default)
    if name not in ACTIVATIONS:
        raise SymcountError(f"{key} = {name!r}: symcount writes {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[name]


def _heads(c, d):
    heads = c.size("num_attention_heads")
    kv = c.size("num_key_value_heads", heads)
    head_dim = c.size("head_dim", optional=True) or None
    if head_dim is None and d % heads:
        raise SymcountError(f"num_attention_heads = {heads} does not divide hidden_size = {d}, and there is no "
                            "head_dim")
    if heads % kv:
        raise SymcountError(f"num_key_value_heads = {kv} does not divide num_attention_heads = {heads}")
    options = ([f"kv_heads={kv}"] if kv != heads else []) + ([f"head_dim={head_dim}"] if head_dim and
                                                              head_dim * heads != d else [])
    return heads, options


def llama_like(c, model_type):
    """Llama, Mistral, Qwen2, Gemma, Mixtral: pre-norm decoder blocks of rotary attention and a gated MLP
    (a mixture of experts for Mixtral), RMSNorm, an output layer (tied where the configuration says)."""
    d, L, V = c.size("hidden_size"), c.size("num_hidden_layers"), c.size("vocab_size")
    heads, options = _heads(c, d)
    bias = {"qwen2": "bias=qkv"}.get(model_type) or ("bias=true" if c("attention_bias", False) else "bias=false")
    window = c.size("sliding_window", optional=True) if c("use_sliding_window", True) else None
    attention = f"attn{heads}[{', '.join(options + ['causal', 'rope'] + ([f'window={window}'] if window else []) + [bias])}]"
    act = _activation(c, "hidden_activation" if model_type == "gemma" else "hidden_act",
                      "gelu_pytorch_tanh" if model_type == "gemma" else "silu")
    mlp = _gated(c.size("intermediate_size"), d, act, c("mlp_bias", False))
    if model_type == "mixtral":
        mlp = f"moe{c.size('num_local_experts')}[top={c.size('num_experts_per_tok')}]({mlp})"
    tied = c("tie_word_embeddings", model_type == "gemma")
    return "\n".join([f"input T tokens", f"embed{V}-{d}", f"(res(rmsnorm {attention}) res(rmsnorm {mlp}))x{L}",
                      f"rmsnorm fc{V}[bias=false{', tied' if tied else ''}]"])


def deepseek_v3(c, model_type):
    """DeepSeek-V3: latent attention, the first layers dense, the rest a mixture with shared experts."""
    d, L, V, heads = c.size("hidden_size"), c.size("num_hidden_layers"), c.size("vocab_size"), c.size("num_attention_heads")
    q_rank = c.size("q_lora_rank", optional=True)
    latent = ([f"q_rank={q_rank}"] if q_rank else []) + [
        f"kv_rank={c.size('kv_lora_rank')}", f"head_dim={c.size('qk_nope_head_dim')}", f"rope_dim={c.size('qk_rope_head_dim')}",
        f"v_dim={c.size('v_head_dim')}", "causal", "bias=false"]
    attention = f"attn{heads}[{', '.join(latent)}]"
    dense = min(c.count("first_k_dense_replace"), L)
    experts = (f"moe{c.size('n_routed_experts')}[top={c.size('num_experts_per_tok')}, shared={c.count('n_shared_experts')}]"
               f"({_gated(c.size('moe_intermediate_size'), d, 'silu')})")
    lines = [f"input T tokens", f"embed{V}-{d}"]
    if dense:
        lines.append(f"(res(rmsnorm {attention}) res(rmsnorm {_gated(c.size('intermediate_size'), d, 'silu')}))x{dense}")
    if L > dense:
        lines.append(f"(res(rmsnorm {attention}) res(rmsnorm {experts}))x{L - dense}")
    lines.append(f"rmsnorm fc{V}[bias=false{', tied' if c('tie_word_embeddings', False) else ''}]")
    return "\n".join(lines)


def gpt2(c, model_type):
    d, L, V, heads = c.size("n_embd", 768), c.size("n_layer", 12), c.size("vocab_size", 50257), c.size("n_head", 12)
    inner = c.size("n_inner", optional=True) or 4 * d
    act = _activation(c, "activation_function", "gelu_new")
    return "\n".join([f"input T tokens", f"embed{V}-{d} pos{c.size('n_positions', 1024)}",
                      f"(res(ln attn{heads}[causal]) res(ln fc{inner} {act} fc{d}))x{L}",
                      f"ln fc{V}[bias=false, tied]"])


def bert(c, model_type):
    d, L, V, heads = c.size("hidden_size", 768), c.size("num_hidden_layers", 12), c.size("vocab_size", 30522), \
        c.size("num_attention_heads", 12)
    act = _activation(c, "hidden_act", "gelu")
    return "\n".join([f"input T tokens",
                      f"embed{V}-{d} segment{c.size('type_vocab_size', 2)} pos{c.size('max_position_embeddings', 512)} ln",
                      f"(res(attn{heads}) ln res(fc{c.size('intermediate_size', 3072)} {act} fc{d}) ln)x{L}",
                      f"clspool fc{d} tanh"])


def t5(c, model_type):
    d, V, heads, d_kv, d_ff = c.size("d_model", 512), c.size("vocab_size", 32128), c.size("num_heads", 8), c.size("d_kv", 64), \
        c.size("d_ff", 2048)
    encoders, buckets = c.size("num_layers", 6), c.size("relative_attention_num_buckets", 32)
    decoders = c.size("num_decoder_layers", encoders)
    projection = c("feed_forward_proj", "relu")
    act = {"relu": "relu", "gated-gelu": "gelu", "gated-silu": "silu"}.get(projection)
    if act is None:
        raise SymcountError(f"feed_forward_proj = {projection!r}: symcount writes relu, gated-gelu and gated-silu")
    ff = f"res(rmsnorm {_gated(d_ff, d, act)})" if projection.startswith("gated") else \
        f"res(rmsnorm fc{d_ff}[bias=false] relu fc{d}[bias=false])"
    size = f"head_dim={d_kv}, " if d_kv * heads != d else ""
    first, later = f"attn{heads}[{size}bias=false, relative={buckets}]", f"attn{heads}[{size}bias=false]"
    causal = lambda a: a.replace("[", "[causal, ", 1)  # noqa: E731
    cross = f"res(rmsnorm attn{heads}[{size}cross, bias=false])"
    # transformers 5 ties T5's output layer to its shared embedding whatever tie_word_embeddings says
    # (measured: a T5 v1.1 configuration with it false); the flag only decides the logits' scaling
    lines = [f"input S tokens", f"embed{V}-{d}", f"res(rmsnorm {first}) {ff}"]
    if encoders > 1:
        lines.append(f"(res(rmsnorm {later}) {ff})x{encoders - 1}")
    lines += ["rmsnorm", "input T tokens", f"embed{V}-{d}[tied]", f"res(rmsnorm {causal(first)}) {cross} {ff}"]
    if decoders > 1:
        lines.append(f"(res(rmsnorm {causal(later)}) {cross} {ff})x{decoders - 1}")
    lines.append(f"rmsnorm fc{V}[bias=false, tied]")
    return "\n".join(lines)


def whisper(c, model_type):
    d, V = c.size("d_model", 384), c.size("vocab_size", 51865)
    frames = 2 * c.size("max_source_positions", 1500)
    eh, dh = c.size("encoder_attention_heads", 6), c.size("decoder_attention_heads", 6)
    return "\n".join([
        f"input {c.size('num_mel_bins', 80)}x{frames}",
        f"conv3-{d} gelu conv3-{d}/2 gelu totokens pos{c.size('max_source_positions', 1500)}[frozen]",
        f"(res(ln attn{eh}[bias=qvo]) res(ln fc{c.size('encoder_ffn_dim', 1536)} gelu fc{d}))x{c.size('encoder_layers', 4)}",
        "ln", "input T tokens", f"embed{V}-{d} pos{c.size('max_target_positions', 448)}",
        f"(res(ln attn{dh}[causal, bias=qvo]) res(ln attn{dh}[cross, bias=qvo]) "
        f"res(ln fc{c.size('decoder_ffn_dim', 1536)} gelu fc{d}))x{c.size('decoder_layers', 4)}",
        f"ln fc{V}[bias=false, tied]"])


WRITERS = {"llama": llama_like, "mistral": llama_like, "qwen2": llama_like, "gemma": llama_like,
           "mixtral": llama_like, "deepseek_v3": deepseek_v3, "gpt2": gpt2, "bert": bert, "t5": t5,
           "whisper": whisper}


def notation_from_config(config) -> str:
    """The notation of the model a configuration describes: a dict, or the path of a local config.json."""
    if isinstance(config, (str, os.PathLike)):
        try:
            with open(config, encoding="utf-8") as file:
                config = json.load(file)
        except OSError as problem:
            raise SymcountError(f"cannot read {os.fspath(config)!r}: {problem.strerror}") from None
        except ValueError as problem:
            raise SymcountError(f"{os.fspath(config)!r} is not JSON: {problem}") from None
    if not isinstance(config, dict):
        raise SymcountError("a configuration is a JSON object (a dict) of a model's settings")
    model_type = config.get("model_type")
    if model_type not in WRITERS:
        raise SymcountError(f"model_type {model_type!r} is not one symcount writes; it writes "
                            f"{', '.join(sorted(WRITERS))}")
    return WRITERS[model_type](Config(config, model_type), model_type) + "\n"


def from_config(config, input=None):
    """The network a configuration describes (a dict or a local config.json's path), built from the
    notation notation_from_config writes (its `spec.source`)."""
    from symcount.network import parse
    return parse(notation_from_config(config), input=input)
