#!/bin/sh
# check-valgrind.sh: runs the test suite on the CPU backend under valgrind
# memcheck; `make check-valgrind` calls it (fuzz/fuzz.mk), see fuzz/README.md.
#
#   fuzz/check-valgrind.sh BUILDDIR SRCDIR [TEST...]
#
# Each Check program of TESTS (or the TESTS named) runs once, in-process
# (CK_FORK=no: memcheck then sees every test, and a leak is not hidden by a
# forked child's exit), with only the build tree's CPU plugin on
# PACTCL_PLUGIN_PATH: an OpenCL driver under memcheck takes hours to compile
# its kernels and reports its own bugs, not ours.  Any memcheck error or
# definite leak fails the run (--error-exitcode); the suppressions for the
# OpenMP runtime, OpenBLAS and the dynamic loader are in fuzz/valgrind.supp,
# each with the reason it is not ours.
#
# Environment: VALGRIND (default valgrind), VALGRIND_FLAGS (added to the
# options below), VALGRIND_TESTS (a space-separated subset, e.g.
# "tests/test_pdparams tests/test_image"), VALGRIND_SKIP (tests to leave
# out, same form).  Under memcheck, on two cores, the suite takes about 35
# minutes, 31 of them in tests/test_train and tests/test_int8_model.
set -u

builddir=${1:?usage: check-valgrind.sh BUILDDIR SRCDIR [TEST...]}
srcdir=${2:?usage: check-valgrind.sh BUILDDIR SRCDIR [TEST...]}
shift 2
valgrind=${VALGRIND:-valgrind}

if ! command -v "$valgrind" >/dev/null 2>&1; then
    echo "check-valgrind: $valgrind not found (apt-get install valgrind)" >&2
    exit 77
fi

tests=${VALGRIND_TESTS:-$*}
if [ -z "$tests" ]; then
    # TESTS as make knows it, without the shell-script tests.
    tests=$(cd "$builddir" && make -s --no-print-directory print-check-tests 2>/dev/null)
fi

PACTCL_PLUGIN_PATH="$builddir/backends/cpu/.libs"
CK_FORK=no
# Two OpenMP threads still run every parallel loop's chunking; OpenBLAS's
# own thread pool only adds memcheck time.
OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
OPENBLAS_NUM_THREADS=1
# glibc's malloc tunables that would hide heap errors from memcheck.
unset MALLOC_PERTURB_ MALLOC_CHECK_
export PACTCL_PLUGIN_PATH CK_FORK OMP_NUM_THREADS OPENBLAS_NUM_THREADS

status=0
# memcheck NAME COMMAND...: runs COMMAND (a libtool wrapper or program of
# the build tree) under memcheck, logs to tests/NAME.valgrind.log.
memcheck() {
    name=$1
    shift
    log="$builddir/tests/$name.valgrind.log"
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$builddir/libtool" --mode=execute "$valgrind" --tool=memcheck --error-exitcode=99 \
        --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --track-origins=yes --num-callers=30 \
        --suppressions="$srcdir/fuzz/valgrind.supp" ${VALGRIND_FLAGS:-} \
        "$@" > "$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    summary=$(grep -E '^==[0-9]+== ERROR SUMMARY' "$log" | tail -n 1 | sed 's/^==[0-9]*== //')
    checks=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "PASS: $name (${took} s) $checks; $summary"
    else
        echo "FAIL: $name (exit $rc, ${took} s) $checks; $summary; see $log"
        status=1
    fi
}

for t in $tests; do
    case $t in *.sh) continue ;; esac
    case " ${VALGRIND_SKIP:-} " in *" $t "*)
        echo "SKIP: $(basename "$t") (VALGRIND_SKIP)"
        continue ;;
    esac
    memcheck "$(basename "$t")" "$builddir/$t"
done

# With the OpenCL plugin built: `pactcl devices` loads it beside the CPU
# plugin, so the plugin's init and teardown (platforms, devices, contexts)
# run under memcheck, and the driver's loading with them (fuzz/valgrind.supp
# has the dynamic loader's noise).  Kernels are not compiled: PoCL's LLVM
# under memcheck would take hours.
if [ -z "${VALGRIND_TESTS:-}$*" ] && [ -f "$builddir/backends/opencl/.libs/pactcl-opencl.so" ]; then
    (
        PACTCL_PLUGIN_PATH="$builddir/backends/cpu/.libs:$builddir/backends/opencl/.libs"
        POCL_CACHE_DIR="$builddir/tests/pocl-cache"
        export PACTCL_PLUGIN_PATH POCL_CACHE_DIR
        mkdir -p "$POCL_CACHE_DIR"
        memcheck pactcl-devices-opencl "$builddir/tools/pactcl" devices
        exit $status
    ) || status=1
fi
exit $status
