#!/bin/sh
# run_peer.sh NAME PYTHON SCRIPT THREADS [model_bench flags...]: runs one peer
# benchmark with THREADS threads, or says why it was skipped (PYTHON empty or
# not found), never failing `make bench` for a missing peer.
name=$1 python=$2 script=$3 threads=$4
shift 4
if test -z "$python"; then
    echo "skip $name all (not requested: its interpreter variable is empty)"
    exit 0
fi
if ! command -v "$python" >/dev/null 2>&1; then
    echo "skip $name all (not installed: no $python)"
    exit 0
fi
OMP_NUM_THREADS=$threads exec "$python" "$script" --threads "$threads" "$@"
