"""Real motion capture as a held-out test set (the layer above synth: it reuses the synthetic set's
camera projection and detector noise).

The clips are DeepMimic's (Peng, Abbeel, Levine, van de Panne: "DeepMimic: Example-Guided Deep
Reinforcement Learning of Physics-Based Character Skills", ACM Transactions on Graphics 37(4), 2018),
retargeted onto one humanoid and shipped in pybullet's pybullet_data (pybullet is zlib-licensed);
they are read from the installed package when the files are made and never copied into the
repository. Their motion capture comes from the CMU Graphics Lab Motion Capture Database: "The data
used in this project was obtained from mocap.cs.cmu.edu. The database was created with funding from
NSF EIA-0196217." and from the SFU Motion Capture Database (mocap.cs.sfu.ca).

- `deepmimic`: reading clips, forward kinematics of pybullet_data/humanoid/humanoid.urdf in numpy
  (checked against pybullet's own in tests/test_mocap.py), the map to Human3.6M-17 and which of its
  points are approximations, resampling to 50 fps;
- `maker`: data_3d_mocap.npz, data_2d_mocap_gt.npz, data_2d_mocap_det.npz (`make_files`,
  `ensure_mocap`); the command line `python -m relpose.mocap` is relpose.cli.mocap.

Importing this package registers `ensure_mocap` as the maker of the 'mocap' data set
(relpose.datasets.register_maker).
"""
from ..datasets import register_maker
from .deepmimic import APPROXIMATE_H36M_JOINTS, clip_files, clip_h36m17, forward_kinematics, to_h36m17
from .maker import FILE_NAMES, FPS, MOCAP_SUBJECT, ensure_mocap, make_files, mocap_takes

register_maker("mocap", ensure_mocap)

__all__ = ["APPROXIMATE_H36M_JOINTS", "clip_files", "clip_h36m17", "forward_kinematics", "to_h36m17", "FILE_NAMES",
           "FPS", "MOCAP_SUBJECT", "ensure_mocap", "make_files", "mocap_takes"]
