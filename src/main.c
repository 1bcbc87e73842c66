/* The ringwire binary: CLI -> config -> server with the built-in routes. */
#include <stdio.h>
#include <stdlib.h>

#include "app/builtin.h"
#include "core/cli.h"
#include "core/log.h"
#include "ringwire/ringwire.h"

int main(int argc, char **argv)
{
    rw_config cfg;
    int rc = rw_cli_parse(argc, argv, &cfg, stderr);
    if (rc == RW_CLI_EXIT)
        return 0;
    if (rc != RW_CLI_OK)
        return 2;
    if (cfg.n_listen == 0 && rw_config_add_listen(&cfg, RW_CLI_DEFAULT_LISTEN) < 0) {
        fprintf(stderr, "ringwire: cannot use the default address %s\n", RW_CLI_DEFAULT_LISTEN);
        return 2;
    }
    rw_log_level = cfg.log_level;

    rw_server *s = rw_server_new(&cfg);
    if (!s) {
        rw_error("out of memory creating the server");
        return 1;
    }
    if (rw_app_add_builtin_routes(s, &cfg) < 0) {
        rw_server_free(s);
        return 1;
    }
    rc = rw_server_run(s, true);
    rw_server_free(s);
    return rc == 0 ? 0 : 1;
}
