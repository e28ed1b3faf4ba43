"""The RIE architecture drawn from a ModelConfig: which part reads what, and the tensor shape on every arrow.

`describe(config)` lists the blocks and the shapes that flow between them, computed from the
configuration the way relpose.model builds the layers (tests/test_viz_architecture.py checks them
against a real forward pass); `architecture_figure(config)` draws that list, and
`temporal_encoder_figure(config)` one local encoder's layers with the receptive field each adds.
Both return matplotlib Figures.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model import ModelConfig, receptive_field


@dataclass(frozen=True)
class Block:
    name: str          # module name in the state_dict (LocalLayer_Torso, GlobalInfo, FuseBlocks[0], ...)
    kind: str          # "local", "global", "fusion", "decoder"
    inputs: str        # what it reads, in words
    in_shape: tuple    # per window: (channels, frames) for local encoders, (features,) for the rest
    out_shape: tuple


def describe(config: ModelConfig, joint_names=()) -> list[Block]:
    """The blocks of the model in data-flow order, with per-window input and output shapes."""
    c = config
    rf, latent, n = c.receptive_field(), c.latent_dim, len(c.groups)
    name = (lambda j: joint_names[j]) if joint_names else str
    blocks = []
    for g in c.groups:
        joints = ", ".join(name(j) for j in g.joints)
        blocks.append(Block(f"LocalLayer_{g.name}", "local", f"{c.encoding} of {joints}", (c.in_channels(g), rf),
                            (latent,)))
    blocks.append(Block("GlobalInfo", "global", "centre frame, all keypoints", (2 * c.num_input_joints,), (latent,)))
    if c.stage >= 2:
        for i, g in enumerate(c.groups):
            blocks.append(Block(f"FuseBlocks[{i}]", "fusion", f"the other {n - 1} parts' features",
                                ((n - 1) * latent,), (latent,)))
    parts = 3 if c.stage >= 2 else 2
    for g in c.groups:
        reads = f"{g.name} + fused + global" if c.stage >= 2 else f"{g.name} + global"
        blocks.append(Block(f"Integration_{g.name}", "decoder", reads, (parts * latent,), (len(g.joints) * 3,)))
    return blocks


def encoder_layers(config: ModelConfig) -> list[tuple[str, int, int, int]]:
    """One temporal encoder, layer by layer: (layer, kernel width, frames seen by one output, output length)
    for the strided one-frame form the model trains and evaluates with."""
    rf, rows = config.receptive_field(), []
    for i, w in enumerate(config.filter_widths):
        seen = receptive_field(config.filter_widths[:i + 1])
        rows.append(("expand_conv" if i == 0 else f"layers_conv[{2 * i - 2}]", w, seen, rf // seen))
    return rows


COLOURS = {"local": "#cfe2f3", "global": "#d9ead3", "fusion": "#fce5cd", "decoder": "#ead1dc"}


def architecture_figure(config: ModelConfig, joint_names=(), batch: str = "B"):
    """Boxes for every block of the model, arrows labelled with tensor shapes (per batch of `batch` windows)."""
    import matplotlib.pyplot as plt

    blocks = describe(config, joint_names)
    local, glob = [b for b in blocks if b.kind == "local"], [b for b in blocks if b.kind == "global"][0]
    fusion, dec = [b for b in blocks if b.kind == "fusion"], [b for b in blocks if b.kind == "decoder"]
    n = len(local)
    x_local, w_local = 1.5, 3.0
    x_fuse, w_fuse = 5.5, 2.2
    x_dec, w_dec = (8.8 if fusion else 5.8), 2.4
    fig, ax = plt.subplots(figsize=(12, 0.85 * (n + 2) + 0.6))
    ax.set_xlim(0, x_dec + w_dec + 1.3)
    ax.set_ylim(-1.7, n + 0.2)
    ax.axis("off")

    def box(x, y, w, text, kind):
        ax.add_patch(plt.Rectangle((x, y - 0.3), w, 0.6, facecolor=COLOURS[kind], edgecolor="0.3"))
        ax.text(x + w / 2, y, text, ha="center", va="center", fontsize=7.5)

    def arrow(x0, y0, x1, y1, label="", colour="0.35", dy=0.08):
        ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="->", color=colour, lw=0.9))
        if label:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + dy, label, ha="center", va="bottom", fontsize=6.5, color=colour)

    rf, latent = config.receptive_field(), config.latent_dim
    ax.text(0.0, n - 0.05, f"2D windows ({batch}, {rf}, {config.num_input_joints}, 2)", fontsize=8, weight="bold")
    rows = [n - 1 - i - 0.4 for i in range(n)]
    for y, b, d in zip(rows, local, dec):
        arrow(0.15, y, x_local, y, f"({batch}, {b.in_shape[0]}, {b.in_shape[1]})")
        box(x_local, y, w_local, f"{b.name}\n{b.inputs}", "local")
        # The part's own feature goes straight to its decoder (over the fusion column).
        arrow(x_local + w_local, y + 0.27, x_dec, y + 0.27, f"own feature ({batch}, {latent})", dy=0.02)
        box(x_dec, y, w_dec, f"{d.name}\nreads {d.inputs}", "decoder")
        ax.text(x_dec + w_dec + 0.1, y, f"→ ({batch}, {d.out_shape[0] // 3}, 3)", va="center", fontsize=7)
    if fusion:
        for y, f in zip(rows, fusion):
            box(x_fuse, y - 0.12, w_fuse, f"{f.name}\n{f.inputs}", "fusion")
            arrow(x_local + w_local, y - 0.12, x_fuse, y - 0.12, f"others ({batch}, {f.in_shape[0]})", "#b45f06",
                  dy=-0.2)
            arrow(x_fuse + w_fuse, y - 0.12, x_dec, y - 0.12, f"fused ({batch}, {f.out_shape[0]})", "#b45f06", dy=-0.2)
    yg = -1.25
    arrow(0.15, yg, x_local, yg, f"({batch}, {glob.in_shape[0]})")
    box(x_local, yg, w_local, f"{glob.name}\n{glob.inputs}", "global")
    bus = x_dec - 0.35   # the global feature runs up a bus beside the decoders
    ax.plot([x_local + w_local, bus, bus], [yg, yg, rows[0] - 0.25], color="#38761d", lw=0.9)
    for y in rows:
        arrow(bus, y - 0.25, x_dec, y - 0.25, colour="#38761d")
    ax.text(bus - 0.1, yg + 0.1, f"global feature ({batch}, {glob.out_shape[0]}) to every decoder", ha="right",
            fontsize=6.5, color="#38761d")
    ax.set_title(f"RIE stage {config.stage}: receptive field {rf} frames, {config.channels} conv channels, "
                 f"latent {latent}, FC width {config.hidden}, encoding {config.encoding}", fontsize=9)
    fig.tight_layout()
    return fig


def temporal_encoder_figure(config: ModelConfig):
    """One local encoder's convolution stack: each layer's kernel and the frames one of its outputs sees."""
    import matplotlib.pyplot as plt

    layers = encoder_layers(config)
    fig, ax = plt.subplots(figsize=(6.4, 0.5 + 0.45 * len(layers)))
    for i, (name, w, seen, length) in enumerate(layers):
        y = len(layers) - 1 - i
        ax.barh(y, seen, color="#9fc5e8", edgecolor="0.3")
        ax.text(seen * 1.05, y, f"{name}: width {w} (stride {w}) → sees {seen} frames, {length} output(s)",
                va="center", fontsize=8)
    ax.set_yticks([])
    ax.set_xscale("log")
    ax.set_xlim(0.8, config.receptive_field() * 60)
    ax.set_xlabel("frames seen by one output (log scale)")
    ax.set_title(f"one temporal encoder: {len(layers)} layers, receptive field {config.receptive_field()} frames",
                 fontsize=9)
    fig.tight_layout()
    return fig
