#!/usr/bin/env bash
# benchmark_scale.py at 7B shape on one GPU (random weights, nothing to
# download), as docs/performance.md reports it: the training steps of the
# recipe without a strategy and with DeepSpeed ZeRO-2, and the head path
# against the textualized answer for a box, a window and a 16-frame track
# with the first-token latency. Each run has its own time limit (LIMIT
# seconds, default 200), so that the whole script (under 12 minutes, the
# model builds included) leaves room for a rerun on a lent machine.
#
#   bash tools/analysis_tools/benchmark_scale_gpu.sh OUT [CONFIG] [ARGS...]
#
# OUT gets gpu.txt (the card), one NAME.log and NAME.json per run and
# status.txt (each run's exit status; 124: over its limit). CONFIG defaults
# to configs/tpo/videochat_stage3.py; ARGS go to every run (e.g.
# --cfg-options ... to shrink the model for a trial of this script on a
# CPU: DEVICE=cpu).
set -u
OUT=${1:?usage: $0 OUT [CONFIG] [ARGS...]}
CONFIG=${2:-configs/tpo/videochat_stage3.py}
shift $(( $# < 2 ? $# : 2 ))
LIMIT=${LIMIT:-200}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
export PYTHONPATH=${PYTHONPATH:-$PWD}
: > "$OUT/status.txt"
if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version \
        --format=csv > "$OUT/gpu.txt" 2>&1
fi
python -c 'import torch; print("torch", torch.__version__, "cuda",
    torch.version.cuda)' >> "$OUT/gpu.txt" 2>&1

run() {
    local name=$1
    shift
    timeout "$LIMIT" python tools/analysis_tools/benchmark_scale.py \
        "$CONFIG" --random-weights --device "$DEVICE" "$@" \
        --json "$OUT/$name.json" > "$OUT/$name.log" 2>&1
    local status=$?
    echo "$name: exit $status" | tee -a "$OUT/status.txt"
    grep -v -e ' - mmengine - ' -e '^\[' -e 'Warning' -e 'warnings.warn' \
        -e 'built successfully' "$OUT/$name.log" | tail -n 30
}

run train --steps 10 --warmup 3 "$@"
run infer --infer --frames 16 --repeats 5 --warmup 2 "$@"
run train_zero2 --strategy deepspeed_zero2 --steps 10 --warmup 3 "$@"
