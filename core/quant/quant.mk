# The exported int8 model: export from QAT, load for int8 inference.
libpactcl_la_SOURCES += \
	core/quant/int8_export.c \
	core/quant/int8_model.c
noinst_HEADERS += core/quant/int8_model.h
libpactcl_la_CFLAGS += $(ZLIB_CFLAGS)
libpactcl_la_LIBADD += $(ZLIB_LIBS)
EXTRA_DIST += docs/FORMATS.md
