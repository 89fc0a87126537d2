# bench/: benchmarks, never tests (shared/BENCH.md: a speed only counts as a
# ratio to a peer measured in the same run).  `make bench` runs every workload:
# each one adds its own bench-* target as a prerequisite of `bench`.
#
# op_bench is built by `make`, so -Werror builds keep it compiling, but it is
# not installed.
noinst_PROGRAMS = bench/op_bench
bench_op_bench_SOURCES = bench/op_bench.c
bench_op_bench_LDADD = libpactcl.la
EXTRA_DIST += bench/README.md

# The build tree's plugins; with PACTCL_PLUGIN_PATH set, op_bench skips the
# installed plugin dir, so an installed copy never gets measured by mistake.
PACTCL_BENCH_ENV = \
	PACTCL_PLUGIN_PATH=$(abs_top_builddir)/backends/cpu/.libs:$(abs_top_builddir)/backends/opencl/.libs \
	POCL_CACHE_DIR=$(abs_top_builddir)/tests/pocl-cache

# Extra flags, e.g. make bench-ops OP_BENCH_FLAGS='--device cpu --iters 20'
OP_BENCH_FLAGS =

bench-ops: bench/op_bench$(EXEEXT) $(pkglib_LTLIBRARIES)
	@$(MKDIR_P) $(abs_top_builddir)/tests/pocl-cache
	$(PACTCL_BENCH_ENV) ./bench/op_bench$(EXEEXT) $(OP_BENCH_FLAGS)

bench: bench-ops

.PHONY: bench bench-ops
