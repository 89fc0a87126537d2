#!/bin/sh
# compare.sh FILE...: the table of ratios of `make bench-model`.
#
# Reads the `result` and `skip` lines that model_bench and the peers
# (bench/peers/*.py) print, and for every pactcl result prints one row per
# peer that ran the same workload:
#   ratio = pactcl img/s / peer img/s  (above 1: pactcl is faster)
# plus the cross-checks BENCH.md sets targets on: pactcl I-int8 against the
# peer's fp32 eval, and what QAT costs pactcl over its FP32 step.
# Missing files are ignored, so a peer that never ran shows as absent.
files=
for f in "$@"; do
    test -r "$f" && files="$files $f"
done
test -n "$files" || { echo "compare.sh: no result files" >&2; exit 1; }
# shellcheck disable=SC2086
awk '
function val(key,   i, kv) {
    for (i = 4; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == key)
            return kv[2]
    }
    return ""
}
$1 == "result" {
    sys = $2; w = $3
    ips[sys, w] = val("img_s"); rss[sys, w] = val("rss_mib"); bat[sys, w] = val("batch")
    ms[sys, w] = val("median_ms")
    if (sys ~ /^pactcl:/) {
        if (!(sys in seen_pactcl)) { seen_pactcl[sys] = 1; pactcl[++np] = sys }
        if (!((sys, w) in wseen)) { wseen[sys, w] = 1; works[sys, ++nw[sys]] = w }
    } else if (!(sys in seen_peer)) { seen_peer[sys] = 1; peer[++npeer] = sys }
}
$1 == "skip" || $1 == "error" {
    sys = $2; w = $3; msg = $0; sub(/^[a-z]+ [^ ]+ [^ ]+ /, "", msg)
    note[sys, w] = ($1 == "skip" ? "skipped " : "failed: ") msg
    if (!(sys in seen_peer) && sys !~ /^pactcl:/) { seen_peer[sys] = 1; peer[++npeer] = sys }
}
END {
    fmt = "%-9s %5s %12s  %-7s %12s %8s %11s %11s\n"
    printf "\n" fmt, "workload", "batch", "pactcl img/s", "peer", "peer img/s", "ratio",
        "pactcl MiB", "peer MiB"
    for (p = 1; p <= np; p++) {
        s = pactcl[p]
        printf "(%s)\n", s
        for (i = 1; i <= nw[s]; i++) {
            w = works[s, i]
            for (q = 1; q <= npeer; q++) {
                o = peer[q]
                if ((o, w) in ips)
                    printf fmt, w, bat[s, w], ips[s, w], o, ips[o, w],
                        sprintf("%.2fx", ips[s, w] / ips[o, w]), rss[s, w], rss[o, w]
                else if ((o, w) in note)
                    printf "%-9s %5s %12s  %-7s %s\n", w, bat[s, w], ips[s, w], o, note[o, w]
                else if ((o, "all") in note)
                    printf "%-9s %5s %12s  %-7s %s\n", w, bat[s, w], ips[s, w], o, note[o, "all"]
            }
        }
        for (q = 1; q <= npeer; q++) {
            o = peer[q]
            if ((s, "I-int8") in ips && (o, "I-fp32") in ips)
                printf "I-int8 (pactcl) / I-fp32 (%s): %.2fx\n", o, ips[s, "I-int8"] / ips[o, "I-fp32"]
        }
        if ((s, "T-fp32") in ms && (s, "T-qat") in ms)
            printf "QAT cost (pactcl): T-qat step = %.2fx the T-fp32 step\n", ms[s, "T-qat"] / ms[s, "T-fp32"]
    }
}' $files
