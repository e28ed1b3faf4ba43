#!/usr/bin/env bash
# The GPU checks and benchmarks in one pass, as run for benchmarks/README.md ("GPU" section):
#   bash benchmarks/gpu_session.sh OUTDIR [PARTS]      # PARTS: e.g. "1 5" (default: all, 1-6)
# Uses the machine's python3 (with a CUDA build of torch) and the repository on PYTHONPATH.
# Each part writes its log to OUTDIR as it goes, so a run cut short keeps what it finished.
set -u
OUT=${1:-gpu_out}
PARTS=${2:-"1 2 3 4 5 6"}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD MPLBACKEND=Agg
PY=${PY:-python3}
DATA=/tmp/relpose_gpu
want() { [[ " $PARTS " == *" $1 "* ]]; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/00_machine.txt"
$PY -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'numpy', numpy.__version__)" \
    | tee -a "$OUT/00_machine.txt"

# 1. the CUDA tests (CPU == CUDA numbers, sampler on the device, amp training)
want 1 && $PY -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_model.py tests/test_windows.py 2>&1 \
    | tail -15 | tee "$OUT/01_tests.txt"

# 2. epoch time at the paper's configuration on the Human3.6M-sized synthetic set, fp32 and --amp
if want 2; then
    $PY -m relpose.synth --data-dir $DATA/h36m --size h36m 2>&1 | tail -1 | tee "$OUT/02_epoch.txt"
    for amp in "" "--amp"; do
        $PY benchmarks/bench_epoch.py --device cuda --data-dir $DATA/h36m $amp 2>&1 | tee -a "$OUT/02_epoch.txt"
    done
fi

# 3. final MPJPE, fp32 against --amp: the paper's configuration, stage 1, the default synthetic set, one seed
if want 3; then
    $PY -m relpose.synth --data-dir $DATA/default 2>&1 | tail -1 | tee "$OUT/03_amp_mpjpe.txt"
    for amp in "" "--amp"; do
        echo "== ${amp:-fp32}" | tee -a "$OUT/03_amp_mpjpe.txt"
        $PY -m relpose -d synth -k det --data-dir $DATA/default -c $DATA/ck${amp} -arc 3,3,3,3,3 -ch 256 -lfd 256 \
            --stage 1 -e 8 --downsample 2 --seed 0 --no-eval --no-progress $amp 2>&1 \
            | grep -E "\[stage|action-wise|Training on" | tee -a "$OUT/03_amp_mpjpe.txt"
    done
fi

# 4. training-step and evaluation throughput, fp32 (on CUDA the five parts as one computation, relpose.grouped),
#    the five parts one after another ('parts': the step before it) and --amp, both configurations
want 4 && $PY benchmarks/bench_model.py --device cuda --variants parts,fp32,amp --steps 20 --json "$OUT/04_model.json" 2>&1 \
    | tee "$OUT/04_model.txt"

# 5. the same with the training step and the evaluation forward pass captured as CUDA graphs (experiment)
want 5 && $PY benchmarks/bench_model.py --device cuda --variants fp32,amp,graph,amp-graph --steps 20 \
    --json "$OUT/05_graphs.json" 2>&1 | tee "$OUT/05_graphs.txt"

# 6. final MPJPE, fp32 against --amp, over five seeds (the quick stage-1 recipe; the CPU figures are in README)
want 6 && $PY benchmarks/amp_accuracy.py --device cuda --workdir $DATA/amp_seeds --json "$OUT/06_amp_seeds.json" 2>&1 \
    | tee "$OUT/06_amp_seeds.txt"
exit 0
