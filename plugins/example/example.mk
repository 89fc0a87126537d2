# plugins/example: a vendor plugin overriding hardswish_fwd on the CPU backend.
# Built for the tests only (tests/test_plugins loads it from PACTCL_PLUGIN_PATH);
# users build it out of tree with GNUmakefile.standalone, as README.md shows.
# -rpath makes libtool build a shared module although it is never installed;
# it does not link libpactcl: the host passes its services to init().
check_LTLIBRARIES += plugins/example/pactcl-example.la
plugins_example_pactcl_example_la_SOURCES = plugins/example/example_plugin.c
plugins_example_pactcl_example_la_LDFLAGS = -module -avoid-version -rpath /nowhere \
	-export-symbols-regex '^pactcl_plugin$$'
EXTRA_DIST += plugins/example/README.md plugins/example/GNUmakefile.standalone
