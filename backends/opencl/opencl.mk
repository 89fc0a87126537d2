# pactcl-opencl: the OpenCL backend plugin (backends/opencl) and its kernels
# (kernels/*.cl, OpenCL C 1.2), embedded into the plugin at build time.

# common.cl goes in front of every program; the others are one program each.
OCL_KERNEL_FILES = \
	kernels/common.cl \
	kernels/reduce.cl \
	kernels/conv.cl \
	kernels/depthwise_conv.cl \
	kernels/batchnorm.cl \
	kernels/activation.cl \
	kernels/hardswish.cl \
	kernels/pool_se.cl \
	kernels/dropout.cl \
	kernels/loss.cl \
	kernels/pact.cl \
	kernels/fake_quant.cl \
	kernels/sgd.cl \
	kernels/int8.cl

# Outside the conditional: a tarball made in a tree configured with
# --disable-opencl must still carry the kernels.
EXTRA_DIST += $(OCL_KERNEL_FILES)

if BUILD_OPENCL
pkglib_LTLIBRARIES += backends/opencl/pactcl-opencl.la

backends_opencl_pactcl_opencl_la_SOURCES = \
	backends/opencl/ocl_internal.h \
	backends/opencl/ocl_plugin.c \
	backends/opencl/ocl_ops.c \
	backends/opencl/ocl_device.c \
	backends/opencl/ocl_program.c \
	backends/opencl/ocl_launch.c \
	backends/opencl/ocl_errors.c \
	backends/opencl/ocl_blas.c \
	backends/opencl/ocl_reduce.c \
	backends/opencl/ocl_conv.c \
	backends/opencl/ocl_depthwise.c \
	backends/opencl/ocl_linear.c \
	backends/opencl/ocl_elementwise.c \
	backends/opencl/ocl_batchnorm.c \
	backends/opencl/ocl_loss.c \
	backends/opencl/ocl_quant.c \
	backends/opencl/ocl_sgd.c \
	backends/opencl/ocl_int8.c
nodist_backends_opencl_pactcl_opencl_la_SOURCES = backends/opencl/ocl_kernel_sources.c
backends_opencl_pactcl_opencl_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/backends/opencl \
	$(OPENCL_CFLAGS) $(CLBLAST_CFLAGS)
backends_opencl_pactcl_opencl_la_CFLAGS = $(AM_CFLAGS)
# Services come through struct pactcl_host at init: no link to libpactcl.
backends_opencl_pactcl_opencl_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^pactcl_plugin$$'
backends_opencl_pactcl_opencl_la_LIBADD = $(CLBLAST_LIBS) $(OPENCL_LIBS)

BUILT_SOURCES += backends/opencl/ocl_kernel_sources.c
CLEANFILES += backends/opencl/ocl_kernel_sources.c

# Each kernel file becomes a NUL-terminated byte array (xxd -i) and an entry
# of pactcl_ocl_sources[], named after the file without ".cl".  Sources are
# read from $(srcdir) so that VPATH builds (make distcheck) work.
backends/opencl/ocl_kernel_sources.c: $(OCL_KERNEL_FILES) $(srcdir)/backends/opencl/opencl.mk
	$(AM_V_GEN)$(MKDIR_P) backends/opencl && { \
	  echo '/* Generated from the kernels directory by backends/opencl/opencl.mk: do not edit. */'; \
	  echo '#include "ocl_internal.h"'; \
	  for f in $(OCL_KERNEL_FILES); do \
	    n=`basename $$f .cl`; \
	    echo "static const unsigned char src_$$n[] = {"; \
	    $(XXD) -i < $(srcdir)/$$f || exit 1; \
	    echo ', 0x00 };'; \
	  done; \
	  echo 'const struct pactcl_ocl_source pactcl_ocl_sources[] = {'; \
	  for f in $(OCL_KERNEL_FILES); do \
	    n=`basename $$f .cl`; \
	    echo "    { \"$$n\", src_$$n, sizeof src_$$n - 1 },"; \
	  done; \
	  echo '    { 0, 0, 0 }'; \
	  echo '};'; \
	} > $@-t && mv $@-t $@
endif
