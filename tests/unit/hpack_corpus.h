/* Test-only helpers for the hpack-test-case corpus (see tests/data/README.md):
 * find the copy CMake unpacked into the build tree, list story files, and a small JSON
 * reader for its format (objects, arrays, strings with escapes, numbers,
 * null, booleans). Shared by test_hpack_corpus.c and the nghttp2 interop
 * test. Not a general JSON library: documents are parsed in place. */
#ifndef RW_TEST_HPACK_CORPUS_H
#define RW_TEST_HPACK_CORPUS_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http2/hpack.h"

#ifndef RW_HPACK_UNPACKED
#define RW_HPACK_UNPACKED "build/test-data" /* CMake passes the real one */
#endif
#define CORPUS_ROOT "hpack-test-case"

/* ---- files ---- */

/* The directory holding CORPUS_ROOT (unpacked by CMake at configure time), or
 * NULL with a message when it is missing. */
static const char *corpus_dir(void)
{
    char probe[512];
    snprintf(probe, sizeof(probe), "%s/%s/raw-data", RW_HPACK_UNPACKED, CORPUS_ROOT);
    DIR *d = opendir(probe);
    if (!d) {
        fprintf(stderr, "corpus: %s missing (re-run cmake to unpack it)\n", probe);
        return NULL;
    }
    closedir(d);
    return RW_HPACK_UNPACKED;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = (size_t)n;
    }
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of dir (no dot files); *out is malloc'd, free each name. */
static size_t list_dir(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    size_t n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof(*names));
        }
        names[n++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    *out = names;
    return n;
}

/* ---- JSON ---- */
enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jnode {
    int type;
    char *s; /* J_STR: decoded bytes (in place); J_NUM: text */
    size_t n;
    char *key; /* member name when the parent is an object */
    size_t keyn;
    int first, next; /* children list, -1 terminated */
} jnode;

typedef struct jdoc {
    jnode *v;
    size_t count, cap;
    char *p, *end;
    int err;
} jdoc;

static void j_ws(jdoc *d)
{
    while (d->p < d->end && (*d->p == ' ' || *d->p == '\n' || *d->p == '\r' || *d->p == '\t'))
        d->p++;
}

static int j_new(jdoc *d, int type)
{
    if (d->count == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 1024;
        d->v = realloc(d->v, d->cap * sizeof(*d->v));
    }
    d->v[d->count] = (jnode){ type, NULL, 0, NULL, 0, -1, -1 };
    return (int)d->count++;
}

static void j_utf8(char **o, uint32_t c)
{
    char *w = *o;
    if (c < 0x80) {
        *w++ = (char)c;
    } else if (c < 0x800) {
        *w++ = (char)(0xc0 | (c >> 6));
        *w++ = (char)(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        *w++ = (char)(0xe0 | (c >> 12));
        *w++ = (char)(0x80 | ((c >> 6) & 0x3f));
        *w++ = (char)(0x80 | (c & 0x3f));
    } else {
        *w++ = (char)(0xf0 | (c >> 18));
        *w++ = (char)(0x80 | ((c >> 12) & 0x3f));
        *w++ = (char)(0x80 | ((c >> 6) & 0x3f));
        *w++ = (char)(0x80 | (c & 0x3f));
    }
    *o = w;
}

static int j_hex4(jdoc *d, uint32_t *c)
{
    if (d->end - d->p < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char h = *d->p++;
        v <<= 4;
        if (h >= '0' && h <= '9')
            v |= (uint32_t)(h - '0');
        else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
            v |= (uint32_t)((h | 0x20) - 'a' + 10);
        else
            return -1;
    }
    *c = v;
    return 0;
}

/* Decodes the string at d->p (just after the quote) in place. */
static int j_string(jdoc *d, char **s, size_t *n)
{
    char *o = d->p;
    *s = o;
    while (d->p < d->end && *d->p != '"') {
        char c = *d->p++;
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        if (d->p >= d->end)
            return -1;
        c = *d->p++;
        switch (c) {
        case '"': case '\\': case '/': *o++ = c; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (j_hex4(d, &cp))
                return -1;
            if (cp >= 0xd800 && cp < 0xdc00 && d->end - d->p >= 6 && d->p[0] == '\\' &&
                d->p[1] == 'u') {
                d->p += 2;
                if (j_hex4(d, &lo))
                    return -1;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            j_utf8(&o, cp);
            break;
        }
        default: return -1;
        }
    }
    if (d->p >= d->end)
        return -1;
    d->p++; /* closing quote */
    *n = (size_t)(o - *s);
    return 0;
}

static int j_value(jdoc *d, int depth)
{
    j_ws(d);
    if (d->p >= d->end || depth > 64)
        return -1;
    char c = *d->p;
    int id;
    if (c == '{' || c == '[') {
        id = j_new(d, c == '{' ? J_OBJ : J_ARR);
        d->p++;
        int last = -1;
        j_ws(d);
        if (d->p < d->end && *d->p == (c == '{' ? '}' : ']')) {
            d->p++;
            return id;
        }
        for (;;) {
            char *key = NULL;
            size_t keyn = 0;
            if (c == '{') {
                j_ws(d);
                if (d->p >= d->end || *d->p != '"')
                    return -1;
                d->p++;
                if (j_string(d, &key, &keyn))
                    return -1;
                j_ws(d);
                if (d->p >= d->end || *d->p != ':')
                    return -1;
                d->p++;
            }
            int child = j_value(d, depth + 1);
            if (child < 0)
                return -1;
            d->v[child].key = key;
            d->v[child].keyn = keyn;
            if (last < 0)
                d->v[id].first = child;
            else
                d->v[last].next = child;
            last = child;
            j_ws(d);
            if (d->p >= d->end)
                return -1;
            if (*d->p == ',') {
                d->p++;
                continue;
            }
            if (*d->p == (c == '{' ? '}' : ']')) {
                d->p++;
                return id;
            }
            return -1;
        }
    }
    if (c == '"') {
        id = j_new(d, J_STR);
        d->p++;
        return j_string(d, &d->v[id].s, &d->v[id].n) ? -1 : id;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        id = j_new(d, J_NUM);
        d->v[id].s = d->p;
        while (d->p < d->end && strchr("+-0123456789.eE", *d->p))
            d->p++;
        d->v[id].n = (size_t)(d->p - d->v[id].s);
        return id;
    }
    static const struct {
        const char *lit;
        int type;
    } words[] = { { "null", J_NULL }, { "true", J_BOOL }, { "false", J_BOOL } };
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(words[i].lit);
        if ((size_t)(d->end - d->p) >= l && memcmp(d->p, words[i].lit, l) == 0) {
            d->p += l;
            id = j_new(d, words[i].type);
            d->v[id].n = i == 1;
            return id;
        }
    }
    return -1;
}

/* Parses text[0..len) in place; root is node 0. Returns 0 or -1. */
static int j_parse(jdoc *d, char *text, size_t len)
{
    d->count = 0;
    d->p = text;
    d->end = text + len;
    if (j_value(d, 0) != 0)
        return -1;
    j_ws(d);
    return d->p == d->end ? 0 : -1;
}

static int j_get(const jdoc *d, int obj, const char *key)
{
    if (obj < 0 || d->v[obj].type != J_OBJ)
        return -1;
    size_t kl = strlen(key);
    for (int c = d->v[obj].first; c >= 0; c = d->v[c].next)
        if (d->v[c].keyn == kl && memcmp(d->v[c].key, key, kl) == 0)
            return c;
    return -1;
}

/* ---- stories ---- */
typedef struct story_case {
    long table_size; /* -1: none */
    uint8_t *wire;   /* NULL for raw-data */
    size_t wire_len;
    rw_hpack_field *hdrs;
    size_t nhdrs;
} story_case;

typedef struct story {
    char *text; /* owns all strings */
    jdoc doc;
    story_case *cases;
    size_t ncases;
    uint8_t *wire_mem;
    rw_hpack_field *hdr_mem;
} story;

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void story_free(story *s)
{
    free(s->text);
    free(s->doc.v);
    free(s->cases);
    free(s->wire_mem);
    free(s->hdr_mem);
    memset(s, 0, sizeof(*s));
}

/* Loads one story file. Returns 0 or -1 (malformed). */
static int story_load(story *s, const char *path)
{
    size_t len;
    memset(s, 0, sizeof(*s));
    if (!(s->text = slurp(path, &len)) || j_parse(&s->doc, s->text, len))
        return -1;
    const jdoc *d = &s->doc;
    int cases = j_get(d, 0, "cases");
    if (cases < 0 || d->v[cases].type != J_ARR)
        return -1;
    size_t nc = 0, nh = 0, wl = 0;
    for (int c = d->v[cases].first; c >= 0; c = d->v[c].next, nc++) {
        int h = j_get(d, c, "headers"), w = j_get(d, c, "wire");
        if (h < 0 || d->v[h].type != J_ARR)
            return -1;
        for (int x = d->v[h].first; x >= 0; x = d->v[x].next)
            nh++;
        if (w >= 0)
            wl += d->v[w].n / 2;
    }
    s->cases = calloc(nc ? nc : 1, sizeof(*s->cases));
    s->hdr_mem = calloc(nh ? nh : 1, sizeof(*s->hdr_mem));
    s->wire_mem = malloc(wl ? wl : 1);
    s->ncases = nc;
    size_t hi = 0, wi = 0, ci = 0;
    for (int c = d->v[cases].first; c >= 0; c = d->v[c].next, ci++) {
        story_case *sc = &s->cases[ci];
        int h = j_get(d, c, "headers"), w = j_get(d, c, "wire"), t = j_get(d, c, "header_table_size");
        sc->table_size = t >= 0 && d->v[t].type == J_NUM ? strtol(d->v[t].s, NULL, 10) : -1;
        if (w >= 0) {
            if (d->v[w].type != J_STR || d->v[w].n % 2)
                return -1;
            sc->wire = s->wire_mem + wi;
            for (size_t k = 0; k < d->v[w].n; k += 2) {
                int a = hexval(d->v[w].s[k]), b = hexval(d->v[w].s[k + 1]);
                if (a < 0 || b < 0)
                    return -1;
                s->wire_mem[wi++] = (uint8_t)(a << 4 | b);
            }
            sc->wire_len = d->v[w].n / 2;
        }
        sc->hdrs = s->hdr_mem + hi;
        for (int x = d->v[h].first; x >= 0; x = d->v[x].next) {
            int kv = d->v[x].first; /* {"name": "value"}: exactly one member */
            if (d->v[x].type != J_OBJ || kv < 0 || d->v[kv].next >= 0 || d->v[kv].type != J_STR)
                return -1;
            s->hdr_mem[hi++] = (rw_hpack_field){ { d->v[kv].key, d->v[kv].keyn },
                                                 { d->v[kv].s, d->v[kv].n }, 0 };
            sc->nhdrs++;
        }
    }
    return 0;
}

#endif
