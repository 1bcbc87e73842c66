/* HTTP/1 request-head parser: table of requests with the expected verdict
 * and fields, every case re-parsed at every split point, random mutations
 * checked for prefix consistency, and the SIMD scans compared with their
 * scalar twins on random input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "http1/parser.h"
#include "http1/scan.h"

#include "check.h"

#define MAX_HDRS 128

static const rw_h1_limits k_default_lim = { 8192, 16384, 100 };

/* Optional expectations use 0 for "don't check"; the macros shift by one. */
#define M(x) ((x) + 1)
#define B(x) ((x) + 1)
#define CL(x) ((x) + 1)
#define YES 1
#define NO 2

typedef struct pcase {
    const char *name;
    const char *raw;
    int status;            /* 0: accepted, else the expected error_status */
    int consumed;          /* accepted: head length; 0 = strlen(raw) */
    int method;            /* M(rw_method) */
    const char *path, *query, *host, *target;
    int body;              /* B(rw_h1_body_kind) */
    unsigned long long cl; /* CL(n) */
    int keep_alive, expect_continue, upgrade; /* YES / NO */
    const char *upgrade_proto;
    int minor;             /* M(minor) */
    int nheaders;          /* M(n) */
    const rw_h1_limits *lim;
    int len;               /* raw length when it holds a NUL; 0 = strlen */
} pcase;

static const rw_h1_limits k_small_line = { 32, 16384, 100 };
static const rw_h1_limits k_small_head = { 8192, 64, 100 };
static const rw_h1_limits k_two_headers = { 8192, 16384, 2 };

#define H "Host: a\r\n"

static const pcase k_cases[] = {
    /* ---- methods ---- */
    { "GET", "GET / HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_GET), .path = "/",
      .query = "", .host = "a", .body = B(RW_H1_BODY_NONE), .keep_alive = YES, .minor = M(1),
      .nheaders = M(1) },
    { "HEAD", "HEAD / HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_HEAD) },
    { "POST", "POST / HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_POST) },
    { "PUT", "PUT / HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_PUT) },
    { "DELETE", "DELETE / HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_DELETE) },
    { "OPTIONS", "OPTIONS / HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_OPTIONS) },
    { "TRACE", "TRACE / HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_TRACE) },
    { "PATCH", "PATCH / HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_PATCH) },
    { "CONNECT", "CONNECT a.b:443 HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_CONNECT),
      .host = "a.b:443" },
    { "lower-case get is another token", "get / HTTP/1.1\r\n" H "\r\n", .status = 0,
      .method = M(RW_METHOD_OTHER) },
    { "unknown token method", "M-SEARCH / HTTP/1.1\r\n" H "\r\n", .status = 0,
      .method = M(RW_METHOD_OTHER) },
    { "GETX is not GET", "GETX / HTTP/1.1\r\n" H "\r\n", .status = 0, .method = M(RW_METHOD_OTHER) },
    { "token punctuation method", "!#$%&'*+-.^_`|~09az / HTTP/1.1\r\n" H "\r\n", .status = 0,
      .method = M(RW_METHOD_OTHER) },
    { "method with '/'", "GE/T / HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "method with '('", "GE(T / HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "method with 0x80", "G\x80T / HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "empty method", " / HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "method then TAB", "GET\t/ HTTP/1.1\r\n" H "\r\n", .status = 400 },

    /* ---- request-target ---- */
    { "origin-form with query", "GET /a/b?x=1&y=2 HTTP/1.1\r\n" H "\r\n", .status = 0, .path = "/a/b",
      .query = "x=1&y=2", .target = "/a/b?x=1&y=2" },
    { "query with '?'", "GET /t?a?b HTTP/1.1\r\n" H "\r\n", .status = 0, .path = "/t", .query = "a?b" },
    { "fragment dropped", "GET /p?q=1#frag HTTP/1.1\r\n" H "\r\n", .status = 0, .path = "/p",
      .query = "q=1" },
    { "fragment without query", "GET /p#f?x HTTP/1.1\r\n" H "\r\n", .status = 0, .path = "/p",
      .query = "" },
    { "quotes and bar in target", "GET /a\"b\"?q=| HTTP/1.1\r\n" H "\r\n", .status = 0, .path = "/a\"b\"" },
    { "absolute-form", "GET http://ex.com/x/y?z HTTP/1.1\r\nHost: ex.com\r\n\r\n", .status = 0,
      .path = "/x/y", .query = "z", .host = "ex.com" },
    { "absolute-form authority replaces Host",
      "GET http://real.example:8080/x HTTP/1.1\r\nHost: other\r\n\r\n", .status = 0, .path = "/x",
      .host = "real.example:8080" },
    { "absolute-form https upper-case scheme", "GET HTTPS://ex.com/ HTTP/1.1\r\n" H "\r\n", .status = 0,
      .path = "/", .host = "ex.com" },
    { "absolute-form no path", "GET http://ex.com?q=1 HTTP/1.1\r\n" H "\r\n", .status = 0, .path = "/",
      .query = "q=1", .host = "ex.com" },
    { "absolute-form no path no query", "GET http://ex.com:81 HTTP/1.1\r\n" H "\r\n", .status = 0,
      .path = "/", .query = "", .host = "ex.com:81" },
    { "absolute-form empty authority", "GET http:///x HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "absolute-form userinfo", "GET http://u:p@ex.com/ HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "absolute-form ftp scheme", "GET ftp://ex.com/ HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "relative target", "GET a/b HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "asterisk with OPTIONS", "OPTIONS * HTTP/1.1\r\n" H "\r\n", .status = 0, .path = "*" },
    { "asterisk with GET", "GET * HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "asterisk with unknown method", "M-SEARCH * HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "asterisk plus more", "OPTIONS *x HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "authority-form with GET", "GET ex.com:443 HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "CONNECT origin-form", "CONNECT / HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "CONNECT without port", "CONNECT ex.com HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "CONNECT empty port", "CONNECT ex.com: HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "CONNECT bad port", "CONNECT ex.com:4x3 HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "CONNECT userinfo", "CONNECT u@ex.com:443 HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "CONNECT ipv6", "CONNECT [::1]:443 HTTP/1.1\r\n" H "\r\n", .status = 0, .host = "[::1]:443" },
    { "CONNECT HTTP/1.0 no Host", "CONNECT ex.com:443 HTTP/1.0\r\n\r\n", .status = 0,
      .host = "ex.com:443", .minor = M(0) },
    { "space in target", "GET /a b HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "two spaces before target", "GET  / HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "two spaces before version", "GET /  HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "TAB in target", "GET /a\tb HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "CTL in target", "GET /a\x01 HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "DEL in target", "GET /a\x7f HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "UTF-8 in target", "GET /\xc3\xa9 HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "NUL in target", "GET /a\0b HTTP/1.1\r\n" H "\r\n", .status = 400, .len = 30 },
    { "long target in SIMD range",
      "GET /0123456789abcdef0123456789abcdef0123456789/\x02 HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "HTTP/0.9 request", "GET /\r\n\r\n", .status = 400 },
    { "request line at limit",
      "GET /0123456789012345 HTTP/1.1\r\n" H "\r\n", .status = 0, .lim = &k_small_line },
    { "request line over limit",
      "GET /01234567890123456 HTTP/1.1\r\n" H "\r\n", .status = 414, .lim = &k_small_line },
    { "request line over limit, incomplete", "GET /0123456789012345678901234567890", .status = 414,
      .lim = &k_small_line },

    /* ---- version ---- */
    { "HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", .status = 0, .minor = M(0), .keep_alive = NO,
      .host = "" },
    { "HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", .status = 505 },
    { "HTTP/1.2", "GET / HTTP/1.2\r\n" H "\r\n", .status = 505 },
    { "HTTP/0.9 version", "GET / HTTP/0.9\r\n" H "\r\n", .status = 505 },
    { "HTTP/5.6 incomplete", "GET / HTTP/5.6", .status = 505 },
    { "lower-case http", "GET / http/1.1\r\n" H "\r\n", .status = 400 },
    { "HTTP/1.1 with junk", "GET / HTTP/1.1x\r\n" H "\r\n", .status = 400 },
    { "HTTP/1.10", "GET / HTTP/1.10\r\n" H "\r\n", .status = 400 },
    { "HTTP/11", "GET / HTTP/11\r\n" H "\r\n", .status = 400 },
    { "RTSP/1.0", "OPTIONS / RTSP/1.0\r\n" H "\r\n", .status = 400 },
    { "trailing space after version", "GET / HTTP/1.1 \r\n" H "\r\n", .status = 400 },

    /* ---- line endings and control bytes ---- */
    { "bare LF after request line", "GET / HTTP/1.1\n" H "\r\n", .status = 400 },
    { "bare LF after field", "GET / HTTP/1.1\r\nHost: a\n\r\n", .status = 400 },
    { "bare LF ends head", "GET / HTTP/1.1\r\n" H "\n", .status = 400 },
    { "bare LF before request", "\nGET / HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "bare CR after request line", "GET / HTTP/1.1\rX: 1\r\n" H "\r\n", .status = 400 },
    { "bare CR in value", "GET / HTTP/1.1\r\nX: a\rb\r\n" H "\r\n", .status = 400 },
    { "bare CR in name", "GET / HTTP/1.1\r\nX\rY: a\r\n" H "\r\n", .status = 400 },
    { "CR CR LF ends head", "GET / HTTP/1.1\r\n" H "\r\r\n", .status = 400 },
    { "leading CR not CRLF", "\rGET / HTTP/1.1\r\n" H "\r\n", .status = 400 },
    { "leading empty line skipped", "\r\nGET / HTTP/1.1\r\n" H "\r\n", .status = 0,
      .method = M(RW_METHOD_GET) },
    { "several leading empty lines", "\r\n\r\n\r\nGET /x HTTP/1.1\r\n" H "\r\n", .status = 0,
      .path = "/x" },
    { "NUL in value", "GET / HTTP/1.1\r\nX: a\0b\r\n" H "\r\n", .status = 400, .len = 35 },
    { "form feed in value", "GET / HTTP/1.1\r\nX: a\x0c" "b\r\n" H "\r\n", .status = 400 },
    { "DEL in value", "GET / HTTP/1.1\r\nX: a\x7f\r\n" H "\r\n", .status = 400 },
    { "HTAB inside value", "GET / HTTP/1.1\r\nX: a\tb\r\n" H "\r\n", .status = 0 },
    { "obs-text in value", "GET / HTTP/1.1\r\nX: D\xfcsseldorf \xff\r\n" H "\r\n", .status = 0 },
    { "ESC in long value",
      "GET / HTTP/1.1\r\nX: 0123456789abcdef0123456789abcdef\x1b\r\n" H "\r\n", .status = 400 },

    /* ---- field lines ---- */
    { "value OWS trimmed", "GET / HTTP/1.1\r\nX: \t  v a l \t \r\n" H "\r\n", .status = 0,
      .nheaders = M(2) },
    { "empty value", "GET / HTTP/1.1\r\nX:\r\nY: \t\r\n" H "\r\n", .status = 0, .nheaders = M(3) },
    { "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", .status = 400 },
    { "tab before colon", "GET / HTTP/1.1\r\nX\t: a\r\n" H "\r\n", .status = 400 },
    { "empty field name", "GET / HTTP/1.1\r\n: a\r\n" H "\r\n", .status = 400 },
    { "invalid name char", "GET / HTTP/1.1\r\nFo@: a\r\n" H "\r\n", .status = 400 },
    { "name with CTL", "GET / HTTP/1.1\r\nFoo\x01: a\r\n" H "\r\n", .status = 400 },
    { "name without colon", "GET / HTTP/1.1\r\nname\r\n" H "\r\n", .status = 400 },
    { "obs-fold", "GET / HTTP/1.1\r\n" H "X: a\r\n b\r\n\r\n", .status = 400 },
    { "obs-fold with tab", "GET / HTTP/1.1\r\n" H "X: a\r\n\tb\r\n\r\n", .status = 400 },
    { "space after request line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", .status = 400 },
    { "header count at limit", "GET / HTTP/1.1\r\n" H "X: 1\r\n\r\n", .status = 0,
      .lim = &k_two_headers },
    { "header count over limit", "GET / HTTP/1.1\r\n" H "X: 1\r\nY: 2\r\n\r\n", .status = 431,
      .lim = &k_two_headers },
    { "head at byte limit", "GET / HTTP/1.1\r\n" H "X: 01234567890123456789012345678901\r\n\r\n",
      .status = 0, .lim = &k_small_head },
    { "head over byte limit",
      "GET / HTTP/1.1\r\n" H "X: 012345678901234567890123456789012\r\n\r\n", .status = 431,
      .lim = &k_small_head },
    { "head over byte limit, incomplete",
      "GET / HTTP/1.1\r\n" H "X: 0123456789012345678901234567890123456789", .status = 431,
      .lim = &k_small_head },

    /* ---- Host ---- */
    { "HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", .status = 400 },
    { "two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", .status = 400 },
    { "Host case-insensitive", "GET / HTTP/1.1\r\nhOST: Ex.com:80\r\n\r\n", .status = 0,
      .host = "Ex.com:80" },
    { "empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", .status = 0, .host = "" },
    { "Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .status = 400 },
    { "Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .status = 400 },
    { "Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", .status = 400 },
    { "Host ipv6", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", .status = 0, .host = "[::1]:8080" },
    { "HTTP/1.0 Host optional", "GET / HTTP/1.0\r\n\r\n", .status = 0, .minor = M(0) },
    { "HTTP/1.0 two Hosts", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", .status = 400 },

    /* ---- Content-Length ---- */
    { "Content-Length", "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello", .status = 0,
      .consumed = 47, .body = B(RW_H1_BODY_LENGTH), .cl = CL(5) },
    { "Content-Length zero", "POST / HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", .status = 0,
      .body = B(RW_H1_BODY_NONE), .cl = CL(0) },
    { "Content-Length leading zeros", "POST / HTTP/1.1\r\n" H "Content-Length: 003\r\n\r\n", .status = 0,
      .body = B(RW_H1_BODY_LENGTH), .cl = CL(3) },
    { "Content-Length OWS", "POST / HTTP/1.1\r\n" H "Content-Length: \t42 \t\r\n\r\n", .status = 0,
      .cl = CL(42) },
    { "Content-Length 19 digits",
      "POST / HTTP/1.1\r\n" H "Content-Length: 9999999999999999999\r\n\r\n", .status = 0,
      .cl = CL(9999999999999999999ull) },
    { "Content-Length 20 digits",
      "POST / HTTP/1.1\r\n" H "Content-Length: 18446744073709551616\r\n\r\n", .status = 400 },
    { "Content-Length overflow, head unfinished",
      "POST / HTTP/1.1\r\nContent-Length: 1000000000000000000000\r\n", .status = 400 },
    { "Content-Length sign", "POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", .status = 400 },
    { "Content-Length negative", "POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", .status = 400 },
    { "Content-Length inner space", "POST / HTTP/1.1\r\n" H "Content-Length: 4 2\r\n\r\n", .status = 400 },
    { "Content-Length hex", "POST / HTTP/1.1\r\n" H "Content-Length: 0x5\r\n\r\n", .status = 400 },
    { "Content-Length empty", "POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", .status = 400 },
    { "Content-Length same list", "POST / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\n", .status = 0,
      .cl = CL(5) },
    { "Content-Length same twice",
      "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", .status = 0, .cl = CL(5) },
    { "Content-Length different list", "POST / HTTP/1.1\r\n" H "Content-Length: 5, 6\r\n\r\n",
      .status = 400 },
    { "Content-Length different twice",
      "POST / HTTP/1.1\r\n" H "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", .status = 400 },
    { "Content-Length list with empty",
      "POST / HTTP/1.1\r\n" H "Content-Length: 5,\r\n\r\n", .status = 400 },

    /* ---- Transfer-Encoding ---- */
    { "chunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", .status = 0,
      .body = B(RW_H1_BODY_CHUNKED) },
    { "chunked upper-case", "POST / HTTP/1.1\r\n" H "transfer-encoding: CHUNKED\r\n\r\n", .status = 0,
      .body = B(RW_H1_BODY_CHUNKED) },
    { "TE with CL", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
      .status = 400 },
    { "CL with TE", "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      .status = 400 },
    { "TE identity", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\n", .status = 400 },
    { "TE gzip only", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\n", .status = 400 },
    { "TE chunked, gzip", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n",
      .status = 400 },
    { "TE chunked then gzip field",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
      .status = 400 },
    { "TE gzip, chunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n",
      .status = 501 },
    { "TE gzip then chunked field",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
      .status = 501 },
    { "TE chunked twice", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n",
      .status = 400 },
    { "TE chunked twice in fields",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      .status = 400 },
    { "TE chunkedchunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunkedchunked\r\n\r\n",
      .status = 400 },
    { "TE empty", "POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n\r\n", .status = 400 },
    { "TE empty elements", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: , chunked ,\r\n\r\n", .status = 0,
      .body = B(RW_H1_BODY_CHUNKED) },
    { "TE with params", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked;q=1\r\n\r\n", .status = 400 },
    { "TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .status = 400 },
    { "TE obs-fold", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n  abc\r\n\r\n", .status = 400 },

    /* ---- Connection / keep-alive ---- */
    { "1.1 default keep-alive", "GET / HTTP/1.1\r\n" H "\r\n", .status = 0, .keep_alive = YES },
    { "1.1 close", "GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n", .status = 0, .keep_alive = NO },
    { "1.1 Close in list", "GET / HTTP/1.1\r\n" H "Connection: foo, CLOSE\t\r\n\r\n", .status = 0,
      .keep_alive = NO },
    { "1.1 close as substring", "GET / HTTP/1.1\r\n" H "Connection: closed, xclose\r\n\r\n", .status = 0,
      .keep_alive = YES },
    { "1.0 default close", "GET / HTTP/1.0\r\n\r\n", .status = 0, .keep_alive = NO },
    { "1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", .status = 0,
      .keep_alive = YES },
    { "1.0 keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", .status = 0,
      .keep_alive = NO },
    { "two Connection fields", "GET / HTTP/1.1\r\n" H "Connection: a\r\nConnection: close\r\n\r\n",
      .status = 0, .keep_alive = NO },

    /* ---- Expect ---- */
    { "Expect 100-continue", "POST / HTTP/1.1\r\n" H "Expect: 100-Continue\r\n\r\n", .status = 0,
      .expect_continue = YES },
    { "Expect other ignored", "POST / HTTP/1.1\r\n" H "Expect: foo\r\n\r\n", .status = 0,
      .expect_continue = NO },
    { "Expect in HTTP/1.0 ignored", "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", .status = 0,
      .expect_continue = NO },

    /* ---- Upgrade ---- */
    { "upgrade", "GET / HTTP/1.1\r\n" H "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", .status = 0,
      .upgrade = YES, .upgrade_proto = "websocket" },
    { "upgrade token in list",
      "GET / HTTP/1.1\r\n" H "Upgrade: h2c\r\nConnection: keep-alive, upgrade\r\n\r\n", .status = 0,
      .upgrade = YES, .upgrade_proto = "h2c", .keep_alive = YES },
    { "Upgrade without Connection token", "GET / HTTP/1.1\r\n" H "Upgrade: h2c\r\n\r\n", .status = 0,
      .upgrade = NO },
    { "Connection upgrade without Upgrade", "GET / HTTP/1.1\r\n" H "Connection: upgrade\r\n\r\n",
      .status = 0, .upgrade = NO },
    { "upgrade ignored in HTTP/1.0",
      "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n", .status = 0, .upgrade = NO },

    /* ---- the head is only the head ---- */
    { "pipelined follow-up not consumed", "GET / HTTP/1.1\r\n" H "\r\nGET /2 HTTP/1.1\r\n", .status = 0,
      .consumed = 27 },
};

static bool str_is(rw_str s, const char *want)
{
    return s.n == strlen(want) && (s.n == 0 || memcmp(s.p, want, s.n) == 0);
}

static size_t case_len(const pcase *c)
{
    /* cases with embedded NULs give their length through .consumed */
    return c->len ? (size_t)c->len : strlen(c->raw);
}

/* Parses an exact-size heap copy so ASan catches any read past the end. */
static int parse_copy(const char *raw, size_t len, rw_h1_request *req, rw_header *hdrs,
                      const rw_h1_limits *lim)
{
    char *b = malloc(len ? len : 1);
    memcpy(b, raw, len);
    int r = rw_h1_parse_request(b, len, req, hdrs, lim);
    /* rebase views so callers can compare them after the copy is gone */
    ptrdiff_t off = raw - b;
    if (r >= 0) {
        rw_str *views[] = { &req->method, &req->target, &req->path, &req->query, &req->host,
                            &req->upgrade_proto };
        for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
            if (views[i]->p >= b && views[i]->p <= b + len)
                views[i]->p += off;
        for (unsigned i = 0; i < req->nheaders; i++) {
            hdrs[i].name.p += off;
            hdrs[i].value.p += off;
        }
    }
    free(b);
    return r;
}

static const char *yesno(bool b) { return b ? "yes" : "no"; }

static void check_fields(const pcase *c, const rw_h1_request *q)
{
    const char *n = c->name;
    if (c->method)
        CHECK_CASE((int)q->method_id == c->method - 1, n, "method_id want %d got %d", c->method - 1,
                   (int)q->method_id);
    if (c->path)
        CHECK_CASE(str_is(q->path, c->path), n, "path want '%s' got '%.*s'", c->path,
                   (int)q->path.n, q->path.p);
    if (c->query)
        CHECK_CASE(str_is(q->query, c->query), n, "query want '%s' got '%.*s'", c->query,
                   (int)q->query.n, q->query.p);
    if (c->host)
        CHECK_CASE(str_is(q->host, c->host), n, "host want '%s' got '%.*s'", c->host,
                   (int)q->host.n, q->host.p);
    if (c->target)
        CHECK_CASE(str_is(q->target, c->target), n, "target want '%s' got '%.*s'", c->target,
                   (int)q->target.n, q->target.p);
    if (c->body)
        CHECK_CASE((int)q->body == c->body - 1, n, "body want %d got %d", c->body - 1,
                   (int)q->body);
    if (c->cl)
        CHECK_CASE(q->content_length == c->cl - 1, n, "content_length want %llu got %llu",
                   c->cl - 1, (unsigned long long)q->content_length);
    if (c->keep_alive)
        CHECK_CASE(q->keep_alive == (c->keep_alive == YES), n, "keep_alive want %s got %s",
                   yesno(c->keep_alive == YES), yesno(q->keep_alive));
    if (c->expect_continue)
        CHECK_CASE(q->expect_continue == (c->expect_continue == YES), n,
                   "expect_continue want %s got %s", yesno(c->expect_continue == YES),
                   yesno(q->expect_continue));
    if (c->upgrade)
        CHECK_CASE(q->upgrade == (c->upgrade == YES), n, "upgrade want %s got %s",
                   yesno(c->upgrade == YES), yesno(q->upgrade));
    if (c->upgrade_proto)
        CHECK_CASE(str_is(q->upgrade_proto, c->upgrade_proto), n,
                   "upgrade_proto want '%s' got '%.*s'", c->upgrade_proto, (int)q->upgrade_proto.n,
                   q->upgrade_proto.p);
    if (c->minor)
        CHECK_CASE(q->minor_version == c->minor - 1, n, "minor want %d got %d", c->minor - 1,
                   q->minor_version);
    if (c->nheaders)
        CHECK_CASE((int)q->nheaders == c->nheaders - 1, n, "nheaders want %d got %u",
                   c->nheaders - 1, q->nheaders);
}

/* Every prefix must give INCOMPLETE or exactly the whole input's verdict. */
static void check_prefixes(const char *name, const char *raw, size_t len, int whole,
                           int whole_status, const rw_h1_limits *lim)
{
    rw_header hdrs[MAX_HDRS];
    rw_h1_request q;
    int bad = 0;
    for (size_t k = 0; k < len && bad < 3; k++) {
        int r = parse_copy(raw, k, &q, hdrs, lim);
        bool ok;
        if (whole >= 0 && (size_t)whole <= k)
            ok = r == whole;
        else
            ok = r == RW_H1_INCOMPLETE || (r == RW_H1_ERROR && whole == RW_H1_ERROR &&
                                           q.error_status == whole_status);
        if (!ok)
            bad++;
        CHECK_CASE(ok, name, "prefix %zu/%zu gave %d (status %d), whole gave %d (status %d)", k,
                   len, r, r == RW_H1_ERROR ? q.error_status : 0, whole, whole_status);
    }
}

static void run_cases(void)
{
    rw_header hdrs[MAX_HDRS];
    for (size_t i = 0; i < sizeof(k_cases) / sizeof(k_cases[0]); i++) {
        const pcase *c = &k_cases[i];
        const rw_h1_limits *lim = c->lim ? c->lim : &k_default_lim;
        size_t len = case_len(c);
        rw_h1_request q;
        int r = parse_copy(c->raw, len, &q, hdrs, lim);
        if (c->status == 0) {
            int want = c->consumed ? c->consumed : (int)len;
            CHECK_CASE(r == want, c->name, "want consumed %d got %d (status %d: %s)", want, r,
                       r == RW_H1_ERROR ? q.error_status : 0,
                       r == RW_H1_ERROR && q.error_reason ? q.error_reason : "-");
            if (r == want)
                check_fields(c, &q);
        } else {
            CHECK_CASE(r == RW_H1_ERROR && q.error_status == c->status, c->name,
                       "want error %d got %d (status %d)", c->status, r,
                       r == RW_H1_ERROR ? q.error_status : 0);
            if (r == RW_H1_ERROR)
                CHECK_CASE(q.error_reason && q.error_reason[0], c->name, "error without a reason");
        }
        check_prefixes(c->name, c->raw, len, r, r == RW_H1_ERROR ? q.error_status : 0, lim);
    }
}

/* ---- random mutations: no crash, views inside, prefix consistency ---- */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static bool inside(rw_str s, const char *b, size_t len)
{
    return s.n == 0 || (s.p >= b && s.p + s.n <= b + len);
}

static void run_mutations(void)
{
    static const char alphabet[] = "\r\n \t:,;\"\\/?#*0AaZz-.\x00\x01\x7f\x80\xff";
    rw_header hdrs[MAX_HDRS];
    char buf[512];
    int bad = 0;
    for (int iter = 0; iter < 4000 && bad < 5; iter++) {
        const pcase *c = &k_cases[rnd() % (sizeof(k_cases) / sizeof(k_cases[0]))];
        size_t len = case_len(c);
        if (len > sizeof(buf))
            continue;
        memcpy(buf, c->raw, len);
        int nmut = 1 + (int)(rnd() % 3);
        for (int m = 0; m < nmut; m++)
            buf[rnd() % len] = alphabet[rnd() % (sizeof(alphabet) - 1)];
        rw_h1_request q;
        int r = rw_h1_parse_request(buf, len, &q, hdrs, &k_default_lim);
        bool ok = r == RW_H1_INCOMPLETE || r == RW_H1_ERROR || (r > 0 && (size_t)r <= len);
        if (r > 0) {
            ok = ok && inside(q.method, buf, len) && inside(q.target, buf, len) &&
                 inside(q.query, buf, len) && inside(q.host, buf, len) &&
                 (inside(q.path, buf, len) || str_is(q.path, "/"));
            for (unsigned h = 0; h < q.nheaders; h++)
                ok = ok && inside(hdrs[h].name, buf, len) && inside(hdrs[h].value, buf, len);
        }
        if (r == RW_H1_ERROR)
            ok = ok && q.error_reason != NULL && q.error_status >= 400;
        if (!ok)
            bad++;
        CHECK_CASE(ok, "mutation", "%s: result %d violates invariants", c->name, r);
        size_t before = (size_t)check_failed;
        check_prefixes("mutation prefix", buf, len, r, r == RW_H1_ERROR ? q.error_status : 0,
                       &k_default_lim);
        if ((size_t)check_failed != before) {
            bad++;
            printf("  mutated input of '%s': ", c->name);
            for (size_t k = 0; k < len; k++)
                printf(buf[k] >= 0x20 && buf[k] < 0x7f ? "%c" : "\\x%02x", (unsigned char)buf[k]);
            printf("\n");
        }
    }
}

/* ---- SIMD scan vs scalar twin ---- */

static void run_scan_compare(void)
{
#if RW_H1_SCAN_SIMD
    char buf[200];
    int bad = 0;
    for (int iter = 0; iter < 200000 && bad < 5; iter++) {
        size_t n = rnd() % sizeof(buf);
        /* mostly good bytes with a rare bad one, so matches land anywhere */
        for (size_t i = 0; i < n; i++) {
            uint64_t x = rnd();
            buf[i] = (x & 0xff) < 8 ? (char)(x >> 8) : (char)(0x21 + (x >> 16) % 0x5e);
        }
        size_t off = n ? rnd() % (n + 1) : 0; /* unaligned starts */
        const char *p = buf + off;
        size_t m = n - off;
        size_t a = rw_h1_scan_target_simd(p, m), b = rw_h1_scan_target_scalar(p, m);
        size_t c = rw_h1_scan_value_simd(p, m), d = rw_h1_scan_value_scalar(p, m);
        if (a != b || c != d)
            bad++;
        CHECK_CASE(a == b, "scan_target " RW_H1_SCAN_SIMD_NAME, "len %zu simd %zu scalar %zu", m, a,
                   b);
        CHECK_CASE(c == d, "scan_value " RW_H1_SCAN_SIMD_NAME, "len %zu simd %zu scalar %zu", m, c,
                   d);
    }
    /* every single byte value at every lane position */
    for (int v = 0; v < 256; v++)
        for (size_t pos = 0; pos < 40; pos++) {
            memset(buf, 'a', 40);
            buf[pos] = (char)v;
            CHECK_CASE(rw_h1_scan_target_simd(buf, 40) == rw_h1_scan_target_scalar(buf, 40),
                       "scan_target byte", "byte 0x%02x at %zu", v, pos);
            CHECK_CASE(rw_h1_scan_value_simd(buf, 40) == rw_h1_scan_value_scalar(buf, 40),
                       "scan_value byte", "byte 0x%02x at %zu", v, pos);
        }
#else
    printf("note: no SIMD scan compiled in, comparison skipped\n");
#endif
    /* the byte classes themselves */
    for (int v = 0; v < 256; v++) {
        bool target = v > 0x20 && v < 0x7f;
        bool value = v == '\t' || (v >= 0x20 && v != 0x7f);
        CHECK_CASE(rw_h1_is_target_byte((unsigned char)v) == target, "target class", "byte 0x%02x",
                   v);
        CHECK_CASE(rw_h1_is_value_byte((unsigned char)v) == value, "value class", "byte 0x%02x", v);
    }
}

static void run_misc(void)
{
    /* method ids straight from rw_h1_method_id */
    static const struct { const char *m; rw_method id; } ids[] = {
        { "GET", RW_METHOD_GET },         { "HEAD", RW_METHOD_HEAD },
        { "POST", RW_METHOD_POST },       { "PUT", RW_METHOD_PUT },
        { "DELETE", RW_METHOD_DELETE },   { "CONNECT", RW_METHOD_CONNECT },
        { "OPTIONS", RW_METHOD_OPTIONS }, { "TRACE", RW_METHOD_TRACE },
        { "PATCH", RW_METHOD_PATCH },     { "Get", RW_METHOD_OTHER },
        { "GE", RW_METHOD_OTHER },        { "POSTS", RW_METHOD_OTHER },
        { "", RW_METHOD_OTHER },
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        CHECK_CASE(rw_h1_method_id(rw_str_c(ids[i].m)) == ids[i].id, ids[i].m, "method id");

    /* the header array is filled in order with views */
    rw_header hdrs[MAX_HDRS];
    rw_h1_request q;
    const char *raw = "GET / HTTP/1.1\r\nA: 1\r\nHost: h\r\nB:  two words \r\n\r\n";
    int r = parse_copy(raw, strlen(raw), &q, hdrs, &k_default_lim);
    CHECK_CASE(r == (int)strlen(raw) && q.nheaders == 3, "header order", "r=%d n=%u", r,
               q.nheaders);
    if (q.nheaders == 3) {
        CHECK_CASE(str_is(hdrs[0].name, "A") && str_is(hdrs[0].value, "1"), "header order", "0");
        CHECK_CASE(str_is(hdrs[1].name, "Host") && str_is(hdrs[1].value, "h"), "header order", "1");
        CHECK_CASE(str_is(hdrs[2].name, "B") && str_is(hdrs[2].value, "two words"), "header order",
                   "2");
    }

    /* max_headers = 0 never touches the array */
    rw_h1_limits none = { 8192, 16384, 0 };
    r = rw_h1_parse_request(raw, strlen(raw), &q, NULL, &none);
    CHECK_CASE(r == RW_H1_ERROR && q.error_status == 431, "max_headers 0", "r=%d", r);

    /* empty input is incomplete */
    r = rw_h1_parse_request("", 0, &q, hdrs, &k_default_lim);
    CHECK_CASE(r == RW_H1_INCOMPLETE, "empty input", "r=%d", r);

    /* a 64 KiB stream of CRLFs hits the head limit rather than looping on */
    static char crlfs[65536];
    for (size_t i = 0; i < sizeof(crlfs); i += 2) {
        crlfs[i] = '\r';
        crlfs[i + 1] = '\n';
    }
    r = rw_h1_parse_request(crlfs, sizeof(crlfs), &q, hdrs, &k_default_lim);
    CHECK_CASE(r == RW_H1_ERROR && q.error_status == 431, "endless empty lines", "r=%d", r);
}

int main(void)
{
    run_cases();
    run_misc();
    run_scan_compare();
    run_mutations();
    printf("h1_parser: scan %s\n", RW_H1_SCAN_SIMD_NAME);
    return check_summary("h1_parser");
}
