# The pactcl command.
bin_PROGRAMS += tools/pactcl
noinst_HEADERS += tools/cli.h
tools_pactcl_SOURCES = \
	tools/main.c \
	tools/cli_parse.c \
	tools/cmd_devices.c \
	tools/cmd_train.c \
	tools/cmd_predict.c \
	tools/cmd_export.c \
	tools/cmd_eval.c \
	tools/cmd_dataset.c
tools_pactcl_LDADD = libpactcl.la

# Plugin directories of the build tree, for running pactcl before `make install`.
PACTCL_BUILD_PLUGIN_PATH = $(abs_top_builddir)/backends/cpu/.libs:$(abs_top_builddir)/backends/opencl/.libs

.PHONY: run-devices
run-devices: tools/pactcl
	PACTCL_PLUGIN_PATH='$(PACTCL_BUILD_PLUGIN_PATH)' POCL_CACHE_DIR='$(abs_top_builddir)/tests/pocl-cache' \
	  $(builddir)/tools/pactcl devices

# The main job on Fashion-MNIST (scripts/demo.sh); PACTCL_DEVICE picks the device.
.PHONY: demo
demo: tools/pactcl $(pkglib_LTLIBRARIES)
	PACTCL='$(abs_builddir)/tools/pactcl' PACTCL_PLUGIN_PATH='$(PACTCL_BUILD_PLUGIN_PATH)' \
	  POCL_CACHE_DIR='$(abs_top_builddir)/tests/pocl-cache' bash $(srcdir)/scripts/demo.sh
