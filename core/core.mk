# libpactcl: public API, plugin loader, dispatch, tensors.
lib_LTLIBRARIES += libpactcl.la
pkginclude_HEADERS += core/pactcl.h core/pactcl-ops.h core/pactcl-plugin.h
noinst_HEADERS += core/internal.h

libpactcl_la_SOURCES = \
	core/status.c \
	core/log.c \
	core/registry.c \
	core/device_select.c \
	core/dispatch.c \
	core/op_check.c \
	core/tensor.c
libpactcl_la_CPPFLAGS = $(AM_CPPFLAGS) -DPACTCL_PLUGIN_DIR='"$(pkglibdir)"'
libpactcl_la_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS)
libpactcl_la_LIBADD = $(PTHREAD_LIBS)
libpactcl_la_LDFLAGS = -version-info $(PACTCL_LT_VERSION) -export-symbols-regex '^pactcl_[a-z]'
