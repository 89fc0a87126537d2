#!/usr/bin/env bash
# The main job on a real dataset with no download: Debian's Fashion-MNIST
# converted to an image folder, MobileNetV3-small trained in FP32, fine-tuned
# with PACT quantization-aware training, exported to int8, both evaluated,
# and a summary printed.  `make demo` runs it from the build tree.
#
# Environment (all optional):
#   PACTCL          the pactcl command (default: pactcl on PATH)
#   PACTCL_DEVICE   --device for every phase (default cpu)
#   DEMO_DIR        where everything is written (default ./demo-out)
#   DEMO_TRAIN, DEMO_VAL   images per split (default: all, 60000 / 10000)
#   DEMO_EPOCHS, DEMO_QAT_EPOCHS, DEMO_BATCH, DEMO_WORKERS  training lengths
set -euo pipefail

pactcl=${PACTCL:-pactcl}
device=${PACTCL_DEVICE:-cpu}
dir=${DEMO_DIR:-demo-out}
epochs=${DEMO_EPOCHS:-8}
qat_epochs=${DEMO_QAT_EPOCHS:-1}
batch=${DEMO_BATCH:-64}
workers=${DEMO_WORKERS:-1}
data=$dir/fashion-mnist

limits=()
[ -n "${DEMO_TRAIN:-}" ] && limits+=(--limit-train "$DEMO_TRAIN")
[ -n "${DEMO_VAL:-}" ] && limits+=(--limit-val "$DEMO_VAL")
[ -n "${DEMO_TRAIN:-}${DEMO_VAL:-}" ] && data=$dir/fashion-mnist-${DEMO_TRAIN:-all}-${DEMO_VAL:-all}

mkdir -p "$dir"
start=$(date +%s)
echo "== 1/5 converting Fashion-MNIST into $data"
"$pactcl" dataset fashion-mnist --out "$data" "${limits[@]}"

# A recipe for 28x28 images: the native size; no random crop (with
# --crop-scale 1.0 RandomResizedCrop keeps the whole image, so the flip is the
# only augmentation: eight epochs of a small model underfit rather than
# overfit); BN running stats averaged over batches (the reference's momentum
# 0.01 keeps only the last batch).  Everything else is the reference's.
common=(--data-path "$data" --device "$device" -b "$batch" -j "$workers" --crop-size 28
        --resize-size 28 --crop-scale 1.0 --bn-momentum 0.9 --print-freq 200 --seed 1)

echo "== 2/5 training FP32 MobileNetV3-small ($epochs epochs)"
"$pactcl" train "${common[@]}" --epochs "$epochs" --lr 0.05 --lr-step-size 4 --lr-gamma 0.2 \
    --output-dir "$dir/fp32" | tee "$dir/fp32.log"

echo "== 3/5 PACT quantization-aware fine-tuning from the best FP32 checkpoint ($qat_epochs epoch(s))"
"$pactcl" train "${common[@]}" --epochs "$qat_epochs" --lr 0.001 --pact_quant \
    --pretrained "$dir/fp32/best.pdparams" --output-dir "$dir/qat" | tee "$dir/qat.log"

echo "== 4/5 evaluating the FP32 checkpoint"
"$pactcl" eval --model_path "$dir/fp32" --model_filename best.pdparams --data_dir "$data" \
    --device "$device" --batch_size 100 --crop-size 28 --resize-size 28 | tee "$dir/eval-fp32.log"

echo "== 5/5 evaluating the exported int8 model with int8 kernels"
"$pactcl" eval --model_path "$dir/qat" --data_dir "$data" --device "$device" --batch_size 100 \
    --crop-size 28 --resize-size 28 | tee "$dir/eval-int8.log"

# ---- summary -------------------------------------------------------------
acc() { sed -n 's/^test_acc1 \([0-9.]*\), test_acc5 \([0-9.]*\),.*/\1 \2/p' "$1"; }
ips() { awk -F'avg_ips: ' '/avg_ips/ && !/iter: 0\]/ { split($2, a, " "); s += a[1]; n++ }
                            END { if (n) printf "%.0f", s / n; else print "-" }' "$1"; }
size() { du -k "$1" | awk '{ printf "%.2f MB", $1 / 1024 }'; }
read -r fp1 fp5 < <(acc "$dir/eval-fp32.log")
read -r q1 q5 < <(acc "$dir/eval-int8.log")
name=$("$pactcl" devices --device "$device" | cut -f3)
elapsed=$(( $(date +%s) - start ))

{
    echo
    echo "pactcl demo: Fashion-MNIST, mobilenet_v3_small, device $device ($name)"
    printf '%-22s %8s %8s %12s %14s\n' model top-1 top-5 size "train img/s"
    printf '%-22s %8s %8s %12s %14s\n' "FP32 (best.pdparams)" "$fp1" "$fp5" "$(size "$dir/fp32/best.pdparams")" "$(ips "$dir/fp32.log")"
    printf '%-22s %8s %8s %12s %14s\n' "int8 PACT (exported)" "$q1" "$q5" \
        "$(size "$dir/qat/qat_inference.pcparams")" "$(ips "$dir/qat.log")"
    awk -v a="$fp1" -v b="$q1" 'BEGIN { printf "int8 - FP32 top-1: %+.2f points\n", (b - a) * 100 }'
    echo "training curves: $dir/fp32/training_curves.svg, $dir/qat/training_curves.svg"
    echo "total time: $((elapsed / 60)) min $((elapsed % 60)) s"
} | tee "$dir/summary.txt"
