/*
 * fuzz_cli_main.c: tools/main.c as the fuzz_cli target links it: its main()
 * becomes pactcl_cli_main(), which fuzz_cli.c calls once per input (libFuzzer
 * owns the process's main).  Everything else is main.c unchanged.
 */
#include "config.h"

int pactcl_cli_main(int argc, char **argv);

#define main pactcl_cli_main
#include "../tools/main.c"
