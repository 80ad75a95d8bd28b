#!/usr/bin/env bash
# Regenerates reports/gpu/ on a CUDA machine, in one pass that fits a 10-minute lease:
#   bash reports/gpu/run_all.sh OUTDIR [SECONDS]
# Runs from the repository root without installing archprobe (PYTHONPATH), so it works on an
# image that has torch but no pip access: put the missing wheels in .whl/ first (see README.md).
# Every step has its own time limit inside the overall budget (SECONDS, default 540), and the
# outputs are packed into OUTDIR/gpu.tgz after each step, so a run cut short keeps what it did.
set -u
out=${1:?usage: run_all.sh OUTDIR [SECONDS]}
budget=${2:-540}
start=$SECONDS
work=$(mktemp -d)
mkdir -p "$out"
log="$out/log.txt"

# Overridable for a dry run on a CPU machine (NO_WHEELS=1 BATCHES=1 MIN_TIME=0.05 PYTEST=0 ...).
batches=${BATCHES:-1,32,256}
min_time=${MIN_TIME:-1.0}
sweep_spec=${SWEEP:-specs/sweeps/resnext50_cardinality_latency.yaml}

if [ -z "${NO_WHEELS:-}" ] && [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 COLUMNS=160
mkdir -p /tmp/bin && printf '#!/bin/sh\nexec python3 -m archprobe "$@"\n' >/tmp/bin/archprobe
chmod +x /tmp/bin/archprobe && export PATH="/tmp/bin:$PATH"

pack() { tar czf "$out/gpu.tgz" -C "$work" . ; }
# step NAME CAP COMMAND...: runs COMMAND under min(CAP, time left), logs it, packs the outputs.
step() {
  local name=$1 cap=$2; shift 2
  local left=$((budget - (SECONDS - start) - 15))
  [ "$left" -lt 20 ] && { echo "== $name: skipped (budget spent)" | tee -a "$log"; return; }
  [ "$cap" -gt "$left" ] && cap=$left
  echo "== $name (limit ${cap}s): $*" | tee -a "$log"
  local t0=$SECONDS
  timeout -k 5 "$cap" "$@" >"$work/$name.txt" 2>&1
  local rc=$?
  tail -n 4 "$work/$name.txt" | tee -a "$log"
  echo "== $name: rc=$rc in $((SECONDS - t0))s" | tee -a "$log"
  pack
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$work/nvidia_smi.txt" 2>&1
python3 -c "import torch; print(torch.__version__, torch.version.cuda, torch.backends.cudnn.version())" \
  >>"$work/nvidia_smi.txt" 2>&1

common=(--measure latency,memory --batch "$batches" --device cuda --min-time "$min_time" --counters --roofline)
for cfg in "fp32 nchw" "fp32 channels_last" "fp16 nchw" "fp16 channels_last"; do
  set -- $cfg
  name="compare_$1_$2"
  flags=(--dtype "$1")
  [ "$2" = channels_last ] && flags+=(--channels-last)
  [ "$name" = compare_fp16_channels_last ] && flags+=(--html "$work/$name.html")
  step "$name" 100 archprobe compare resnet50 resnext50 "${common[@]}" "${flags[@]}" \
    --md "$work/$name.md" --csv "$work/$name.csv"
done

step sweep_cardinality 90 archprobe sweep run "$sweep_spec" --db "$work/sweep_cardinality.db"
archprobe sweep results "$work/sweep_cardinality.db" --csv "$work/sweep_cardinality.csv" \
  --html "$work/sweep_cardinality.html" >>"$log" 2>&1 && pack

# One torch thread per xdist worker: 8 workers x 16 threads on 16 cores made CPU tests 50x slower.
[ "${PYTEST:-1}" = 1 ] && OMP_NUM_THREADS=1 step pytest 240 python3 -m pytest -q -n 8 \
  -p no:cacheprovider -rsf tests

step compare_compile_fp16_channels_last 150 archprobe compare resnet50 resnext50 \
  --measure latency --batch "$batches" --device cuda --dtype fp16 --channels-last --compile \
  --min-time "$min_time" --md "$work/compare_compile_fp16_channels_last.md"
echo "== done in $((SECONDS - start))s" | tee -a "$log"
