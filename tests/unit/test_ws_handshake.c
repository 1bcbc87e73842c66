/* Opening handshake: the RFC 6455 accept-key example, each missing or bad
 * header → its status, subprotocol selection, and permessage-deflate
 * offers with each parameter, valid and invalid. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "core/str.h"
#include "ws/ws_handshake.h"

static rw_str rw_str_c_(const char *s) { return rw_str_c(s); }
static bool rw_str_eq_(rw_str a, const char *b) { return rw_str_eq(a, rw_str_c(b)); }

#define H(n, v) { RW_STR(n), RW_STR(v) }
#define MAXH 12

typedef struct req {
    rw_header h[MAXH];
    size_t n;
} req;

static void base(req *r)
{
    rw_header b[] = { H("Host", "server.example.com"), H("Upgrade", "websocket"),
                      H("Connection", "Upgrade"), H("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                      H("Sec-WebSocket-Version", "13"), H("Origin", "http://example.com") };
    memcpy(r->h, b, sizeof(b));
    r->n = sizeof(b) / sizeof(b[0]);
}

static void del(req *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcasecmp(r->h[i].name.p, name) == 0) {
            r->h[i] = r->h[--r->n];
            return;
        }
}

static void set(req *r, const char *name, const char *value)
{
    del(r, name);
    r->h[r->n++] = (rw_header){ rw_str_c_(name), rw_str_c_(value) };
}

static const rw_ws_handshake_cfg k_cfg = { NULL, 0, true, false, false, 0, 0 };

static int check(const req *r, const rw_ws_handshake_cfg *cfg, rw_ws_handshake *hs)
{
    return rw_ws_handshake_check(hs, RW_STR("GET"), 11, r->h, r->n, cfg);
}

static void test_accept(void)
{
    char out[RW_WS_ACCEPT_LEN + 1];
    CHECK(rw_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out) &&
              strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0,
          "RFC 6455 accept: got %s", out);
    req r;
    base(&r);
    rw_ws_handshake hs;
    CHECK_EQ_INT(check(&r, &k_cfg, &hs), 101, "valid request");
    CHECK(strcmp(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "accept in result: %s", hs.accept);
    rw_header out_h[RW_WS_HANDSHAKE_MAX_HEADERS];
    size_t n = rw_ws_handshake_headers(&hs, out_h);
    CHECK(n == 3, "101 has 3 headers, got %zu", n);
    CHECK(n == 3 && rw_str_eq_(out_h[2].value, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "accept header value");
    CHECK(!hs.deflate && hs.subprotocol.n == 0, "no extension, no protocol");
}

typedef struct scase {
    const char *name;
    const char *hdr;   /* header to change */
    const char *value; /* NULL = remove */
    int status;
} scase;

static const scase k_status[] = {
    { "no Host", "Host", NULL, 400 },
    { "no Upgrade", "Upgrade", NULL, 426 },
    { "Upgrade h2c", "Upgrade", "h2c", 426 },
    { "Upgrade list", "Upgrade", "foo, WebSocket", 101 },
    { "no Connection", "Connection", NULL, 400 },
    { "Connection keep-alive", "Connection", "keep-alive", 400 },
    { "Connection list", "Connection", "keep-alive, Upgrade", 101 },
    { "no key", "Sec-WebSocket-Key", NULL, 400 },
    { "short key", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=", 400 },
    { "key not base64", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j*Q==", 400 },
    { "key of 17 bytes", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZXg=", 400 },
    { "no version", "Sec-WebSocket-Version", NULL, 400 },
    { "version 8", "Sec-WebSocket-Version", "8", 426 },
    { "version 14", "Sec-WebSocket-Version", "14", 426 },
    { "version 13 padded", "Sec-WebSocket-Version", " 13 ", 101 },
    { "bad extensions syntax", "Sec-WebSocket-Extensions", "permessage-deflate; =", 400 },
    { "unterminated quote", "Sec-WebSocket-Extensions", "permessage-deflate; a=\"x", 400 },
    { "unknown extension", "Sec-WebSocket-Extensions", "x-webkit-foo; a=1", 101 },
};

static void test_status(void)
{
    for (size_t i = 0; i < sizeof(k_status) / sizeof(k_status[0]); i++) {
        const scase *c = &k_status[i];
        req r;
        base(&r);
        if (c->value)
            set(&r, c->hdr, c->value);
        else
            del(&r, c->hdr);
        rw_ws_handshake hs;
        int st = check(&r, &k_cfg, &hs);
        CHECK(st == c->status, "[%s] expected %d, got %d (%s)", c->name, c->status, st,
              hs.error ? hs.error : "");
        CHECK(st == 101 || hs.error != NULL, "[%s] error text", c->name);
        if (st == 426) {
            rw_header out[RW_WS_HANDSHAKE_MAX_HEADERS];
            size_t n = rw_ws_handshake_headers(&hs, out);
            bool has_version = false;
            for (size_t k = 0; k < n; k++)
                has_version |= rw_str_eq_(out[k].name, "Sec-WebSocket-Version") &&
                               rw_str_eq_(out[k].value, "13");
            CHECK(has_version, "[%s] 426 carries Sec-WebSocket-Version: 13", c->name);
        }
    }
    req r;
    base(&r);
    rw_ws_handshake hs;
    CHECK_EQ_INT(rw_ws_handshake_check(&hs, RW_STR("POST"), 11, r.h, r.n, &k_cfg), 405, "POST");
    CHECK_EQ_INT(rw_ws_handshake_check(&hs, RW_STR("get"), 11, r.h, r.n, &k_cfg), 405, "lower-case get");
    CHECK_EQ_INT(rw_ws_handshake_check(&hs, RW_STR("GET"), 10, r.h, r.n, &k_cfg), 400, "HTTP/1.0");
    r.h[r.n++] = (rw_header)H("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==");
    CHECK_EQ_INT(check(&r, &k_cfg, &hs), 400, "two keys");
    base(&r);
    r.h[r.n++] = (rw_header)H("Sec-WebSocket-Version", "13");
    CHECK_EQ_INT(check(&r, &k_cfg, &hs), 426, "two version headers");
}

static void test_subprotocols(void)
{
    const rw_str prefs[] = { RW_STR("v2.chat"), RW_STR("chat") };
    rw_ws_handshake_cfg cfg = k_cfg;
    cfg.subprotocols = prefs;
    cfg.nsubprotocols = 2;
    req r;
    base(&r);
    set(&r, "Sec-WebSocket-Protocol", "chat, superchat");
    rw_ws_handshake hs;
    CHECK(check(&r, &cfg, &hs) == 101 && rw_str_eq_(hs.subprotocol, "chat"), "picks chat");
    r.h[r.n++] = (rw_header)H("Sec-WebSocket-Protocol", "v2.chat");
    CHECK(check(&r, &cfg, &hs) == 101 && rw_str_eq_(hs.subprotocol, "v2.chat"),
          "server preference wins across header lines");
    rw_header out[RW_WS_HANDSHAKE_MAX_HEADERS];
    size_t n = rw_ws_handshake_headers(&hs, out);
    CHECK(n == 4 && rw_str_eq_(out[3].value, "v2.chat"), "protocol header written");
    base(&r);
    set(&r, "Sec-WebSocket-Protocol", "Chat, other");
    CHECK(check(&r, &cfg, &hs) == 101 && hs.subprotocol.n == 0, "exact match only; none selected");
}

typedef struct dcase {
    const char *name;
    const char *offer;
    bool accepted;
    const char *response;
    rw_ws_deflate_params p;
} dcase;

static const dcase k_deflate[] = {
    { "plain", "permessage-deflate", true, "permessage-deflate", { false, false, 15, 15 } },
    { "case-insensitive", "PerMessage-Deflate", true, "permessage-deflate", { false, false, 15, 15 } },
    { "server_no_context_takeover", "permessage-deflate; server_no_context_takeover", true,
      "permessage-deflate; server_no_context_takeover", { true, false, 15, 15 } },
    { "client_no_context_takeover", "permessage-deflate;client_no_context_takeover", true,
      "permessage-deflate; client_no_context_takeover", { false, true, 15, 15 } },
    { "server_max_window_bits=10", "permessage-deflate; server_max_window_bits=10", true,
      "permessage-deflate; server_max_window_bits=10", { false, false, 10, 15 } },
    { "server_max_window_bits quoted", "permessage-deflate; server_max_window_bits=\"8\"", true,
      "permessage-deflate; server_max_window_bits=8", { false, false, 8, 15 } },
    { "client_max_window_bits no value", "permessage-deflate; client_max_window_bits", true,
      "permessage-deflate", { false, false, 15, 15 } },
    { "client_max_window_bits=12", "permessage-deflate; client_max_window_bits = 12", true,
      "permessage-deflate; client_max_window_bits=12", { false, false, 15, 12 } },
    { "all four", "permessage-deflate; client_max_window_bits=9; server_max_window_bits=11; "
      "client_no_context_takeover; server_no_context_takeover", true,
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
      "server_max_window_bits=11; client_max_window_bits=9", { true, true, 11, 9 } },
    { "invalid first, valid second",
      "permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits", true,
      "permessage-deflate", { false, false, 15, 15 } },
    { "after another extension", "foo; bar=\"x,y\", permessage-deflate", true, "permessage-deflate",
      { false, false, 15, 15 } },
    { "server_max_window_bits=7", "permessage-deflate; server_max_window_bits=7", false, NULL, { 0 } },
    { "server_max_window_bits=16", "permessage-deflate; server_max_window_bits=16", false, NULL, { 0 } },
    { "server_max_window_bits=010", "permessage-deflate; server_max_window_bits=010", false, NULL, { 0 } },
    { "server_max_window_bits no value", "permessage-deflate; server_max_window_bits", false, NULL, { 0 } },
    { "client_max_window_bits=abc", "permessage-deflate; client_max_window_bits=abc", false, NULL, { 0 } },
    { "no_context_takeover with value", "permessage-deflate; server_no_context_takeover=1", false, NULL,
      { 0 } },
    { "repeated parameter", "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
      false, NULL, { 0 } },
    { "unknown parameter", "permessage-deflate; foo", false, NULL, { 0 } },
    { "long quoted value", "permessage-deflate; server_max_window_bits=\"100000000000000000000\"", false,
      NULL, { 0 } },
};

static void test_deflate_offers(void)
{
    for (size_t i = 0; i < sizeof(k_deflate) / sizeof(k_deflate[0]); i++) {
        const dcase *c = &k_deflate[i];
        req r;
        base(&r);
        set(&r, "Sec-WebSocket-Extensions", c->offer);
        rw_ws_handshake hs;
        int st = check(&r, &k_cfg, &hs);
        CHECK(st == 101, "[%s] status %d (%s)", c->name, st, hs.error ? hs.error : "");
        CHECK(hs.deflate == c->accepted, "[%s] accepted %d, want %d", c->name, hs.deflate, c->accepted);
        if (!c->accepted) {
            CHECK(hs.deflate_error != NULL, "[%s] decline reason", c->name);
            continue;
        }
        CHECK(hs.extensions_len == strlen(c->response) &&
                  memcmp(hs.extensions, c->response, hs.extensions_len) == 0,
              "[%s] response\n  want %s\n  got  %.*s", c->name, c->response, (int)hs.extensions_len,
              hs.extensions);
        const rw_ws_deflate_params *p = &hs.deflate_params;
        CHECK(p->server_no_context_takeover == c->p.server_no_context_takeover &&
                  p->client_no_context_takeover == c->p.client_no_context_takeover &&
                  p->server_max_window_bits == c->p.server_max_window_bits &&
                  p->client_max_window_bits == c->p.client_max_window_bits,
              "[%s] params %d %d %d %d", c->name, p->server_no_context_takeover,
              p->client_no_context_takeover, p->server_max_window_bits, p->client_max_window_bits);
    }
    /* server configuration: limits and forced no-takeover */
    rw_ws_handshake_cfg cfg = k_cfg;
    cfg.server_max_window_bits = 12;
    cfg.client_max_window_bits = 10;
    cfg.server_no_context_takeover = true;
    req r;
    base(&r);
    set(&r, "Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
    rw_ws_handshake hs;
    check(&r, &cfg, &hs);
    const char *want = "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; "
                       "client_max_window_bits=10";
    CHECK(hs.deflate && hs.extensions_len == strlen(want) && memcmp(hs.extensions, want, strlen(want)) == 0,
          "server limits: got %.*s", (int)hs.extensions_len, hs.extensions);
    set(&r, "Sec-WebSocket-Extensions", "permessage-deflate");
    check(&r, &cfg, &hs);
    want = "permessage-deflate; server_no_context_takeover; server_max_window_bits=12";
    CHECK(hs.deflate && hs.extensions_len == strlen(want) && memcmp(hs.extensions, want, strlen(want)) == 0 &&
              hs.deflate_params.client_max_window_bits == 15,
          "client window not offered → not limited: got %.*s", (int)hs.extensions_len, hs.extensions);
    /* deflate disabled */
    cfg = k_cfg;
    cfg.deflate = false;
    check(&r, &cfg, &hs);
    CHECK(!hs.deflate, "deflate off → not negotiated");
    rw_header out[RW_WS_HANDSHAKE_MAX_HEADERS];
    CHECK(rw_ws_handshake_headers(&hs, out) == 3, "no extensions header");
}

int main(void)
{
    test_accept();
    test_status();
    test_subprotocols();
    test_deflate_offers();
    return check_summary("test_ws_handshake");
}
