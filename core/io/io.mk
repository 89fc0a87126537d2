# core/io: state dicts and their pickle files (.pdparams, .pdopt).
libpactcl_la_SOURCES += \
	core/io/state_dict.c \
	core/io/pickle_reader.c \
	core/io/pickle_writer.c \
	core/io/atomic_file.c
noinst_HEADERS += \
	core/io/state_dict.h \
	core/io/state_dict_internal.h \
	core/io/pickle_ops.h \
	core/io/atomic_file.h

# Fixtures made by tests/fixtures/pdparams/make_fixtures.py (see there).
PDPARAMS_FIXTURES = \
	tests/fixtures/pdparams/model_p2.pdparams \
	tests/fixtures/pdparams/model_p4.pdparams \
	tests/fixtures/pdparams/model_p4_names.pdparams \
	tests/fixtures/pdparams/model_np1_p2.pdparams \
	tests/fixtures/pdparams/model_np1_p4.pdparams \
	tests/fixtures/pdparams/model_py2.pdparams \
	tests/fixtures/pdparams/opt_p2.pdopt \
	tests/fixtures/pdparams/opt_p4.pdopt \
	tests/fixtures/pdparams/misc_p2.pdparams \
	tests/fixtures/pdparams/misc_p4.pdparams \
	tests/fixtures/pdparams/big_p4.pdparams \
	tests/fixtures/pdparams/evil_os_system.pdparams \
	tests/fixtures/pdparams/evil_eval.pdparams \
	tests/fixtures/pdparams/bad_size.pdparams \
	tests/fixtures/pdparams/big_endian.pdparams

check_PROGRAMS += tests/test_pdparams
# The second runs the first to write files and checks them with Python's
# pickle (and paddle.load when installed); it skips where numpy is missing.
TESTS += tests/test_pdparams tests/pdparams_python_roundtrip.sh
tests_test_pdparams_SOURCES = tests/test_pdparams.c
tests_test_pdparams_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core/io \
	-DPDPARAMS_FIXTURES='"$(abs_top_srcdir)/tests/fixtures/pdparams"'
tests_test_pdparams_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_pdparams_LDADD = libpactcl.la $(CHECK_LIBS)
EXTRA_DIST += \
	tests/pdparams_python_roundtrip.sh \
	tests/fixtures/pdparams/make_fixtures.py \
	$(PDPARAMS_FIXTURES)
