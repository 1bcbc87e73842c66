/* Interop with nghttp2's HPACK: our encoder -> nghttp2's inflater, and
 * nghttp2's deflater -> our decoder, over every raw-data story of the
 * hpack-test-case corpus and over random header lists with never-indexed
 * fields, at several table sizes (including 0 and a lowered/raised
 * SETTINGS_HEADER_TABLE_SIZE mid-stream). Linked with libnghttp2. */
#include <nghttp2/nghttp2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/check.h"
#include "../unit/hpack_corpus.h"
#include "core/str.h"
#include "http2/hpack.h"

#define MAX_FIELDS 1024
#define WIRE_CAP (1 << 20)
#define SCRATCH_CAP (1 << 20)
#define MAX_REPORTS 10

static rw_hpack_field out[MAX_FIELDS];
static nghttp2_nv nva[MAX_FIELDS];
static char scratch[SCRATCH_CAP];
static uint8_t wire[WIRE_CAP];
static long blocks, mismatches;

static void report(const char *what, size_t i, long rc)
{
    if (++mismatches <= MAX_REPORTS)
        fprintf(stderr, "MISMATCH %s, block %zu (rc %ld)\n", what, i, rc);
}

/* One side pair per direction; both directions run on the same lists. */
typedef struct pair {
    rw_hpack_encoder enc;          /* ours -> */
    nghttp2_hd_inflater *inflater; /* -> theirs */
    nghttp2_hd_deflater *deflater; /* theirs -> */
    rw_hpack_decoder dec;          /* -> ours */
} pair;

static int pair_init(pair *p, size_t cap)
{
    memset(p, 0, sizeof(*p));
    if (rw_hpack_encoder_init(&p->enc, cap) || rw_hpack_decoder_init(&p->dec, cap) ||
        nghttp2_hd_inflate_new(&p->inflater) || nghttp2_hd_deflate_new(&p->deflater, cap))
        return -1;
    return 0;
}

static void pair_free(pair *p)
{
    rw_hpack_encoder_free(&p->enc);
    rw_hpack_decoder_free(&p->dec);
    nghttp2_hd_inflate_del(p->inflater);
    nghttp2_hd_deflate_del(p->deflater);
}

/* Both decoders announce SETTINGS_HEADER_TABLE_SIZE = limit, both encoders
 * learn it. */
static void pair_settings(pair *p, size_t limit)
{
    nghttp2_hd_inflate_change_table_size(p->inflater, limit);
    rw_hpack_encoder_set_peer_limit(&p->enc, limit);
    rw_hpack_decoder_set_limit(&p->dec, limit);
    nghttp2_hd_deflate_change_table_size(p->deflater, limit);
}

/* Our encoder -> nghttp2 inflater. */
static void ours_to_theirs(pair *p, const rw_hpack_field *f, size_t n, const char *what, size_t bi)
{
    size_t w;
    int rc = rw_hpack_encode(&p->enc, f, n, wire, WIRE_CAP, &w);
    if (rc) {
        report(what, bi, rc);
        return;
    }
    const uint8_t *in = wire;
    size_t left = w, k = 0;
    bool ok = true;
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t r = nghttp2_hd_inflate_hd2(p->inflater, &nv, &flags, in, left, 1);
        if (r < 0) {
            report(what, bi, (long)r);
            return;
        }
        in += r;
        left -= (size_t)r;
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            if (k >= n || nv.namelen != f[k].name.n || nv.valuelen != f[k].value.n ||
                memcmp(nv.name, f[k].name.p, nv.namelen) != 0 ||
                (nv.valuelen && memcmp(nv.value, f[k].value.p, nv.valuelen) != 0))
                ok = false;
            /* Never-indexed must arrive as such. */
            if (k < n && (f[k].flags & RW_HPACK_F_NEVER_INDEX) && !(nv.flags & NGHTTP2_NV_FLAG_NO_INDEX))
                ok = false;
            k++;
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(p->inflater);
            break;
        }
        if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0)
            break;
    }
    if (!ok || k != n)
        report(what, bi, 0);
}

/* nghttp2 deflater -> our decoder. */
static void theirs_to_ours(pair *p, const rw_hpack_field *f, size_t n, const char *what, size_t bi)
{
    for (size_t i = 0; i < n; i++)
        nva[i] = (nghttp2_nv){ (uint8_t *)(uintptr_t)f[i].name.p, (uint8_t *)(uintptr_t)f[i].value.p,
                               f[i].name.n, f[i].value.n,
                               (f[i].flags & RW_HPACK_F_NEVER_INDEX) ? NGHTTP2_NV_FLAG_NO_INDEX
                                                                     : NGHTTP2_NV_FLAG_NONE };
    ssize_t w = nghttp2_hd_deflate_hd(p->deflater, wire, WIRE_CAP, nva, n);
    if (w < 0) {
        report(what, bi, (long)w);
        return;
    }
    size_t nf;
    int rc = rw_hpack_decode(&p->dec, wire, (size_t)w, out, MAX_FIELDS, scratch, SCRATCH_CAP,
                             SIZE_MAX, &nf);
    bool ok = rc == 0 && nf == n;
    for (size_t i = 0; ok && i < n; i++) {
        ok = rw_str_eq(out[i].name, f[i].name) && rw_str_eq(out[i].value, f[i].value);
        if (f[i].flags & RW_HPACK_F_NEVER_INDEX)
            ok = ok && (out[i].flags & RW_HPACK_F_NEVER_INDEX);
    }
    if (!ok)
        report(what, bi, rc);
}

static void run_list(pair *p, const rw_hpack_field *f, size_t n, const char *what)
{
    blocks++;
    ours_to_theirs(p, f, n, what, (size_t)blocks);
    theirs_to_ours(p, f, n, what, (size_t)blocks);
}

static const size_t caps[] = { 0, 256, 4096, 16384 };
#define NCAPS (sizeof(caps) / sizeof(caps[0]))

static long corpus_stories(void)
{
    const char *dir = corpus_dir();
    CHECK(dir != NULL, "corpus in %s", RW_HPACK_UNPACKED);
    if (!dir)
        return 0;
    char raw[512];
    snprintf(raw, sizeof(raw), "%s/%s/raw-data", dir, CORPUS_ROOT);
    char **files;
    size_t nfile = list_dir(raw, &files);
    long n = 0;
    for (size_t i = 0; i < nfile; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", raw, files[i]);
        story s;
        if (strncmp(files[i], "story_", 6) == 0) {
            if (story_load(&s, path)) {
                report(path, 0, -1);
            } else {
                n++;
                for (size_t c = 0; c < NCAPS; c++) {
                    pair p;
                    if (pair_init(&p, caps[c])) {
                        report("init", 0, -1);
                        continue;
                    }
                    if (caps[c] != RW_HPACK_DEFAULT_TABLE_SIZE)
                        pair_settings(&p, caps[c]);
                    for (size_t k = 0; k < s.ncases; k++)
                        run_list(&p, s.cases[k].hdrs, s.cases[k].nhdrs, path);
                    pair_free(&p);
                }
            }
            story_free(&s);
        }
        free(files[i]);
    }
    free(files);
    return n;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 20);
}

static void random_lists(void)
{
    static const char *names[] = { ":status", "content-type", "server", "authorization", "cookie",
                                   "set-cookie", "x-token", "date", "cache-control", "etag" };
    static char store[1 << 16];
    for (size_t c = 0; c < NCAPS; c++) {
        pair p;
        if (pair_init(&p, caps[c]))
            continue;
        if (caps[c] != RW_HPACK_DEFAULT_TABLE_SIZE)
            pair_settings(&p, caps[c]);
        for (int b = 0; b < 300; b++) {
            if (b % 50 == 49) /* lower, then restore the limit */
                pair_settings(&p, b % 100 == 49 ? caps[c] / 3 : caps[c]);
            rw_hpack_field f[48];
            size_t n = rnd() % 48, used = 0;
            for (size_t i = 0; i < n; i++) {
                size_t l = rnd() % 5 == 0 ? rnd() % 600 : rnd() % 24;
                for (size_t k = 0; k < l; k++)
                    store[used + k] = rnd() % 4 ? (char)('a' + rnd() % 8) : (char)rnd();
                f[i] = (rw_hpack_field){ rw_str_c(names[rnd() % 10]), { store + used, l },
                                         rnd() % 5 == 0 ? RW_HPACK_F_NEVER_INDEX : 0 };
                used += l;
            }
            run_list(&p, f, n, "random");
        }
        pair_free(&p);
    }
}

int main(void)
{
    long stories = corpus_stories();
    random_lists();
    printf("hpack nghttp2 interop: %ld raw-data stories x %zu table sizes + random lists, %ld "
           "blocks each way, %ld mismatches\n",
           stories, NCAPS, blocks, mismatches);
    CHECK(stories == 32, "raw-data stories: %ld", stories);
    CHECK_EQ_INT(mismatches, 0, "mismatches");
    return check_summary("test_hpack_nghttp2");
}
