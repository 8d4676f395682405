"""A mixture of experts on N×D tokens: E copies of a body (the experts), a router that sends each
token to k of them, and s shared experts every token passes through (Shazeer et al. 2017; Switch
Transformer, Fedus et al. 2021, k = 1; Mixtral, Jiang et al. 2024, E = 8, k = 2; DeepSeekMoE,
Dai et al. 2024, shared experts).

  router   a linear layer of E outputs and no bias: weights D·E, MACs N·D·E
  params   the router's + (E + s) × the body's (every expert is stored)
  active   the router's + (k + s) × the body's: what one token's forward pass touches
  MACs     the router's + (k + s) × the body's on N tokens (each token runs through its k experts
           and the shared ones), as FlopCounterMode counts an implementation that runs each expert
           on the tokens routed to it (Hugging Face's)
The router's softmax (or sigmoid), the choice of the top k and the weighted sum of their outputs
are elementwise or selections: no MACs, as FlopCounterMode counts none of them.
"""
from __future__ import annotations

from symcount.errors import OptionError
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import ZERO, LayerResult, like


def router(params, shape, defaults, needs):
    """The router of moe{E}[top=k, shared=s](...): N×D tokens to N×E scores."""
    tokens, width = shape
    experts, top, shared = params["experts"], params.get("top"), params.get("shared", ZERO)
    if top is None:
        raise LayerProblem(f"a mixture of experts needs the experts each token is routed to: "
                           f"moe{experts}[top=2](...)", OptionError)
    needs.whole(experts, "the experts", 1)
    needs.whole(top, "the experts a token is routed to (top)", 1)
    needs.whole(shared, "the shared experts", 0)
    needs.require(experts - top, "nonnegative", lambda: f"top={top} routes each token to more experts than the "
                  f"{experts} there are")
    return LayerResult(like(shape, (tokens, experts)), width * experts, ZERO, ZERO, tokens * width * experts)


class Experts:
    """How the rows of one expert's body stand for the experts of a moe(...): E experts, k a token,
    s shared (a plain class: a dataclass or named tuple costs a cold command about a millisecond)."""
    __slots__ = ("experts", "top", "shared")

    def __init__(self, router_params: dict):
        self.experts, self.top = router_params["experts"], router_params["top"]
        self.shared = router_params.get("shared", ZERO)

    def scaled(self, row):
        """The row of one expert's layer as the experts' layer: stored (E + s) times, computed and
        kept (k + s) times, (E − k) copies idle for any one token."""
        stored, used = self.experts + self.shared, self.top + self.shared
        return row.scaled(stored, used, idle=(self.experts - self.top) * row.params)
