# tests/plugins: plugin files for tests/test_plugins and tests/test_api, and
# those two test programs.
#
# The plugins are built as libtool modules in their own directory
# (tests/plugins/.libs), so the refused ones never sit next to the CPU backend:
#   pactcl-bad-abi.so     another ABI version
#   pactcl-bad-nosym.so   no pactcl_plugin symbol
#   pactcl-bad-init.so    init fails with a message
#   pactcl-bad-slot.so    a device without a required iface slot
#   pactcl-fake.so        a working two-device backend over host memory (ADD only)
#   fake-copy.so          the same plugin again under a name directory scans
#                         skip: the duplicate-name test loads it explicitly
#   test-overrides.so     prioritised ADD overrides for the fake backend,
#                         likewise loaded explicitly
# -rpath makes libtool build shared modules although they are never installed.
tests_plugins_ldflags = -module -avoid-version -rpath /nowhere
tests_plugins_exports = -export-symbols-regex '^pactcl_plugin$$'

check_LTLIBRARIES += \
	tests/plugins/pactcl-bad-abi.la \
	tests/plugins/pactcl-bad-nosym.la \
	tests/plugins/pactcl-bad-init.la \
	tests/plugins/pactcl-bad-slot.la \
	tests/plugins/pactcl-fake.la \
	tests/plugins/fake-copy.la \
	tests/plugins/test-overrides.la

tests_plugins_pactcl_bad_abi_la_SOURCES = tests/plugins/bad_abi.c
tests_plugins_pactcl_bad_abi_la_LDFLAGS = $(tests_plugins_ldflags) $(tests_plugins_exports)
tests_plugins_pactcl_bad_nosym_la_SOURCES = tests/plugins/bad_nosym.c
# Exports its misnamed descriptor, so that only the symbol lookup fails.
tests_plugins_pactcl_bad_nosym_la_LDFLAGS = $(tests_plugins_ldflags) \
	-export-symbols-regex '^pactcl_plugin_v1$$'
tests_plugins_pactcl_bad_init_la_SOURCES = tests/plugins/bad_init.c
tests_plugins_pactcl_bad_init_la_LDFLAGS = $(tests_plugins_ldflags) $(tests_plugins_exports)
tests_plugins_pactcl_bad_slot_la_SOURCES = tests/plugins/bad_slot.c
tests_plugins_pactcl_bad_slot_la_LDFLAGS = $(tests_plugins_ldflags) $(tests_plugins_exports)
tests_plugins_pactcl_fake_la_SOURCES = tests/plugins/fake_backend.c
tests_plugins_pactcl_fake_la_LDFLAGS = $(tests_plugins_ldflags) $(tests_plugins_exports)
tests_plugins_fake_copy_la_SOURCES = tests/plugins/fake_backend.c
tests_plugins_fake_copy_la_LDFLAGS = $(tests_plugins_ldflags) $(tests_plugins_exports)
tests_plugins_test_overrides_la_SOURCES = tests/plugins/overrides.c
tests_plugins_test_overrides_la_LDFLAGS = $(tests_plugins_ldflags) $(tests_plugins_exports)

check_PROGRAMS += tests/test_plugins tests/test_api
TESTS += tests/test_plugins tests/test_api

# Absolute build-tree paths: the tests set PACTCL_PLUGIN_PATH themselves.
tests_test_plugins_SOURCES = tests/test_plugins.c
tests_test_plugins_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPACTCL_TEST_CPU_PLUGIN_DIR='"$(abs_top_builddir)/backends/cpu/.libs"' \
	-DPACTCL_TEST_EXAMPLE_PLUGIN_DIR='"$(abs_top_builddir)/plugins/example/.libs"' \
	-DPACTCL_TEST_PLUGIN_DIR='"$(abs_top_builddir)/tests/plugins/.libs"'
tests_test_plugins_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_plugins_LDADD = libpactcl.la $(CHECK_LIBS)

tests_test_api_SOURCES = tests/test_api.c
tests_test_api_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPACTCL_TEST_PLUGIN_DIR='"$(abs_top_builddir)/tests/plugins/.libs"'
tests_test_api_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PTHREAD_CFLAGS)
tests_test_api_LDADD = libpactcl.la $(CHECK_LIBS) $(PTHREAD_LIBS)
