"""What the notebooks use, above the core, the data makers and the figures (it may import all of them).

- `settings`: quick/full mode settings, making the data and a stage's checkpoint when missing;
- `presets`: the paper's recipe and the quick CPU recipes, as configurations;
- `error_analysis`: errors per take, joint and action, test-time augmentation, error against motion;
- `data_stats`: how fast people move and how far their joints reach, per action;
- `robustness`: perturbations of the 2D input, sweeps over their size, the encoding ablation.
"""
