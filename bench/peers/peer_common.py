"""peer_common.py: what the peer benchmarks (torch_bench.py, paddle_bench.py)
share with each other and with model_bench: the flags, the synthetic batch,
the timing rule (warm-up excluded, median/min/max of the timed iterations),
one fresh process per workload (so that the peak RSS is that workload's),
and the result lines that bench/compare.sh reads:

    result <system> <workload> batch=N median_ms=X min_ms=X max_ms=X img_s=X ... rss_mib=X
    skip <system> <workload> <reason>
"""
import argparse
import os
import resource
import subprocess
import sys
import time

WORKLOADS = ("T-fp32", "T-qat", "I-fp32", "I-int8")


def parse_args(argv):
    p = argparse.ArgumentParser(description="peer benchmark (see bench/README.md)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    # model_bench's other flags (--device, --profile, ...) mean nothing here.
    args, _ = p.parse_known_args(argv)
    return args


def time_steps(step, args, sync=lambda: None):
    """Runs step() warm-up + iters times; returns the timed ms, sorted."""
    ms = []
    for i in range(args.warmup + args.iters):
        t0 = time.perf_counter()
        step()
        sync()
        if i >= args.warmup:
            ms.append((time.perf_counter() - t0) * 1e3)
    return sorted(ms)


def median(v):
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def print_result(system, workload, batch, ms):
    med = median(ms)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("result %s %s batch=%d median_ms=%.2f min_ms=%.2f max_ms=%.2f img_s=%.1f "
          "img_s_min=%.1f img_s_max=%.1f rss_mib=%.0f"
          % (system, workload, batch, med, ms[0], ms[-1], 1e3 * batch / med,
             1e3 * batch / ms[-1], 1e3 * batch / ms[0], rss), flush=True)


def synthetic(np, args, n):
    """The same kind of batch as model_bench: ImageNet-normalised range, fixed labels."""
    rng = np.random.default_rng(12345)
    x = rng.uniform(-2.1, 2.6, size=(n, 3, args.size, args.size)).astype("float32")
    y = (np.arange(n) * 7919 % args.classes).astype("int64")
    return x, y


def main(system, supported, run_child, missing):
    """Parent: one child process per workload.  `missing` is None when the
    framework imports, else the reason printed in the skip lines."""
    args = parse_args(sys.argv[1:])
    wanted = [w for w in args.workloads.split(",") if w]
    if args.child:
        run_child(args, args.child)
        return 0
    print("%s peer: batch %d, %dx%d, %d classes, %d threads, OMP_WAIT_POLICY %s, "
          "%d warm-up + %d timed iterations"
          % (system, args.batch, args.size, args.size, args.classes, args.threads,
             os.environ.get("OMP_WAIT_POLICY") or "unset", args.warmup, args.iters), flush=True)
    for w in wanted:
        if missing:
            print("skip %s %s %s" % (system, w, missing), flush=True)
            continue
        if w not in supported:
            print("skip %s %s (not offered by this peer)" % (system, w), flush=True)
            continue
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        r = subprocess.run([sys.executable, sys.argv[0], "--child", w] + sys.argv[1:],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sys.stdout.write(r.stdout)
        if r.returncode < 0:
            print("error %s %s killed by signal %d" % (system, w, -r.returncode), flush=True)
        elif r.returncode != 0:
            lines = [l for l in r.stderr.splitlines() if l.strip() and not l[0].isspace()]
            print("error %s %s %s" % (system, w, (lines or ["exit status %d" % r.returncode])[-1]),
                  flush=True)
    return 0
