#!/usr/bin/env bash
# Install tpo and its dependencies into the current Python (3.10+).
#   bash tools/install.sh          # the package + test tools
# Order matters: torch first (a CPU wheel here; on a GPU machine install your
# CUDA build of torch before running this), then tpo, then sam2 without build
# isolation (its isolated build would pull another torch with CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python -c 'import torch' 2>/dev/null; then
    python -m pip install -q 'torch==2.13.0'
fi
DS_BUILD_OPS=0 python -m pip install -q -e '.[tests]'
if ! python -c 'import sam2' 2>/dev/null; then
    python -m pip install -q 'hydra-core>=1.3' 'iopath>=0.1.10'
    SAM2_BUILD_CUDA=0 python -m pip install -q --no-build-isolation \
        --no-deps 'sam2==1.1.0'
fi
python -c 'import tpo, mmengine, transformers, peft, decord; print("tpo", tpo.__version__, "installed")'
