/* The routes the ringwire binary serves out of the box. */
#ifndef RW_APP_BUILTIN_H
#define RW_APP_BUILTIN_H

#include "ringwire/ringwire.h"

/* GET /plaintext, GET /json (TechEmpower rules), GET /stream (chunked
 * streaming demo), and, when cfg->root is set, static files under it for
 * every other GET/HEAD path. Returns 0 or -1 (with a logged reason). */
int rw_app_add_builtin_routes(rw_server *s, const rw_config *cfg);

#endif
