# pactcl-cpu: the CPU backend plugin (C11, OpenMP, CBLAS).  It is dlopen()ed by
# libpactcl and gets every service through struct pactcl_host, so it does not
# link libpactcl; it exports nothing but the pactcl_plugin descriptor.
pkglib_LTLIBRARIES += backends/cpu/pactcl-cpu.la
noinst_HEADERS += backends/cpu/cpu_ops.h

backends_cpu_pactcl_cpu_la_SOURCES = \
	backends/cpu/cpu_plugin.c \
	backends/cpu/cpu_gemm.c \
	backends/cpu/cpu_conv.c \
	backends/cpu/cpu_depthwise.c \
	backends/cpu/cpu_batchnorm.c \
	backends/cpu/cpu_activation.c \
	backends/cpu/cpu_pool_se.c \
	backends/cpu/cpu_linear.c \
	backends/cpu/cpu_dropout.c \
	backends/cpu/cpu_loss.c \
	backends/cpu/cpu_quant.c \
	backends/cpu/cpu_sgd.c \
	backends/cpu/cpu_int8.c
backends_cpu_pactcl_cpu_la_CPPFLAGS = $(AM_CPPFLAGS) $(CBLAS_CFLAGS)
# -ffp-contract=off: no fused multiply-adds where the source has none, so that
# the fake-quant and optimizer formulas round exactly as Paddle's do even when
# CFLAGS target an ISA with FMA.  -fno-trapping-math: lets the compiler turn
# the clamps and selects of the elementwise loops into vector blends (it
# changes no value, only whether FP exception flags may be raised).
backends_cpu_pactcl_cpu_la_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS) -ffp-contract=off \
	-fno-trapping-math
# -z nodelete: the OpenMP runtime keeps its idle worker threads alive, and
# unloading it under them when a context dlclose()s the plugin crashes the
# process; a plugin that stays mapped keeps the runtime mapped too.
backends_cpu_pactcl_cpu_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^pactcl_plugin$$' -Wl,-z,nodelete $(OPENMP_CFLAGS)
backends_cpu_pactcl_cpu_la_LIBADD = $(CBLAS_LIBS)
