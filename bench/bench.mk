# bench/: benchmarks, never tests (shared/BENCH.md: a speed only counts as a
# ratio to a peer measured in the same run).  `make bench` runs every workload:
# each one adds its own bench-* target as a prerequisite of `bench`.
#
# op_bench and model_bench are built by `make`, so -Werror builds keep them
# compiling, but they are not installed.
noinst_PROGRAMS += bench/op_bench bench/model_bench
bench_op_bench_SOURCES = bench/op_bench.c bench/bench_util.c bench/bench_util.h
bench_op_bench_LDADD = libpactcl.la

# model_bench --profile loads the timing plugin from the build tree by default.
bench_model_bench_SOURCES = bench/model_bench.c bench/bench_util.c bench/bench_util.h bench/profile_plugin.h
bench_model_bench_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPACTCL_BENCH_PROFILE_PLUGIN='"$(abs_top_builddir)/bench/.libs/pactcl-bench-profile.so"'
bench_model_bench_LDADD = libpactcl.la

# The timing override plugin of model_bench --profile.  -rpath makes libtool
# build a shared module although it is never installed; it lives in
# bench/.libs, which no plugin search path names, so only --profile loads it.
noinst_LTLIBRARIES += bench/pactcl-bench-profile.la
bench_pactcl_bench_profile_la_SOURCES = bench/profile_plugin.c bench/profile_plugin.h
bench_pactcl_bench_profile_la_LDFLAGS = -module -avoid-version -rpath /nowhere \
	-export-symbols-regex '^pactcl_(plugin|bench_profile)$$'

EXTRA_DIST += bench/README.md bench/compare.sh bench/peers/run_peer.sh \
	bench/peers/peer_common.py bench/peers/torch_bench.py bench/peers/paddle_bench.py

# The build tree's plugins; with PACTCL_PLUGIN_PATH set, the benchmarks skip
# the installed plugin dir, so an installed copy never gets measured by mistake.
PACTCL_BENCH_ENV = \
	PACTCL_PLUGIN_PATH=$(abs_top_builddir)/backends/cpu/.libs:$(abs_top_builddir)/backends/opencl/.libs \
	POCL_CACHE_DIR=$(abs_top_builddir)/tests/pocl-cache

# Extra flags, e.g. make bench-ops OP_BENCH_FLAGS='--device cpu --iters 20'
OP_BENCH_FLAGS =

bench-ops: bench/op_bench$(EXEEXT) $(pkglib_LTLIBRARIES)
	@$(MKDIR_P) $(abs_top_builddir)/tests/pocl-cache
	$(PACTCL_BENCH_ENV) ./bench/op_bench$(EXEEXT) $(OP_BENCH_FLAGS)

# The model workloads and their peers, one after the other with the same
# thread count (BENCH_THREADS, default: the CPUs this process may use) and
# the same OpenMP wait policy, then the table of ratios.  Flags that change
# the workload (batch, size, classes, iterations) go in MODEL_BENCH_FLAGS and
# reach the peers too.
#   make bench-model MODEL_BENCH_FLAGS='--iters 20' BENCH_THREADS=2
# BENCH_WAIT_POLICY is OMP_WAIT_POLICY for every system: passive by default,
# because with the OpenMP runtime's default spinning a team whose threads
# share their cores with other work (a shared machine, a data loader) waits a
# scheduler slice at every region: on a 2-core machine with one other busy
# thread, a 64x64 training step took 1.8 s instead of 0.11 s (README.md).
# BENCH_WAIT_POLICY= (empty) leaves the runtimes' defaults.
MODEL_BENCH_FLAGS =
BENCH_THREADS =
BENCH_WAIT_POLICY = passive
PEER_TORCH = /usr/bin/python3
PEER_PADDLE = python3
BENCH_OUT = $(abs_top_builddir)/bench/results

bench-model: bench/model_bench$(EXEEXT) $(pkglib_LTLIBRARIES)
	@$(MKDIR_P) $(abs_top_builddir)/tests/pocl-cache $(BENCH_OUT)
	@threads='$(BENCH_THREADS)'; \
	test -n "$$threads" || threads=`nproc 2>/dev/null || echo 1`; \
	if test -n '$(BENCH_WAIT_POLICY)'; then \
		OMP_WAIT_POLICY='$(BENCH_WAIT_POLICY)'; export OMP_WAIT_POLICY; \
	fi; \
	echo "bench-model: $$threads threads for pactcl and every peer," \
		"OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-(runtime default)}"; \
	OMP_NUM_THREADS=$$threads $(PACTCL_BENCH_ENV) ./bench/model_bench$(EXEEXT) \
		$(MODEL_BENCH_FLAGS) | tee $(BENCH_OUT)/pactcl.txt; \
	$(srcdir)/bench/peers/run_peer.sh torch '$(PEER_TORCH)' $(srcdir)/bench/peers/torch_bench.py \
		$$threads $(MODEL_BENCH_FLAGS) | tee $(BENCH_OUT)/torch.txt; \
	$(srcdir)/bench/peers/run_peer.sh paddle '$(PEER_PADDLE)' \
		$(srcdir)/bench/peers/paddle_bench.py $$threads $(MODEL_BENCH_FLAGS) \
		| tee $(BENCH_OUT)/paddle.txt; \
	$(SHELL) $(srcdir)/bench/compare.sh $(BENCH_OUT)/pactcl.txt $(BENCH_OUT)/torch.txt \
		$(BENCH_OUT)/paddle.txt

# Per-op time shares of a training step (T-fp32 and T-qat), at the benchmark's
# shapes and at the demo's 32x32 Fashion-MNIST crop.
bench-profile: bench/model_bench$(EXEEXT) bench/pactcl-bench-profile.la $(pkglib_LTLIBRARIES)
	@if test -n '$(BENCH_WAIT_POLICY)'; then \
		OMP_WAIT_POLICY='$(BENCH_WAIT_POLICY)'; export OMP_WAIT_POLICY; \
	fi; \
	$(PACTCL_BENCH_ENV) ./bench/model_bench$(EXEEXT) --profile --device cpu \
		$(MODEL_BENCH_FLAGS) && \
	$(PACTCL_BENCH_ENV) ./bench/model_bench$(EXEEXT) --profile --device cpu --size 32 \
		--classes 10 --iters 20

bench: bench-ops bench-model

.PHONY: bench bench-ops bench-model bench-profile
