"""relpose: 3D human pose estimation with relative information encoding (Shan et al., ACM MM 2021).

One module per concept: skeleton, cameras, datasets, synth, windows, encoding, model, metrics,
train, evaluate, checkpoints, viz, render, cli.
"""

__version__ = "0.1.0"
