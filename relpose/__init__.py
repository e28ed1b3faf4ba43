"""relpose: 3D human pose estimation with relative information encoding (Shan et al., ACM MM 2021).

Layers, each importing only those before it (tests/test_layers.py checks it):

- the core, one module per concept: errors, files, resources, tables, safe_npz (reading .npz files that
  may hold only data), skeleton, keypoint_layouts (2D keypoint layouts and their conversions), cameras,
  custom_keypoints (VideoPose3D's custom 2D file), datasets (the registry of data sets), encoding,
  config_rules (the configurations' value rules and how messages name a setting), model, grouped (the
  five body parts as one batched computation), fastpaths (faster forms of the model's modules, swapped in
  by training and inference), stored_config (a
  checkpoint's stored model configuration, checked as data), metrics, windows, checkpoints, weights
  (what a checkpoint's tensors say of its model), evaluate, runtime, train, person_scale (a video's
  person zoomed to the size the model learned), lift (lifting a whole video at the model's frame rate);
- relpose.synth: the synthetic Human3.6M-shaped data set (motion library and generator);
- relpose.mocap: real motion capture (DeepMimic's clips) as a held-out test set;
- relpose.wild: the user's own videos (detectors' keypoints, plausibility without ground truth);
- relpose.viz: Plotly figures, the explorer widget, GIF/MP4 rendering, training curves;
- relpose.lab: what the notebooks use (mode settings, presets, analyses, robustness);
- relpose.cli: the command line, flags -> configurations -> the functions above.
"""

__version__ = "0.1.0"
