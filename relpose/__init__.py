"""relpose: 3D human pose estimation with relative information encoding (Shan et al., ACM MM 2021).

One module per concept: skeleton, cameras, datasets, synth (the synthetic data set) and motion
(its kinematic action library), windows, encoding, model, metrics, train, evaluate, checkpoints,
viz (Plotly figures), explorer (the 3D explorer widget), render (GIF/MP4), cli and run (the
command line), workflow and presets (the notebooks' glue).
"""

__version__ = "0.1.0"
