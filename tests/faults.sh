#!/usr/bin/env bash
# Faults during training, provoked for real on a small Fashion-MNIST folder:
# SIGINT mid-run (resumable checkpoint, resume equals an uninterrupted run),
# kill -9 at random moments (latest/best always readable), an unwritable
# output dir, a full disk (RLIMIT_FSIZE), and a NaN loss.  Skipped (77)
# without Debian's dataset-fashion-mnist.
set -uo pipefail
src=/usr/share/datasets/fashion-mnist
if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
    echo "faults: $src not installed (apt-get install dataset-fashion-mnist): skipped"
    exit 77
fi
pactcl=${PACTCL:-$PWD/tools/pactcl}
work=$(mktemp -d "${TMPDIR:-/tmp}/pactcl-faults-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "faults: FAIL: $*"; exit 1; }

"$pactcl" dataset fashion-mnist --out "$work/data" --limit-train 480 --limit-val 48 > /dev/null ||
    fail "dataset conversion"
img=$(find "$work/data/val" -name '*.png' | head -n 1)
train() { # train OUTDIR EPOCHS [extra args...]; `exec` keeps signals for pactcl itself
    local out=$1 epochs=$2
    shift 2
    ( exec "$pactcl" train --data-path "$work/data" --device cpu -b 16 -j 1 --epochs "$epochs" \
        --lr 0.05 --crop-size 28 --resize-size 28 --crop-scale 0.5 --bn-momentum 0.9 \
        --print-freq 1 --seed 7 --output-dir "$out" "$@" )
}
# In the background, with $! the pid of pactcl itself (a function would be
# run by a subshell, which is what a signal would reach).
train_bg() {
    local out=$1 epochs=$2 log=$3
    shift 3
    exec "$pactcl" train --data-path "$work/data" --device cpu -b 16 -j 1 --epochs "$epochs" \
        --lr 0.05 --crop-size 28 --resize-size 28 --crop-scale 0.5 --bn-momentum 0.9 \
        --print-freq 1 --seed 7 --output-dir "$out" "$@" > "$log" 2>&1
}
readable() { # a checkpoint that loads and predicts
    "$pactcl" predict --pretrained "$1" --img-path "$img" --crop-size 28 --resize-size 28 > /dev/null 2>&1
}

# 1. An uninterrupted reference run.
train "$work/ref" 3 > "$work/ref.log" 2>&1 || { cat "$work/ref.log"; fail "reference run"; }

# 2. SIGINT early in the run (inside epoch 0): exit 130, a resumable
#    checkpoint, the message says how to resume; resuming gives the same
#    weights, bit for bit.
(trap - INT; train_bg "$work/int" 3 "$work/int.log") &
pid=$!
while ! grep -q '^\[Epoch 0, iter: 1\]' "$work/int.log" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$work/int.log"; fail "run ended before it could be interrupted"; }
    sleep 0.05
done
kill -INT $pid
wait $pid
status=$?
[ $status -eq 130 ] || { cat "$work/int.log"; fail "SIGINT: exit status $status, expected 130"; }
grep -q -- "--resume $work/int/latest" "$work/int.log" || { cat "$work/int.log"; fail "SIGINT: no resume hint"; }
readable "$work/int/latest.pdparams" || fail "SIGINT: latest.pdparams unreadable"
train "$work/int" 3 --resume "$work/int/latest" > "$work/resume.log" 2>&1 ||
    { cat "$work/resume.log"; fail "resume after SIGINT"; }
cmp -s "$work/ref/latest.pdparams" "$work/int/latest.pdparams" ||
    fail "SIGINT + resume: weights differ from the uninterrupted run"
cmp -s "$work/ref/latest.pdopt" "$work/int/latest.pdopt" ||
    fail "SIGINT + resume: optimizer state differs from the uninterrupted run"
echo "faults: SIGINT mid-epoch, resume == uninterrupted (bit for bit)"

# 3. kill -9 at random moments, checkpoint writes included: latest and best
#    are always readable, and a resumed run still finishes.
kills=0
for i in $(seq 1 12); do
    (train_bg "$work/k9" 3 "$work/k9.log" ${resume:+--resume "$work/k9/latest"}) &
    pid=$!
    sleep "0.$(( (RANDOM % 9) + 1 ))$(( RANDOM % 10 ))"
    if kill -KILL $pid 2>/dev/null; then kills=$((kills + 1)); fi
    wait $pid 2>/dev/null
    for f in latest best; do
        if [ -e "$work/k9/$f.pdparams" ]; then
            readable "$work/k9/$f.pdparams" || fail "kill -9 #$i left $f.pdparams unreadable"
            resume=1
        fi
    done
done
[ -e "$work/k9/latest.pdparams" ] || train "$work/k9" 1 > /dev/null 2>&1
train "$work/k9" 3 --resume "$work/k9/latest" > "$work/k9.log" 2>&1 ||
    { cat "$work/k9.log"; fail "resume after kill -9"; }
echo "faults: $kills kill -9 at random moments, latest/best always readable, resume finished"

# 4. An unwritable output dir fails at start, naming it.
touch "$work/not-a-dir"
train "$work/not-a-dir/out" 1 > "$work/unw.log" 2>&1 && fail "training into an impossible dir succeeded"
grep -q "output-dir $work/not-a-dir/out" "$work/unw.log" || { cat "$work/unw.log"; fail "unwritable dir: no message"; }
grep -q '^Start training' "$work/unw.log" && fail "unwritable dir: training started anyway"
echo "faults: unwritable --output-dir refused at start"

# 5. A full disk: saves fail (RLIMIT_FSIZE below a checkpoint's size), the
#    previous files stay intact, training goes on, and the run fails at the end.
cp -r "$work/ref" "$work/full"
cp "$work/full/latest.pdparams" "$work/before.pdparams"
( trap '' XFSZ; ulimit -f 512; train "$work/full" 1 ) > "$work/full.log" 2>&1 &&
    { cat "$work/full.log"; fail "a full disk went unnoticed"; }
grep -q "could not be saved" "$work/full.log" || { cat "$work/full.log"; fail "full disk: no message"; }
cmp -s "$work/before.pdparams" "$work/full/latest.pdparams" || fail "full disk: latest.pdparams changed"
ls "$work/full" | grep -q '\.tmp\.' && fail "full disk: temp files left behind"
echo "faults: full disk reported, previous checkpoint intact, no temp files left"

# 6. A NaN loss stops with the epoch, iteration and layer, keeping the last checkpoint.
cp -r "$work/ref" "$work/nan"
train "$work/nan" 1 --lr 1e6 > "$work/nan.log" 2>&1 && { cat "$work/nan.log"; fail "NaN loss went unnoticed"; }
grep -E -q "loss is (NaN|infinite) at epoch 0, iteration [0-9]+; the first non-finite values are in " \
    "$work/nan.log" || { cat "$work/nan.log"; fail "NaN: message lacks epoch, iteration or layer"; }
cmp -s "$work/ref/latest.pdparams" "$work/nan/latest.pdparams" || fail "NaN: the last checkpoint was replaced"
echo "faults: NaN loss stopped with $(grep -o 'iteration [0-9]*; the first non-finite values are in [^ ]*' "$work/nan.log")"
# 7. A long run does not grow: peak RSS after 5 epochs equals that after 1
#    (within 5% for allocator noise).
rss() { /usr/bin/time -f '%M' -o "$work/rss" "$pactcl" train --data-path "$work/data" --device cpu \
            -b 16 -j 1 --epochs "$1" --crop-size 28 --resize-size 28 --print-freq 1000 --seed 7 \
            --output-dir "$work/rss-$1" > /dev/null 2>&1 && cat "$work/rss"; }
# Not under --enable-sanitizers: ASan's quarantine and shadow grow RSS by
# design (and LeakSanitizer checks leaks there).
if [ -x /usr/bin/time ] && [ -z "${PACTCL_SANITIZERS:-}" ]; then
    r1=$(rss 1) && r5=$(rss 5) || fail "memory runs"
    [ $((r5 * 100)) -le $((r1 * 105)) ] || fail "peak RSS grew from $r1 KiB (1 epoch) to $r5 KiB (5 epochs)"
    echo "faults: peak RSS $r1 KiB after 1 epoch, $r5 KiB after 5"
elif [ -n "${PACTCL_SANITIZERS:-}" ]; then
    echo "faults: peak RSS not compared (sanitizer build)"
fi
echo "faults: all passed"
