# The op test suite, run by `make check` (the test environment is set in Makefile.am).
# test_ops: every op on every device against the naive references in
# naive_ref.c, by central differences, and on hand-worked values.
check_PROGRAMS += tests/test_ops
TESTS += tests/test_ops
noinst_HEADERS += tests/naive_ref.h tests/op_harness.h tests/synth_data.h
tests_test_ops_SOURCES = \
	tests/test_ops.c \
	tests/test_ops_conv.c \
	tests/test_ops_norm.c \
	tests/test_ops_elementwise.c \
	tests/test_ops_linear.c \
	tests/test_ops_quant.c \
	tests/test_ops_int8.c \
	tests/op_harness.c \
	tests/naive_ref.c
tests_test_ops_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_ops_LDADD = libpactcl.la $(CHECK_LIBS) -lm

clean-local: clean-pocl-cache
clean-pocl-cache:
	-rm -rf tests/pocl-cache
.PHONY: clean-pocl-cache
