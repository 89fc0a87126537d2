# Dataset conversion (Fashion-MNIST IDX -> ImageFolder of PNGs) and the SVG
# chart of a training run, with their tests.
libpactcl_la_SOURCES += \
	core/data/idx.c \
	core/data/png_write.c \
	core/data/fashion_mnist.c \
	core/train/run_plot.c
libpactcl_la_CFLAGS += $(ZLIB_CFLAGS)
libpactcl_la_LIBADD += $(ZLIB_LIBS)
noinst_HEADERS += \
	core/data/idx.h \
	core/data/png_write.h \
	core/data/fashion_mnist.h \
	core/train/run_plot.h

# The IDX files are made by the test itself with zlib, good and broken.
check_PROGRAMS += tests/test_dataset_tools
TESTS += tests/test_dataset_tools
tests_test_dataset_tools_SOURCES = tests/test_dataset_tools.c
tests_test_dataset_tools_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(ZLIB_CFLAGS)
tests_test_dataset_tools_LDADD = libpactcl.la $(CHECK_LIBS) $(ZLIB_LIBS) -lm
