"""Constants shared by the command-line tests (a plain module: `conftest` names clash between test folders)."""

# Tiny model flags: receptive field 9, narrow layers.
TINY_MODEL = ["-arc", "3,3", "-ch", "16", "-lfd", "16", "--hidden", "32", "-b", "256", "--no-progress"]
