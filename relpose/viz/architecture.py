"""The RIE architecture drawn from a ModelConfig: which part reads what, and the tensor shapes in and out of each block.

`describe(config)` lists the blocks and the shapes that flow between them, computed from the
configuration the way relpose.model builds the layers (tests/test_viz_architecture.py checks them
against a real forward pass); `architecture_figure(config)` draws that list, and
`temporal_encoder_figure(config)` one local encoder's layers with the receptive field each adds.
Both return matplotlib Figures, with text at least 10 px high at the notebooks' 72 dpi.
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


COLOURS = {"local": "#cfe2f3", "global": "#d9ead3", "fusion": "#fce5cd", "decoder": "#ead1dc", "data": "#eeeeee"}
LINES = {"own": "0.35", "fusion": "#b45f06", "global": "#38761d"}
FONT = 10     # points; at the notebooks' 72 dpi one point is one pixel, and 10 px is the smallest readable text
TITLE_FONT = 11


def architecture_figure(config: ModelConfig, joint_names=(), batch: str = "B"):
    """Boxes for every block of the model (name, what it reads, input -> output shape per batch of `batch`
    windows) and the features that flow between them. Drawn in inches (one data unit = 1 inch), so the
    text keeps its size whatever the configuration: at 72 dpi it is at least 10 px high."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    blocks = describe(config, joint_names)
    local, glob = [b for b in blocks if b.kind == "local"], [b for b in blocks if b.kind == "global"][0]
    fusion, dec = [b for b in blocks if b.kind == "fusion"], [b for b in blocks if b.kind == "decoder"]
    n, latent, rf = len(local), config.latent_dim, config.receptive_field()
    shape = lambda dims: "(" + ", ".join(str(d) for d in (batch, *dims)) + ")"

    # Columns (inches): input bar, local encoders, [bus to fusion, fusion], global bus, decoders, output bar.
    x_in, x_loc, w_loc = 0.1, 0.85, 2.5
    x_fuse, w_fuse = 4.15, 1.9
    x_dec = (x_fuse + w_fuse + 0.9) if fusion else (x_loc + w_loc + 0.9)
    w_dec, w_bar = 2.0, 0.45
    x_out = x_dec + w_dec + 0.35
    width = x_out + w_bar + 0.15
    pitch, box_h, top = 0.95, 0.62, 0.95            # row spacing, box height, space for the title
    rows = [-(top + 0.4 + i * pitch) for i in range(n)]   # y of each part's row (negative: top down)
    y_glob = rows[-1] - pitch - 0.1
    height = top + 0.4 + n * pitch + 0.1 + 0.45 + 0.55   # rows, the global row, the legend
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(-height, 0)
    ax.axis("off")

    def box(x, y, w, lines, kind, h=box_h):
        ax.add_patch(plt.Rectangle((x, y - h / 2), w, h, facecolor=COLOURS[kind], edgecolor="0.3"))
        ax.text(x + w / 2, y, "\n".join(lines), ha="center", va="center", fontsize=FONT, linespacing=1.25)

    def arrow(x0, y0, x1, y1, colour):
        ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="->", color=colour, lw=1.0))

    def line(xs, ys, colour):
        ax.plot(xs, ys, color=colour, lw=1.0)

    ax.text(0.1, -0.3, f"RIE stage {config.stage}{' (and 3: the same model)' if config.stage == 2 else ''}: "
            f"{n} body parts, receptive field {rf} frames", fontsize=TITLE_FONT, weight="bold", va="center")
    ax.text(0.1, -0.62, f"{config.channels} conv channels, latent {latent}, FC width {config.hidden}, "
            f"encoding {config.encoding}", fontsize=TITLE_FONT, va="center")
    # The input and the output: one bar each, spanning every row.
    span_top, span_bottom = rows[0] + box_h / 2, y_glob - box_h / 2
    for x, text in ((x_in, f"2D windows {shape((rf, config.num_input_joints, 2))}"),
                    (x_out, f"3D pose of the centre frame {shape((1, config.num_joints, 3))}")):
        ax.add_patch(plt.Rectangle((x, span_bottom), w_bar, span_top - span_bottom, facecolor=COLOURS["data"],
                                   edgecolor="0.3"))
        ax.text(x + w_bar / 2, (span_top + span_bottom) / 2, text, rotation=90, ha="center", va="center",
                fontsize=FONT)

    bus_fuse = x_loc + w_loc + 0.4     # all parts' features, from which each fusion block takes the others
    bus_glob = x_dec - 0.4             # the global feature, to every decoder
    for i, (y, b, d) in enumerate(zip(rows, local, dec)):
        arrow(x_in + w_bar, y, x_loc, y, LINES["own"])
        box(x_loc, y, w_loc, [b.name, b.inputs.split(" of ", 1)[-1], f"{shape(b.in_shape)} → {shape(b.out_shape)}"],
            "local")
        # Where the three features enter a decoder: own above, fused in the middle, global below.
        y_own, y_fused, y_glob_in = (y + 0.18, y - 0.02, y - 0.2) if fusion else (y + 0.1, None, y - 0.15)
        arrow(x_loc + w_loc, y_own, x_dec, y_own, LINES["own"])     # the part's own feature, to its decoder
        box(x_dec, y, w_dec, [d.name, d.inputs, f"{shape(d.in_shape)} → {shape((d.out_shape[0] // 3, 3))}"],
            "decoder")
        arrow(x_dec + w_dec, y, x_out, y, LINES["own"])
        arrow(bus_glob, y_glob_in, x_dec, y_glob_in, LINES["global"])
        if fusion:
            f = fusion[i]
            line([x_loc + w_loc, bus_fuse], [y - 0.1, y - 0.1], LINES["fusion"])
            y_f = y - 0.3
            box(x_fuse, y_f, w_fuse, [f.name, f"the other {n - 1} parts",
                                      f"{shape(f.in_shape)} → {shape(f.out_shape)}"], "fusion", h=0.58)
            arrow(bus_fuse, y_f, x_fuse, y_f, LINES["fusion"])
            arrow(x_fuse + w_fuse, y_f, x_dec, y_fused, LINES["fusion"])
    if fusion:
        line([bus_fuse, bus_fuse], [rows[0] - 0.1, rows[-1] - 0.3], LINES["fusion"])
    arrow(x_in + w_bar, y_glob, x_loc, y_glob, LINES["global"])
    box(x_loc, y_glob, w_loc, [glob.name, f"centre frame, all {config.num_input_joints} keypoints",
                               f"{shape(glob.in_shape)} → {shape(glob.out_shape)}"], "global")
    line([x_loc + w_loc, bus_glob, bus_glob], [y_glob, y_glob, rows[0] - (0.2 if fusion else 0.15)], LINES["global"])

    handles = [Line2D([], [], color=LINES["own"], label=f"own feature {shape((latent,))}")]
    if fusion:
        handles.append(Line2D([], [], color=LINES["fusion"], label="other parts' features, fused feature"))
    handles.append(Line2D([], [], color=LINES["global"], label=f"global feature {shape((latent,))}"))
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.1 / width, 0.02), ncols=len(handles),
              fontsize=FONT, frameon=False, handlelength=1.5, columnspacing=1.2)
    return fig


def temporal_encoder_figure(config: ModelConfig):
    """One local encoder's convolution stack: each layer's kernel and the frames one of its outputs sees."""
    import matplotlib.pyplot as plt

    layers = encoder_layers(config)
    fig, ax = plt.subplots(figsize=(8.0, 1.6 + 0.5 * len(layers)))   # the bars' panel at least 140 px high
    for i, (name, w, seen, length) in enumerate(layers):
        y = len(layers) - 1 - i
        ax.barh(y, seen, color="#9fc5e8", edgecolor="0.3")
        ax.text(seen * 1.08, y, f"{name}: width {w}, stride {w} → sees {seen} frames, {length} output(s)",
                va="center", fontsize=FONT)
    ax.set_yticks([])
    ax.set_xscale("log")
    ax.set_xlim(0.8, config.receptive_field() * 200)
    seen = [1] + [s for _, _, s, _ in layers]     # plain numbers: a power's exponent would be smaller text
    ax.set_xticks(seen, [str(s) for s in seen])
    ax.minorticks_off()
    ax.spines[["top", "right"]].set_visible(False)   # the longest label may reach past the axes
    ax.tick_params(labelsize=FONT)
    ax.set_xlabel("frames seen by one output (log scale)", fontsize=FONT)
    ax.set_title(f"one temporal encoder: {len(layers)} layers, receptive field {config.receptive_field()} frames",
                 fontsize=TITLE_FONT)
    fig.tight_layout()
    return fig
