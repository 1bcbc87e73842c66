#include "app/mime.h"

#include "core/str.h"

typedef struct mime_entry {
    const char *ext; /* lower case, without the dot */
    rw_str type;
} mime_entry;

static const mime_entry mime_table[] = {
    { "html", RW_STR("text/html; charset=utf-8") },
    { "htm", RW_STR("text/html; charset=utf-8") },
    { "css", RW_STR("text/css; charset=utf-8") },
    { "js", RW_STR("text/javascript; charset=utf-8") },
    { "mjs", RW_STR("text/javascript; charset=utf-8") },
    { "json", RW_STR("application/json") },
    { "map", RW_STR("application/json") },
    { "txt", RW_STR("text/plain; charset=utf-8") },
    { "xml", RW_STR("application/xml") },
    { "svg", RW_STR("image/svg+xml") },
    { "png", RW_STR("image/png") },
    { "jpg", RW_STR("image/jpeg") },
    { "jpeg", RW_STR("image/jpeg") },
    { "gif", RW_STR("image/gif") },
    { "webp", RW_STR("image/webp") },
    { "ico", RW_STR("image/x-icon") },
    { "wasm", RW_STR("application/wasm") },
    { "woff", RW_STR("font/woff") },
    { "woff2", RW_STR("font/woff2") },
    { "pdf", RW_STR("application/pdf") },
    { "mp4", RW_STR("video/mp4") },
    { "webm", RW_STR("video/webm") },
};

/* Longest extension in the table, so longer ones are rejected early. */
#define RW_MIME_EXT_MAX 5

rw_str rw_mime_for_path(const char *path, size_t n)
{
    size_t dot = n;
    for (size_t i = n; i > 0; i--) {
        char c = path[i - 1];
        if (c == '/')
            break;
        if (c == '.') {
            dot = i - 1;
            break;
        }
    }
    size_t elen = dot < n ? n - dot - 1 : 0;
    if (elen == 0 || elen > RW_MIME_EXT_MAX)
        return RW_STR(RW_MIME_DEFAULT);
    rw_str ext = { path + dot + 1, elen };
    for (size_t i = 0; i < sizeof mime_table / sizeof mime_table[0]; i++)
        if (rw_str_eq_lit_nocase(ext, mime_table[i].ext, strlen(mime_table[i].ext)))
            return mime_table[i].type;
    return RW_STR(RW_MIME_DEFAULT);
}
