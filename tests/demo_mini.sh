#!/usr/bin/env bash
# The demo pipeline (scripts/demo.sh) in miniature on every device: a few
# hundred Fashion-MNIST images, one epoch per phase; it must end with an int8
# model that `pactcl eval` reads and a summary.  Skipped (77) when Debian's
# dataset-fashion-mnist is not installed.
set -euo pipefail
src=/usr/share/datasets/fashion-mnist
if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
    echo "demo_mini: $src not installed (apt-get install dataset-fashion-mnist): skipped"
    exit 77
fi
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
pactcl=${PACTCL:-$PWD/tools/pactcl}
work=$(mktemp -d "${TMPDIR:-/tmp}/pactcl-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT

devices=$("$pactcl" devices | awk '/^Devices/ { d = 1; next } /^Plugins/ { d = 0 }
                                   d && /^  (cpu|opencl:)/ { print $1 }')
for device in $devices; do
    echo "== demo_mini on $device"
    out=$work/$device
    PACTCL=$pactcl PACTCL_DEVICE=$device DEMO_DIR=$out DEMO_TRAIN=320 DEMO_VAL=100 DEMO_EPOCHS=1 \
        DEMO_QAT_EPOCHS=1 DEMO_BATCH=32 bash "$top_srcdir/scripts/demo.sh" > "$out.log" 2>&1 ||
        { cat "$out.log"; echo "demo_mini: the demo failed on $device"; exit 1; }
    for f in fp32/best.pdparams qat/qat_inference.pcmodel qat/qat_inference.pcparams \
             fp32/training_curves.svg summary.txt; do
        [ -s "$out/$f" ] || { cat "$out.log"; echo "demo_mini: $device: $f missing"; exit 1; }
    done
    grep -q '^End test: test image 100.0$' "$out/eval-int8.log" ||
        { cat "$out.log"; echo "demo_mini: $device: int8 eval did not cover the 100 val images"; exit 1; }
    grep -q '^int8 PACT (exported)' "$out/summary.txt" || { cat "$out.log"; exit 1; }
    # `pactcl export` from the last QAT checkpoint, into a directory it
    # creates, writes the same int8 model as the end of training did.
    "$pactcl" export --pretrained "$out/qat/latest.pdparams" --output-dir "$out/re-export" \
        --crop-size 28 > "$out/export.log" 2>&1 || { cat "$out/export.log"; exit 1; }
    for f in qat_inference.pcmodel qat_inference.pcparams; do
        cmp -s "$out/qat/$f" "$out/re-export/$f" ||
            { echo "demo_mini: $device: pactcl export wrote another $f"; exit 1; }
    done
    cat "$out/summary.txt"
done
echo "demo_mini: passed on $(echo $devices | wc -w) device(s)"
