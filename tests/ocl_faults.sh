#!/usr/bin/env bash
# OpenCL faults during training, provoked in the real driver by
# tests/cl_fault_inject.c (LD_PRELOAD): a kernel launch refused in epoch 1, the
# device lost in epoch 1, device memory exhausted in the first step.  Each must
# end the run promptly with an error naming the call, the device and the last
# good checkpoint, leave that checkpoint intact, and (for the launch failure)
# resume from it to the end.  Skipped (77) without an OpenCL device or
# without Debian's dataset-fashion-mnist.
set -uo pipefail
src=/usr/share/datasets/fashion-mnist
if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
    echo "ocl_faults: $src not installed (apt-get install dataset-fashion-mnist): skipped"
    exit 77
fi
pactcl=${PACTCL:-$PWD/tools/pactcl}
inject=${CL_FAULT_INJECT:-$PWD/tests/.libs/cl_fault_inject.so}
device=$("$pactcl" devices 2>/dev/null | awk '/^  opencl:/ { print $1; exit }')
if [ -z "$device" ]; then
    echo "ocl_faults: no OpenCL device: skipped"
    exit 77
fi
[ -f "$inject" ] || { echo "ocl_faults: FAIL: $inject not built"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/pactcl-ocl-faults-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "ocl_faults: FAIL: $*"; exit 1; }
# An ASan build wants its runtime first in the library list; the injector
# only wraps OpenCL calls, so the order does not matter here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

"$pactcl" dataset fashion-mnist --out "$work/data" --limit-train 128 --limit-val 32 > /dev/null ||
    fail "dataset conversion"
train() { # train OUTDIR EPOCHS FAULT [extra args...]; at most 5 minutes, so a hang fails
    local out=$1 epochs=$2 fault=$3
    shift 3
    PACTCL_CLFAULT=$fault LD_PRELOAD=$inject PACTCL_CLFAULT_COUNT=$work/count \
        timeout 300 "$pactcl" train --data-path "$work/data" --device "$device" -b 16 -j 1 \
        --epochs "$epochs" --lr 0.05 --crop-size 28 --resize-size 28 --bn-momentum 0.9 \
        --print-freq 4 --seed 7 --output-dir "$out" "$@"
}
expect_failure() { # expect_failure NAME RC LOG PATTERN...
    local name=$1 rc=$2 log=$3
    shift 3
    [ "$rc" -ne 0 ] || { cat "$log"; fail "$name: exit status 0"; }
    [ "$rc" -ne 124 ] || { cat "$log"; fail "$name: still running after 5 minutes"; }
    [ "$rc" -lt 128 ] || { cat "$log"; fail "$name: killed by signal $((rc - 128))"; }
    for p in "$@"; do
        grep -q -e "$p" "$log" || { cat "$log"; fail "$name: no '$p' in the error"; }
    done
}

# 1. One clean epoch, counting kernel launches and buffers: epoch 1 of a
#    two-epoch run starts after the same launches.
train "$work/ref" 1 "" > "$work/ref.log" 2>&1 || { cat "$work/ref.log"; fail "clean run"; }
read -r launches buffers < "$work/count"
[ "$launches" -gt 100 ] && [ "$buffers" -gt 10 ] ||
    fail "the injector saw $launches launches and $buffers buffers: not interposed"
echo "ocl_faults: a clean epoch on $device makes $launches kernel launches and $buffers buffers"

# 2. A kernel launch refused early in epoch 1: a clear error naming the call
#    and the device, epoch 0's checkpoint intact (identical to the clean run's),
#    and --resume from it finishes the run.
train "$work/launch" 2 "launch:$((launches + 5))" > "$work/launch.log" 2>&1
expect_failure "launch failure" $? "$work/launch.log" "clEnqueueNDRangeKernel(" \
    "CL_INVALID_WORK_GROUP_SIZE" "$device" "last good checkpoint (after epoch 0)" \
    "--resume $work/launch/latest"
cmp -s "$work/ref/latest.pdparams" "$work/launch/latest.pdparams" ||
    fail "launch failure: latest.pdparams differs from the clean epoch 0"
train "$work/launch" 2 "" --resume "$work/launch/latest" > "$work/resume.log" 2>&1 ||
    { cat "$work/resume.log"; fail "resume after the launch failure"; }
grep -q '^Training time' "$work/resume.log" || fail "resume did not finish"
echo "ocl_faults: launch failure reported, epoch 0 checkpoint intact, resume finished"

# 3. The device lost early in epoch 1: every call fails from then on.  The
#    run stops (no hang), names the error, and the checkpoint is untouched.
train "$work/lost" 2 "lost:$((launches + 5))" > "$work/lost.log" 2>&1
expect_failure "lost device" $? "$work/lost.log" "CL_OUT_OF_RESOURCES" "$device" \
    "device was lost" "last good checkpoint (after epoch 0)"
cmp -s "$work/ref/latest.pdparams" "$work/lost/latest.pdparams" ||
    fail "lost device: latest.pdparams differs from the clean epoch 0"
ls "$work/lost" | grep -q '\.tmp' && fail "lost device: temporary files left behind"
echo "ocl_faults: lost device reported without a hang, epoch 0 checkpoint intact"

# 4. Device memory exhausted in the first step (the model and its
#    activations, counted by a run of 0 epochs, fit): an out-of-memory error
#    with the advice to shrink the batch, and no checkpoint written.
train "$work/zero" 0 "" > "$work/zero.log" 2>&1 || { cat "$work/zero.log"; fail "0-epoch run"; }
read -r _ model_buffers < "$work/count"
[ "$model_buffers" -lt "$buffers" ] || fail "the first step allocates no buffers to fail"
train "$work/oom" 1 "oom:$((model_buffers + 2))" > "$work/oom.log" 2>&1
expect_failure "out of memory" $? "$work/oom.log" "cannot allocate" "device memory" \
    "try a smaller batch" "before this run saved a checkpoint"
[ ! -e "$work/oom/latest.pdparams" ] || fail "out of memory: a checkpoint was written"
echo "ocl_faults: device out of memory reported at the first step"

echo "ocl_faults: all passed"
