"""What a table adds on request: a counting convention's column (and its forward +
backward figure), the receptive-field columns, the memory report."""
from __future__ import annotations

from dataclasses import replace

from symcount import algebra as al

from symcount.analyses import receptive as rf
from symcount.render import fields
from symcount.render.model import Column, Extras
from symcount.rows import fold_groups


def extras(network, rows, depth, values, convention=None, backward=False, memory=None, receptive_field=False,
           switches=None, training=None, training_memory=None) -> Extras:
    columns, notes, documents, headline, report = [], [], {}, [], None
    switches = switches or {}
    if convention is not None or switches or backward:
        from symcount.analyses.conventions import convention as chosen
        from symcount.analyses.conventions import count
        rule = chosen(convention or "macs", **switches)
        figures, total = count(network, rule)  # per layer: a folded block's figure is its layers' sum
        if depth is not None:
            figures = [al.Add(*[figures[i] for i in members]) for _, members in fold_groups(network.layers, depth)]
        note = f"{rule.name}: {rule.label} ({rule.unit}s); {rule.source}"
        if not rule.buffers:  # what the tool's own footer says: parameters only, buffers apart
            shown = network.params.xreplace(values) if values else network.params
            shown = f"{int(shown):,}" if shown.is_Integer else shown  # as torchinfo prints it
            note += (f"; its footer: Total params: {shown}, Trainable params: {shown}, Non-trainable params: 0 "
                     "(BatchNorm's running statistics are buffers there, not parameters)")
        tool = rule.name.split(" ")[0]  # the column is headed by the tool alone; the note names its unit
        columns.append(Column("ops", tool, tuple(figures), total))
        headline.append((f"{tool} {rule.label}", total.xreplace(values) if values else total))
        if backward:
            note += "; fwd+bwd: forward + backward, an estimate (backward = 2 × forward)"
            columns.append(Column("ops_backward", "fwd+bwd", tuple(3 * f for f in figures), 3 * total))
            headline.append((f"{rule.label} fwd+bwd", 3 * total.xreplace(values) if values else 3 * total))
        notes.append(note)
        documents["ops"] = {"convention": rule.name, "label": rule.label, "unit": rule.unit, "total": total,
                            "note": note, **({"forward_backward": 3 * total} if backward else {})}
    if training is not None:
        step = network.training_flops(training)
        figures = step.rows if depth is None else \
            [al.Add(*[step.rows[i] for i in members]) for _, members in fold_groups(network.layers, depth)]
        columns.append(Column("training", "train FLOPs", tuple(figures), step.total))
        headline.append(("training FLOPs", step.total.xreplace(values) if values else step.total))
        notes.append(f"train FLOPs: one training step per sample, recompute={training}: forward "
                     f"{step.forward}, backward {step.backward}, recomputed {step.recomputed}, as FlopCounterMode "
                     "counts them (docs/conventions.md, Training compute)")
        documents["training"] = {"recompute": training, "forward": step.forward, "backward": step.backward,
                                 "recomputed": step.recomputed, "total": step.total}
    if receptive_field:
        for name, heading in (("size", "RF size"), ("stride", "RF stride"), ("padding", "RF padding")):
            columns.append(Column(f"rf_{name}", heading, tuple(rf.describe(row.field, name) for row in rows)))
        whole = network.receptive_field
        notes.append("receptive field (Araujo et al., Distill 2019): " + (
            "none, the input is flat" if whole is None else
            f"{rf.UNDEFINED.short}, {rf.UNDEFINED.meaning}; the network's last layers that see part of the input "
            "follow one"
            if whole == rf.UNDEFINED else
            f"size {fields.text(rf.describe(whole, 'size'))}, effective stride "
            f"{fields.text(rf.describe(whole, 'stride'))}, effective padding "
            f"{fields.text(rf.describe(whole, 'padding'))}, after the last layer before fc or global pooling; "
            "'global' where a layer sees the whole input" + "".join(f"; {note}" for note in fields.notes(columns))))
        documents["receptive_field"] = {} if not isinstance(whole, tuple) else \
            {name: rf.describe(whole, name) for name in ("size", "stride", "padding")}
    if memory is not None:
        report = network.memory(memory)
        if values:
            report = replace(report, **{f: getattr(report, f).xreplace(values) for f in
                                        ("params", "non_trainable", "activations", "activations_with_params")})
    trained = None
    if training_memory is not None:
        from symcount.analyses.training_memory import settings_from_text
        settings = settings_from_text(training_memory) if isinstance(training_memory, str) else dict(training_memory)
        trained = network.training_memory(**settings)
        if values:
            trained = replace(trained, **{key: getattr(trained, key).xreplace(values)
                                          for key in ("weights", "gradients", "optimizer", "activations")})
        documents["training_memory"] = {**{k: str(v).lower() if isinstance(v, bool) else al.exact(v)
                                           if isinstance(v, int) else v for k, v in trained.settings},
                                        "units": "bytes",
                                        **{key: value for key, _, value in trained.items()}}
    return Extras(tuple(columns), tuple(notes), report, documents=documents, headline=tuple(headline),
                  training_memory=trained)
