/* The public hpack-test-case corpus: decode every wire of every encoder's
 * stories (one decoder per story) and compare with the expected headers
 * exactly; encode every raw-data story with our encoder at several table
 * sizes and decode it back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/str.h"
#include "hpack_corpus.h"
#include "http2/hpack.h"

#define EXPECTED_STORIES 478 /* tests/data/README.md */
#define EXPECTED_CASES 50526
#define DEC_CAPACITY 65536 /* above every header_table_size in the corpus */
#define MAX_FIELDS 1024
#define SCRATCH_CAP (1 << 20)
#define WIRE_CAP (1 << 20)
#define MAX_REPORTS 10

static rw_hpack_field out[MAX_FIELDS];
static char scratch[SCRATCH_CAP];
static uint8_t wire[WIRE_CAP];
static long stories, cases, mismatches, wire_bytes, raw_bytes, enc_bytes;

static bool same_list(const rw_hpack_field *a, size_t na, const rw_hpack_field *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!rw_str_eq(a[i].name, b[i].name) || !rw_str_eq(a[i].value, b[i].value))
            return false;
    return true;
}

static void mismatch(const char *path, size_t ci, const char *why, int rc)
{
    if (++mismatches <= MAX_REPORTS)
        fprintf(stderr, "MISMATCH %s case %zu: %s (rc %d: %s)\n", path, ci, why, rc,
                rw_hpack_strerror(rc));
}

static void decode_story(const story *s, const char *path)
{
    rw_hpack_decoder d;
    if (rw_hpack_decoder_init(&d, DEC_CAPACITY)) {
        mismatch(path, 0, "decoder init", 0);
        return;
    }
    for (size_t i = 0; i < s->ncases; i++) {
        const story_case *c = &s->cases[i];
        size_t nf;
        cases++;
        /* header_table_size: our SETTINGS_HEADER_TABLE_SIZE, ACKed before this case. */
        if (c->table_size >= 0 && rw_hpack_decoder_set_limit(&d, (size_t)c->table_size)) {
            mismatch(path, i, "bad header_table_size", 0);
            continue;
        }
        wire_bytes += (long)c->wire_len;
        if (!c->wire) {
            mismatch(path, i, "no wire", 0);
            continue;
        }
        int rc = rw_hpack_decode(&d, c->wire, c->wire_len, out, MAX_FIELDS, scratch, SCRATCH_CAP,
                                 SIZE_MAX, &nf);
        if (rc || !same_list(out, nf, c->hdrs, c->nhdrs))
            mismatch(path, i, "decoded list differs", rc);
        else if (rw_hpack_table_max_size(&d.t) > d.limit)
            mismatch(path, i, "table above the limit", rc);
    }
    rw_hpack_decoder_free(&d);
}

static void encode_story(const story *s, const char *path, size_t cap)
{
    rw_hpack_encoder e;
    rw_hpack_decoder d;
    rw_hpack_encoder_init(&e, cap);
    rw_hpack_decoder_init(&d, cap);
    if (cap > RW_HPACK_DEFAULT_TABLE_SIZE) {
        rw_hpack_decoder_set_limit(&d, cap);
        rw_hpack_encoder_set_peer_limit(&e, cap);
    }
    for (size_t i = 0; i < s->ncases; i++) {
        const story_case *c = &s->cases[i];
        size_t w, nf;
        cases++;
        int rc = rw_hpack_encode(&e, c->hdrs, c->nhdrs, wire, WIRE_CAP, &w);
        if (rc) {
            mismatch(path, i, "encode failed", rc);
            continue;
        }
        enc_bytes += (long)w;
        for (size_t k = 0; k < c->nhdrs; k++)
            raw_bytes += (long)(c->hdrs[k].name.n + c->hdrs[k].value.n);
        rc = rw_hpack_decode(&d, wire, w, out, MAX_FIELDS, scratch, SCRATCH_CAP, SIZE_MAX, &nf);
        if (rc || !same_list(out, nf, c->hdrs, c->nhdrs))
            mismatch(path, i, "round trip differs", rc);
        if (e.t.size != d.t.size || e.t.count != d.t.count)
            mismatch(path, i, "tables out of sync", 0);
    }
    rw_hpack_encoder_free(&e);
    rw_hpack_decoder_free(&d);
}

int main(void)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *dir = corpus_dir();
    CHECK(dir != NULL, "corpus in %s", RW_HPACK_UNPACKED);
    if (!dir)
        return check_summary("test_hpack_corpus");

    static const size_t enc_caps[] = { 0, 256, 4096, 16384 };
    long decode_cases = 0, raw_stories = 0;
    char root[512];
    snprintf(root, sizeof(root), "%s/%s", dir, CORPUS_ROOT);
    char **folders;
    size_t nfold = list_dir(root, &folders);
    for (size_t f = 0; f < nfold; f++) {
        char fdir[1024];
        snprintf(fdir, sizeof(fdir), "%s/%s", root, folders[f]);
        char **files;
        size_t nfile = list_dir(fdir, &files);
        bool raw = strcmp(folders[f], "raw-data") == 0;
        for (size_t i = 0; i < nfile; i++) {
            if (strncmp(files[i], "story_", 6) != 0)
                continue;
            char path[1536];
            snprintf(path, sizeof(path), "%s/%s", fdir, files[i]);
            story s;
            stories++;
            if (story_load(&s, path)) {
                mismatch(path, 0, "cannot parse", 0);
            } else if (raw) {
                raw_stories++;
                for (size_t k = 0; k < sizeof(enc_caps) / sizeof(enc_caps[0]); k++)
                    encode_story(&s, path, enc_caps[k]);
            } else {
                long before = cases;
                decode_story(&s, path);
                decode_cases += cases - before;
            }
            story_free(&s);
            free(files[i]);
        }
        free(files);
        free(folders[f]);
    }
    free(folders);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    long raw_cases = (cases - decode_cases) / (long)(sizeof(enc_caps) / sizeof(enc_caps[0]));
    printf("hpack corpus: %ld stories (%ld raw-data), %ld cases decoded (%ld wire bytes), "
           "%ld raw-data cases x %zu table sizes encoded (%ld -> %ld bytes), %ld mismatches, "
           "%.2f s\n",
           stories, raw_stories, decode_cases, wire_bytes, raw_cases,
           sizeof(enc_caps) / sizeof(enc_caps[0]), raw_bytes, enc_bytes, mismatches,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    CHECK_EQ_INT(stories, EXPECTED_STORIES, "story files");
    CHECK_EQ_INT(decode_cases + raw_cases, EXPECTED_CASES, "cases");
    CHECK_EQ_INT(mismatches, 0, "mismatches");
    CHECK(enc_bytes < raw_bytes, "our encoder compresses");
    return check_summary("test_hpack_corpus");
}
