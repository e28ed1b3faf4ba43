"""What the notebooks use, above the core, the data makers and the figures (it may import all of them).

- `settings`: quick/full mode settings, making the data and a stage's checkpoint when missing;
- `presets`: the paper's recipe and the quick CPU recipes, as configurations;
- `error_analysis`: errors per take, joint and action, test-time augmentation, error against motion;
- `data_stats`: how fast people move and how far their joints reach, per action;
- `robustness`: perturbations of the 2D input and sweeps over their size;
- `ablation`: the encoding ablation trained (`train_ablation`) and evaluated over seeds;
- `intervals`: means with Student-t intervals, paired comparisons over seeds, Holm's correction and the
  seeds a paired t-test needs (power);
- `claims`: the paper's claims decided over many seeds (one command, one JSON, Holm-corrected verdicts);
- `sim_to_real`: a model's error on real motion capture beside its error on the synthetic set;
- `tolerance`: how a notebook's stored numbers are compared with a fresh run's;
- `wild_model`: the in-the-wild model (its recipe, training, and the file the kit ships);
- `conversion_offsets`: how far COCO keypoints converted to Human3.6M-17 sit from Human3.6M's joints;
- `wild`: the names notebook 09 uses for a person in a real video, imported from their homes;
- `wild_distance`: people filmed from 2-8 m with phone and Human3.6M cameras, lifted with and without the
  person-size zoom, and placed in space (root and floor errors against the DeepMimic clips' truth);
- `wild_smoothing`: whether temporal smoothing lowers the error on the DeepMimic clips with detector noise;
- `yardsticks`: the plausibility checks on takes whose truth is known and on the models' lifts of them
  (`make yardsticks` writes relpose/data/plausibility_yardsticks.json).
"""
