# test_model: MobileNetV3 structure, initialisation, weight loading, and
# logits against torchvision (fixture made by fixtures/model/make_mnv3_logits.py).
check_PROGRAMS += tests/test_model
TESTS += tests/test_model
tests_test_model_SOURCES = tests/test_model.c
tests_test_model_CPPFLAGS = $(AM_CPPFLAGS) -DPACTCL_TEST_FIXTURES='"$(abs_top_srcdir)/tests/fixtures"'
tests_test_model_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_model_LDADD = libpactcl.la $(CHECK_LIBS) -lm
EXTRA_DIST += tests/fixtures/model/make_mnv3_logits.py tests/fixtures/model/mnv3_logits.txt

# test_train: log formats, learning, resume, device agreement.
check_PROGRAMS += tests/test_train
TESTS += tests/test_train
tests_test_train_SOURCES = tests/test_train.c tests/synth_data.c
tests_test_train_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_train_LDADD = libpactcl.la $(CHECK_LIBS) -lm

# test_int8_model: export -> int8 inference against the fake-quant simulation.
check_PROGRAMS += tests/test_int8_model
TESTS += tests/test_int8_model
tests_test_int8_model_SOURCES = tests/test_int8_model.c tests/synth_data.c
tests_test_int8_model_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_int8_model_LDADD = libpactcl.la $(CHECK_LIBS) -lm

# The demo in miniature, on every device (needs dataset-fashion-mnist).
TESTS += tests/demo_mini.sh
EXTRA_DIST += tests/demo_mini.sh scripts/demo.sh

# Faults during training: signals, kill -9, unwritable dir, full disk, NaN.
TESTS += tests/faults.sh
EXTRA_DIST += tests/faults.sh

# OpenCL faults (launch refused, device lost, out of memory) provoked in the
# real driver by an LD_PRELOAD library between pactcl and the ICD loader.
if BUILD_OPENCL
check_LTLIBRARIES += tests/cl_fault_inject.la
tests_cl_fault_inject_la_SOURCES = tests/cl_fault_inject.c
tests_cl_fault_inject_la_CFLAGS = $(AM_CFLAGS) $(OPENCL_CFLAGS)
tests_cl_fault_inject_la_LDFLAGS = -module -avoid-version -rpath /nowhere
tests_cl_fault_inject_la_LIBADD = -ldl
TESTS += tests/ocl_faults.sh
endif
EXTRA_DIST += tests/ocl_faults.sh
