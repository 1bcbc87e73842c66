/* Command-line parsing for the ringwire binary: long options only, both
 * "--flag VALUE" and "--flag=VALUE". Every error is one line on err. */
#ifndef RW_CORE_CLI_H
#define RW_CORE_CLI_H

#include <stdio.h>

#include "ringwire/ringwire.h"

enum {
    RW_CLI_OK = 0,    /* run the server */
    RW_CLI_EXIT = 1,  /* --help / --version printed: exit 0 */
    RW_CLI_ERROR = 2, /* one line written to err: exit 2 */
};

/* Starts from rw_config_defaults(); does not add the default listen address
 * (the caller does when cfg->n_listen == 0). Strings in cfg point into argv. */
int rw_cli_parse(int argc, char **argv, rw_config *cfg, FILE *err);

/* The --help text: every flag with its default. */
void rw_cli_usage(FILE *out);

/* Used when no --listen is given. */
#define RW_CLI_DEFAULT_LISTEN "0.0.0.0:8080"

#endif
