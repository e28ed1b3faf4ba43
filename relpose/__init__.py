"""relpose: 3D human pose estimation with relative information encoding (Shan et al., ACM MM 2021).

Layers, each importing only those before it (tests/test_layers.py checks it):

- the core, one module per concept: errors, files, resources, tables, skeleton, cameras, datasets
  (the registry of data sets), encoding, fastpaths, model, metrics, windows, checkpoints, weights,
  evaluate, runtime, train;
- relpose.synth: the synthetic Human3.6M-shaped data set (motion library and generator);
- relpose.viz: Plotly figures, the explorer widget, GIF/MP4 rendering, training curves;
- relpose.lab: what the notebooks use (mode settings, presets, analyses, robustness);
- relpose.cli: the command line, flags -> configurations -> the functions above.
"""

__version__ = "0.1.0"
