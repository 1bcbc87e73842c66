/* llhttp's request vectors (tests/data/llhttp-vectors) driven through
 * rw_h1_parse_request + rw_chunked_feed, pipelined messages included, and
 * compared with llhttp's verdict. Every deliberate difference is listed in
 * k_diffs with its reason (mirrored in docs/http1-conformance.md); an
 * unlisted mismatch, or a listed one that no longer differs, fails. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http1/chunked.h"
#include "http1/parser.h"

#ifndef RW_TEST_DATA
#define RW_TEST_DATA "tests/data" /* CMake passes the absolute path */
#endif
#define VECTORS RW_TEST_DATA "/llhttp-vectors/request-vectors.jsonl"

/* Same limits as rw_config_defaults(), and the connection layer's chunk limits. */
static const rw_h1_limits k_lim = { 8192, 16384, 100 };
#define CHUNK_MAX_LINE 4096
#define CHUNK_MAX_TRAILER 16384
#define MAX_HDRS 100

#include "check.h"

/* What happened to a byte stream, in terms both parsers can express. */
typedef enum verdict {
    V_OK,     /* every complete message accepted; the rest is incomplete */
    V_ERROR,  /* rejected */
    V_PAUSED, /* CONNECT or Upgrade: the bytes after the head belong to another protocol */
    V_CLOSED, /* a non-persistent message completed and more bytes followed: never parsed */
} verdict;

static const char *vname(verdict v)
{
    static const char *n[] = { "ok", "error", "paused(CONNECT/Upgrade)", "closed(data after close)" };
    return n[v];
}

/* Deliberate differences, by llhttp source file and line. A NO_HOST entry
 * differs only because the HTTP/1.1 request lacks Host (RFC 9112 3.2: 400);
 * it is re-run with "Host: h" added to each request line and must then
 * agree with llhttp exactly, so the rest of the message is still judged. */
typedef struct diff {
    const char *key;
    const char *reason;
} diff;

static const char NO_HOST_REASON[] = "HTTP/1.1 request without Host is 400 (RFC 9112 3.2)";
#define NO_HOST NO_HOST_REASON

static const diff k_diffs[] = {
    { "connection.md:9", NO_HOST },
    { "connection.md:37", NO_HOST },
    { "connection.md:239", NO_HOST },
    { "connection.md:267", NO_HOST },
    { "connection.md:456", NO_HOST },
    { "connection.md:545", NO_HOST },
    { "connection.md:682", NO_HOST },
    { "connection.md:716", NO_HOST },
    { "content-length.md:7", NO_HOST },
    { "content-length.md:44", NO_HOST },
    { "content-length.md:293", NO_HOST },
    { "content-length.md:320", NO_HOST },
    { "content-length.md:447", NO_HOST },
    { "finish.md:9", NO_HOST },
    { "method.md:7", NO_HOST },
    { "pausing.md:7", NO_HOST },
    { "pausing.md:37", NO_HOST },
    { "pausing.md:67", NO_HOST },
    { "pausing.md:97", NO_HOST },
    { "pausing.md:127", NO_HOST },
    { "pausing.md:157", NO_HOST },
    { "pausing.md:187", NO_HOST },
    { "pausing.md:217", NO_HOST },
    { "pausing.md:247", NO_HOST },
    { "pausing.md:277", NO_HOST },
    { "pausing.md:316", NO_HOST },
    { "pausing.md:358", NO_HOST },
    { "pausing.md:401", NO_HOST },
    { "pipelining.md:7", NO_HOST },
    { "sample.md:9", NO_HOST },
    { "sample.md:47", NO_HOST },
    { "sample.md:171", NO_HOST },
    { "sample.md:199", NO_HOST },
    { "sample.md:222", NO_HOST },
    { "sample.md:294", NO_HOST },
    { "sample.md:481", NO_HOST },
    { "sample.md:511", NO_HOST },
    { "sample.md:541", NO_HOST },
    { "transfer-encoding.md:9", NO_HOST },
    { "transfer-encoding.md:36", NO_HOST },
    { "transfer-encoding.md:73", NO_HOST },
    { "transfer-encoding.md:110", NO_HOST },
    { "transfer-encoding.md:147", NO_HOST },
    { "transfer-encoding.md:189", NO_HOST },
    { "transfer-encoding.md:241", NO_HOST },
    { "transfer-encoding.md:369", NO_HOST },
    { "transfer-encoding.md:754", "no Host, and \"deflate, chunked\" is 501: we decode no coding but chunked (RFC 9112 6.1)" },
    { "transfer-encoding.md:796", "no Host, and deflate then chunked fields is 501: we decode no coding but chunked" },
    { "uri.md:7", NO_HOST },
    { "uri.md:32", NO_HOST },
    { "uri.md:55", NO_HOST },
    { "uri.md:78", NO_HOST },
    { "uri.md:105", NO_HOST },
    { "uri.md:128", NO_HOST },
    { "uri.md:168", NO_HOST },
    { "invalid.md:69", "unknown method token (ANNOUNCE) accepted; the app answers 501" },
    { "method.md:138", "asterisk-form only with OPTIONS (RFC 9112 3.2.4); M-SEARCH * is 400" },
    { "method.md:375", "ICE/1.0 is not HTTP: 400" },
    { "method.md:405", "RTSP/1.0 is not HTTP: 400" },
    { "method.md:433", "RTSP/1.0 is not HTTP: 400" },
    { "sample.md:317", "HTTP/0.9 request line without version: 400" },
    { "uri.md:225", "userinfo in absolute-form is rejected (RFC 9110 4.2.4), and no Host" },
};

/* ---- the stream driver ---- */

/* skip_body mirrors llhttp's "skipBody" harness option (the head alone ends
 * the message), which is a property of that test, not of the wire. */
static verdict run_stream(const char *raw, size_t len, bool skip_body, int *messages,
                          const char **why)
{
    rw_header hdrs[MAX_HDRS];
    size_t off = 0;
    *messages = 0;
    *why = NULL;
    while (off < len) {
        rw_h1_request q;
        int r = rw_h1_parse_request(raw + off, len - off, &q, hdrs, &k_lim);
        if (r == RW_H1_INCOMPLETE)
            return V_OK;
        if (r == RW_H1_ERROR) {
            *why = q.error_reason;
            return V_ERROR;
        }
        off += (size_t)r;
        if (skip_body) {
            /* nothing */
        } else if (q.body == RW_H1_BODY_LENGTH) {
            if (len - off < q.content_length)
                return V_OK;
            off += (size_t)q.content_length;
        } else if (q.body == RW_H1_BODY_CHUNKED) {
            rw_chunked d;
            rw_chunked_init(&d, CHUNK_MAX_LINE, CHUNK_MAX_TRAILER);
            for (;;) {
                size_t used;
                rw_str data;
                rw_chunked_result cr = rw_chunked_feed(&d, raw + off, len - off, &used, &data);
                off += used;
                if (cr == RW_CHUNKED_DATA)
                    continue;
                if (cr == RW_CHUNKED_ERROR) {
                    *why = d.error_reason;
                    return V_ERROR;
                }
                if (cr == RW_CHUNKED_NEED_MORE)
                    return V_OK;
                break; /* DONE */
            }
        }
        (*messages)++;
        if (q.upgrade || q.method_id == RW_METHOD_CONNECT)
            return V_PAUSED;
        if (!q.keep_alive)
            return off < len ? V_CLOSED : V_OK;
    }
    return V_OK;
}

/* ---- a scanner for the few JSON fields we need ---- */

/* Copies the string value of "key" (first occurrence) into out; false if absent. */
static bool json_str(const char *line, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p)
        return false;
    p += strlen(pat);
    if (strncmp(p, "null", 4) == 0) {
        out[0] = '\0';
        return true;
    }
    if (*p != '"')
        return false;
    p++;
    size_t n = 0;
    while (*p && *p != '"') {
        char c = *p++;
        if (c == '\\') {
            c = *p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'u': c = '?'; for (int i = 0; i < 4 && *p; i++) p++; break;
            case '\0': return false;
            default: break; /* \" \\ \/ */
            }
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return *p == '"';
}

static bool json_int(const char *line, const char *key, long *out)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p)
        return false;
    char *end;
    *out = strtol(p + strlen(pat), &end, 10);
    return end != p + strlen(pat);
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 (with '=' padding); returns length or -1. */
static long b64_decode(const char *in, char *out, size_t cap)
{
    unsigned acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; *in && *in != '='; in++) {
        int v = b64val(*in);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    return (long)n;
}

/* Copies raw to out with "Host: h" after every " HTTP/1.1" request line. */
static size_t add_host(const char *raw, size_t len, char *out, size_t cap)
{
    static const char line_end[] = " HTTP/1.1\r\n", host[] = "Host: h\r\n";
    const size_t le = sizeof(line_end) - 1, hl = sizeof(host) - 1;
    size_t o = 0;
    for (size_t i = 0; i < len && o + hl + 1 < cap;) {
        if (len - i >= le && memcmp(raw + i, line_end, le) == 0) {
            memcpy(out + o, line_end, le);
            memcpy(out + o + le, host, hl);
            o += le + hl;
            i += le;
        } else {
            out[o++] = raw[i++];
        }
    }
    return o;
}

static const diff *find_diff(const char *key)
{
    for (size_t i = 0; i < sizeof(k_diffs) / sizeof(k_diffs[0]); i++)
        if (strcmp(k_diffs[i].key, key) == 0)
            return &k_diffs[i];
    return NULL;
}

int main(void)
{
    FILE *f = fopen(VECTORS, "r");
    CHECK_CASE(f != NULL, "open", "cannot open %s", VECTORS);
    if (!f) {
        return check_summary("h1_vectors");
    }
    static bool diff_used[sizeof(k_diffs) / sizeof(k_diffs[0])];
    char *line = NULL;
    size_t linecap = 0;
    static char type[64], source[256], key[300], b64[65536], raw[49152], hosted[50000], reason[256],
        outcome[16];
    int nvec = 0, nlenient = 0, ndiff = 0;
    while (getline(&line, &linecap, f) > 0) {
        long lineno = 0, msgs = 0;
        bool okp = json_str(line, "type", type, sizeof(type)) &&
                   json_str(line, "source", source, sizeof(source)) &&
                   json_int(line, "line", &lineno) &&
                   json_str(line, "raw_b64", b64, sizeof(b64)) &&
                   json_str(line, "outcome", outcome, sizeof(outcome)) &&
                   json_str(line, "error_reason", reason, sizeof(reason)) &&
                   json_int(line, "messages_complete", &msgs);
        CHECK_CASE(okp, "json", "cannot read vector %d", nvec);
        if (!okp)
            continue;
        const char *base = strrchr(source, '/');
        snprintf(key, sizeof(key), "%s:%ld", base ? base + 1 : source, lineno);
        long rawlen = b64_decode(b64, raw, sizeof(raw));
        CHECK_CASE(rawlen >= 0, key, "bad base64");
        if (rawlen < 0)
            continue;
        nvec++;

        /* exact-size copy: ASan sees any read past the input */
        char *copy = malloc((size_t)rawlen + 1);
        memcpy(copy, raw, (size_t)rawlen);
        int got_msgs;
        const char *why;
        bool skip_body = strstr(line, "\"skipBody\":true") != NULL;
        verdict got = run_stream(copy, (size_t)rawlen, skip_body, &got_msgs, &why);
        free(copy);

        verdict want;
        if (strcmp(outcome, "ok") == 0)
            want = V_OK;
        else if (strcmp(reason, "Pause on CONNECT/Upgrade") == 0)
            want = V_PAUSED;
        else if (strcmp(reason, "Data after `Connection: close`") == 0)
            want = V_CLOSED;
        else
            want = V_ERROR;

        const diff *d = find_diff(key);
        if (d)
            diff_used[d - k_diffs] = true;
        bool lenient = strncmp(type, "request-lenient-", 16) == 0;
        bool same;
        if (lenient) {
            /* llhttp's opt-in relaxations: a strict server must not take them */
            nlenient++;
            same = got == V_ERROR || got == V_CLOSED;
        } else {
            same = got == want && (got == V_ERROR || got_msgs == msgs);
        }
        if (d && d->reason == (const char *)NO_HOST_REASON) {
            /* must differ as is, and agree once every request has a Host */
            ndiff++;
            CHECK_CASE(!same && got == V_ERROR && why && strcmp(why, "missing Host") == 0, key,
                       "listed as missing Host but got %s/%d (%s)", vname(got), got_msgs,
                       why ? why : "-");
            size_t hl = add_host(raw, (size_t)rawlen, hosted, sizeof(hosted));
            copy = malloc(hl + 1);
            memcpy(copy, hosted, hl);
            got = run_stream(copy, hl, skip_body, &got_msgs, &why);
            free(copy);
            same = got == want && (got == V_ERROR || got_msgs == msgs);
            CHECK_CASE(same, key, "with Host added: llhttp %s/%ld (%s), ringwire %s/%d (%s)",
                       vname(want), msgs, reason[0] ? reason : "-", vname(got), got_msgs,
                       why ? why : "-");
        } else if (d) {
            ndiff++;
            CHECK_CASE(!same, key, "listed as a deliberate difference (%s) but now agrees: %s/%d",
                       d->reason, vname(got), got_msgs);
        } else {
            CHECK_CASE(same, key, "[%s] llhttp %s/%ld (%s), ringwire %s/%d (%s)", type,
                       lenient ? "must-reject" : vname(want), msgs, reason[0] ? reason : "-",
                       vname(got), got_msgs, why ? why : "-");
        }
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < sizeof(k_diffs) / sizeof(k_diffs[0]); i++)
        CHECK_CASE(diff_used[i], k_diffs[i].key, "listed difference matches no vector");
    CHECK_CASE(nvec >= 166, "count", "only %d vectors read", nvec);
    printf("h1_vectors: %d vectors (%d lenient, %d documented differences)\n", nvec, nlenient,
           ndiff);
    return check_summary("h1_vectors");
}
