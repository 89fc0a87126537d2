# fuzz/: libFuzzer targets for everything pactcl reads from strangers, their
# seed corpora, and the sanitizer/valgrind support files (fuzz/README.md).
#
#   CC=clang ./configure --enable-fuzzing [--disable-opencl]
#   make fuzz                      each target for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS=fuzz/fuzz_pickle
#   make check-valgrind            the CPU test suite under memcheck
#
# The targets link a second, instrumented copy of the library
# (fuzz/libpactcl-fuzz.la: coverage, ASan, UBSan; a static convenience
# library, so the sanitizers never meet a shared libpactcl); the normal
# targets keep the configured flags.

FUZZ_ALL_TARGETS = \
	fuzz/fuzz_image \
	fuzz/fuzz_pickle \
	fuzz/fuzz_checkpoint \
	fuzz/fuzz_int8_model \
	fuzz/fuzz_int8_params \
	fuzz/fuzz_cli

# Sources, seeds and suppressions travel in the tarball whatever the
# configuration (the programs' sources are listed below, inside the
# conditional, which automake distributes anyway).
EXTRA_DIST += fuzz/README.md fuzz/corpus fuzz/valgrind.supp \
	fuzz/check-valgrind.sh fuzz/fuzz_cli.dict fuzz/fuzz_pickle.dict fuzz/fuzz_int8_model.dict

if ENABLE_FUZZING
noinst_LTLIBRARIES += fuzz/libpactcl-fuzz.la fuzz/pactcl-fuzz-fake.la
noinst_PROGRAMS += $(FUZZ_ALL_TARGETS)
noinst_HEADERS += fuzz/fuzz_util.h

# Every source of libpactcl, whatever the .mk files add to it.
fuzz_libpactcl_fuzz_la_SOURCES = $(libpactcl_la_SOURCES)
fuzz_libpactcl_fuzz_la_CPPFLAGS = $(libpactcl_la_CPPFLAGS)
fuzz_libpactcl_fuzz_la_CFLAGS = $(libpactcl_la_CFLAGS) $(FUZZ_CFLAGS)
fuzz_libpactcl_fuzz_la_LIBADD = $(libpactcl_la_LIBADD)

# The test suite's fake backend (host memory, see fuzz/fuzz_util.h), as a
# plugin file of this directory; uninstrumented, it only memcpy()s, and ASan
# intercepts that.
fuzz_pactcl_fuzz_fake_la_SOURCES = tests/plugins/fake_backend.c
fuzz_pactcl_fuzz_fake_la_LDFLAGS = -module -avoid-version -rpath /nowhere \
	-export-symbols-regex '^pactcl_plugin$$'

FUZZ_TARGET_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core/io \
	-DFUZZ_FAKE_PLUGIN='"$(abs_top_builddir)/fuzz/.libs/pactcl-fuzz-fake.so"'
FUZZ_TARGET_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(ZLIB_CFLAGS)
FUZZ_TARGET_LDADD = fuzz/libpactcl-fuzz.la

fuzz_fuzz_image_SOURCES = fuzz/fuzz_image.c
fuzz_fuzz_image_CPPFLAGS = $(FUZZ_TARGET_CPPFLAGS)
fuzz_fuzz_image_CFLAGS = $(FUZZ_TARGET_CFLAGS)
fuzz_fuzz_image_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_fuzz_image_LDADD = $(FUZZ_TARGET_LDADD)

fuzz_fuzz_pickle_SOURCES = fuzz/fuzz_pickle.c
fuzz_fuzz_pickle_CPPFLAGS = $(FUZZ_TARGET_CPPFLAGS)
fuzz_fuzz_pickle_CFLAGS = $(FUZZ_TARGET_CFLAGS)
fuzz_fuzz_pickle_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_fuzz_pickle_LDADD = $(FUZZ_TARGET_LDADD)

fuzz_fuzz_checkpoint_SOURCES = fuzz/fuzz_checkpoint.c
fuzz_fuzz_checkpoint_CPPFLAGS = $(FUZZ_TARGET_CPPFLAGS)
fuzz_fuzz_checkpoint_CFLAGS = $(FUZZ_TARGET_CFLAGS)
fuzz_fuzz_checkpoint_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_fuzz_checkpoint_LDADD = $(FUZZ_TARGET_LDADD)

fuzz_fuzz_int8_model_SOURCES = fuzz/fuzz_int8_model.c
fuzz_fuzz_int8_model_CPPFLAGS = $(FUZZ_TARGET_CPPFLAGS)
fuzz_fuzz_int8_model_CFLAGS = $(FUZZ_TARGET_CFLAGS)
fuzz_fuzz_int8_model_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_fuzz_int8_model_LDADD = $(FUZZ_TARGET_LDADD) $(ZLIB_LIBS)

fuzz_fuzz_int8_params_SOURCES = fuzz/fuzz_int8_model.c
fuzz_fuzz_int8_params_CPPFLAGS = $(FUZZ_TARGET_CPPFLAGS) -DFUZZ_INT8_PARAMS
fuzz_fuzz_int8_params_CFLAGS = $(FUZZ_TARGET_CFLAGS)
fuzz_fuzz_int8_params_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_fuzz_int8_params_LDADD = $(FUZZ_TARGET_LDADD) $(ZLIB_LIBS)

# The command line: main.c (renamed main, fuzz/fuzz_cli_main.c) and every
# subcommand.  A command added to tools/main.c must be added here too (the
# link fails until it is).  --wrap sends the calls that would act instead of
# parse to stubs in fuzz_cli.c.
fuzz_fuzz_cli_SOURCES = \
	fuzz/fuzz_cli.c \
	fuzz/fuzz_cli_main.c \
	tools/cli_parse.c \
	tools/cmd_devices.c \
	tools/cmd_train.c \
	tools/cmd_predict.c \
	tools/cmd_export.c \
	tools/cmd_eval.c \
	tools/cmd_dataset.c
fuzz_fuzz_cli_CPPFLAGS = $(FUZZ_TARGET_CPPFLAGS) -I$(top_srcdir)/tools
fuzz_fuzz_cli_CFLAGS = $(FUZZ_TARGET_CFLAGS)
fuzz_fuzz_cli_LDFLAGS = $(FUZZ_LDFLAGS) -Wl,--wrap=cli_open_context -Wl,--wrap=mkdir \
	-Wl,--wrap=pactcl_fashion_mnist_convert
fuzz_fuzz_cli_LDADD = $(FUZZ_TARGET_LDADD)
endif

# ---- make check under --enable-sanitizers --------------------------------------
# Tests that measure memory (tests/faults.sh: peak RSS) skip that part when
# PACTCL_SANITIZERS is set: ASan's quarantine and shadow memory make RSS
# meaningless, and LeakSanitizer checks for leaks instead.
if ENABLE_SANITIZERS
AM_TESTS_ENVIRONMENT += PACTCL_SANITIZERS=1; export PACTCL_SANITIZERS;
endif

# ---- make fuzz -----------------------------------------------------------------
# Each target runs for FUZZ_SECONDS on a copy of its committed corpus
# (fuzz-work/<target>/corpus, so new inputs never land in the source tree);
# a crash, leak, timeout or sanitizer report fails the rule, and its input is
# left as fuzz-work/<target>/crash-* (commit it to fuzz/corpus/<target>/ as a
# regression seed once fixed).  FUZZ_FLAGS adds libFuzzer options.
FUZZ_SECONDS = 60
FUZZ_TARGETS = $(FUZZ_ALL_TARGETS)
FUZZ_FLAGS =
FUZZ_COMMON_FLAGS = -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

if ENABLE_FUZZING
fuzz: $(FUZZ_TARGETS) fuzz/pactcl-fuzz-fake.la
	@failed=; \
	for t in $(FUZZ_TARGETS); do \
	  name=`basename $$t`; \
	  work=fuzz-work/$$name; \
	  rm -rf $$work && $(MKDIR_P) $$work/corpus || exit 1; \
	  cp $(srcdir)/fuzz/corpus/$$name/* $$work/corpus/ 2>/dev/null; \
	  case $$name in \
	    fuzz_checkpoint|fuzz_int8_params) dict=fuzz_pickle.dict ;; \
	    *) dict=$$name.dict ;; \
	  esac; \
	  dict=$(abs_srcdir)/fuzz/$$dict; test -f $$dict && dict=-dict=$$dict || dict=; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS) s ($$work/log)"; \
	  if (cd $$work && ASAN_OPTIONS=detect_leaks=1:$$ASAN_OPTIONS \
	        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:$$UBSAN_OPTIONS \
	        $(abs_builddir)/$$t -max_total_time=$(FUZZ_SECONDS) $(FUZZ_COMMON_FLAGS) $$dict $(FUZZ_FLAGS) \
	        corpus > log 2>&1); then \
	    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' \
	      $$work/log | tr '\n' ' '; echo; \
	  else \
	    echo "fuzz: $$name FAILED:"; tail -n 60 $$work/log; failed="$$failed $$name"; \
	  fi; \
	done; \
	test -z "$$failed" || { echo "fuzz: failures:$$failed"; exit 1; }
else
fuzz:
	@echo "make fuzz: configure with CC=clang --enable-fuzzing first (fuzz/README.md)"; exit 1
endif

# Replays every committed corpus file once (no fuzzing): a quick regression
# check of the seeds and of the crash inputs fixed so far.
if ENABLE_FUZZING
fuzz-regress: $(FUZZ_TARGETS) fuzz/pactcl-fuzz-fake.la
	@for t in $(FUZZ_TARGETS); do \
	  name=`basename $$t`; \
	  $(abs_builddir)/$$t -runs=0 $(FUZZ_COMMON_FLAGS) $(srcdir)/fuzz/corpus/$$name \
	    > fuzz-work-$$name-regress.log 2>&1 || { cat fuzz-work-$$name-regress.log; exit 1; }; \
	  echo "fuzz-regress: $$name ok"; \
	done
else
fuzz-regress: fuzz
endif

clean-local: clean-fuzz-work
clean-fuzz-work:
	-rm -rf fuzz-work fuzz-work-*-regress.log

# ---- make check-valgrind -------------------------------------------------------
# The CPU test suite under memcheck (fuzz/check-valgrind.sh, suppressions in
# fuzz/valgrind.supp); independent of --enable-fuzzing.
if ENABLE_SANITIZERS
check-valgrind:
	@echo "make check-valgrind: not in an --enable-sanitizers build (ASan and memcheck exclude each other)"; exit 1
else
check-valgrind: $(check_PROGRAMS) $(check_LTLIBRARIES) $(pkglib_LTLIBRARIES)
	$(SHELL) $(srcdir)/fuzz/check-valgrind.sh '$(abs_top_builddir)' '$(abs_top_srcdir)'
endif

# The test programs the script runs: TESTS (check-valgrind.sh skips the .sh).
print-check-tests:
	@echo $(TESTS)

.PHONY: fuzz fuzz-regress clean-fuzz-work check-valgrind print-check-tests
