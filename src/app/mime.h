/* File extension -> Content-Type for the static file handler. */
#ifndef RW_APP_MIME_H
#define RW_APP_MIME_H

#include <stddef.h>

#include "ringwire/ringwire.h"

#define RW_MIME_DEFAULT "application/octet-stream"

/* Content-Type for a file name (only the part after the last '/' and '.'
 * is looked at, case-insensitively). Text types carry "; charset=utf-8".
 * Never fails: unknown extensions get RW_MIME_DEFAULT. The result is static. */
rw_str rw_mime_for_path(const char *path, size_t n);

#endif
