#!/usr/bin/env bash
# Distributed training on one or several nodes with torchrun:
#   bash tools/dist_train.sh CONFIG NUM_PROCS_PER_NODE [train.py options]
# Several nodes: run it on every node with NNODES, NODE_RANK and MASTER_ADDR
# (the address of node 0) set; PORT must be free on node 0.
set -euo pipefail
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT:${PYTHONPATH:-}" python -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
