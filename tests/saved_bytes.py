"""What eager PyTorch autograd keeps for the backward pass of a model's forward pass, in bytes:
every tensor `torch.autograd.graph.saved_tensors_hooks` packs, each storage once and in full, the
model's parameters and buffers left out (tests/fixtures/saved/saved_report.md, Method).  Plain
PyTorch; nothing here imports symcount."""
from __future__ import annotations

import torch


def kept_bytes(model, *inputs) -> int:
    """Distinct non-parameter storages saved while `model(*inputs)` runs (CPU, the model in train mode)."""
    owned = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    storages, alive = {}, []

    def pack(tensor):
        alive.append(tensor)  # kept alive, so no two distinct storages share an address
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in owned:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(*inputs)
    return sum(storages.values())


def on_cpu(model):
    """A model built on the meta device, given (uninitialised) CPU storage and put in train mode:
    what is saved depends on shapes, not on values."""
    return model.to_empty(device="cpu").train()
