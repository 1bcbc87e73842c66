/* Opening handshake: header scanning, the accept key, and a small parser
 * for the Sec-WebSocket-Extensions grammar (RFC 6455 §9.1):
 *   extension-list = 1#( token *( ";" token [ "=" ( token / quoted-string ) ] ) ) */
#include "ws/ws_handshake.h"

#include <string.h>

#include <openssl/evp.h>

#include "core/str.h"

#define WS_PARAM_VALUE_MAX 16 /* unescaped quoted values we care about are 1-2 digits */

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static rw_str trim(rw_str s)
{
    while (s.n && is_ows(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_ows(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* Calls fn for each non-empty comma-separated element of v; stops when fn
 * returns true and returns true then. */
static bool list_any(rw_str v, bool (*fn)(rw_str el, const void *arg), const void *arg)
{
    size_t start = 0;
    for (size_t i = 0; i <= v.n; i++) {
        if (i == v.n || v.p[i] == ',') {
            rw_str el = trim(rw_str_make(v.p + start, i - start));
            if (el.n && fn(el, arg))
                return true;
            start = i + 1;
        }
    }
    return false;
}

static bool el_ieq(rw_str el, const void *lit) { return rw_str_ieq(el, rw_str_c(lit)); }

static bool header_has_token(const rw_header *h, size_t nh, const char *name, const char *tok)
{
    for (size_t i = 0; i < nh; i++)
        if (rw_str_ieq(h[i].name, rw_str_c(name)) && list_any(h[i].value, el_ieq, tok))
            return true;
    return false;
}

/* Number of headers called name; *v = the last one. */
static size_t header_get(const rw_header *h, size_t nh, const char *name, rw_str *v)
{
    size_t count = 0;
    for (size_t i = 0; i < nh; i++)
        if (rw_str_ieq(h[i].name, rw_str_c(name))) {
            *v = trim(h[i].value);
            count++;
        }
    return count;
}

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* base64 of exactly 16 bytes: 22 symbols then "==" */
static bool key_valid(rw_str k)
{
    if (k.n != RW_WS_KEY_LEN || k.p[22] != '=' || k.p[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++)
        if (!is_b64(k.p[i]))
            return false;
    return true;
}

bool rw_ws_accept_key(const char *key, size_t n, char out[RW_WS_ACCEPT_LEN + 1])
{
    char buf[64 + sizeof(RW_WS_GUID)];
    if (n > 64)
        return false;
    memcpy(buf, key, n);
    memcpy(buf + n, RW_WS_GUID, sizeof(RW_WS_GUID) - 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(buf, n + sizeof(RW_WS_GUID) - 1, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        return false;
    return EVP_EncodeBlock((unsigned char *)out, md, 20) == RW_WS_ACCEPT_LEN;
}

/* ---- Sec-WebSocket-Extensions -------------------------------------------- */

typedef struct ext_cursor {
    const char *p, *end;
} ext_cursor;

static void skip_ows(ext_cursor *c)
{
    while (c->p < c->end && is_ows(*c->p))
        c->p++;
}

static bool take_token(ext_cursor *c, rw_str *t)
{
    const char *s = c->p;
    while (c->p < c->end && is_tchar(*c->p))
        c->p++;
    *t = rw_str_make(s, (size_t)(c->p - s));
    return t->n > 0;
}

/* token or quoted-string; the unescaped value goes to buf (cut at cap but
 * the syntax is still checked to the end) */
static bool take_value(ext_cursor *c, char *buf, size_t cap, size_t *len)
{
    *len = 0;
    if (c->p < c->end && *c->p == '"') {
        c->p++;
        while (c->p < c->end && *c->p != '"') {
            char ch = *c->p++;
            if (ch == '\\') {
                if (c->p == c->end)
                    return false;
                ch = *c->p++;
            }
            if ((unsigned char)ch < 0x20 && ch != '\t')
                return false;
            if (*len < cap)
                buf[*len] = ch;
            (*len)++;
        }
        if (c->p == c->end)
            return false;
        c->p++;
        return true;
    }
    rw_str t;
    if (!take_token(c, &t))
        return false;
    for (size_t i = 0; i < t.n; i++) {
        if (*len < cap)
            buf[*len] = t.p[i];
        (*len)++;
    }
    return true;
}

/* "8".."15", no leading zero; 0 if not. */
static uint8_t window_bits(const char *v, size_t n)
{
    if (n == 1 && v[0] >= '8' && v[0] <= '9')
        return (uint8_t)(v[0] - '0');
    if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
        return (uint8_t)(10 + v[1] - '0');
    return 0;
}

/* Applies one parameter to an offer; returns the reason it is invalid. */
static const char *offer_param(rw_ws_deflate_offer *o, unsigned *seen, rw_str name, bool has_value,
                               const char *v, size_t vn)
{
    static const char *const k_names[] = { "server_no_context_takeover",
                                           "client_no_context_takeover", "server_max_window_bits",
                                           "client_max_window_bits" };
    unsigned which = 4;
    for (unsigned i = 0; i < 4; i++)
        if (rw_str_ieq(name, rw_str_c(k_names[i])))
            which = i;
    if (which == 4)
        return "unknown permessage-deflate parameter";
    if (*seen & (1u << which))
        return "repeated permessage-deflate parameter";
    *seen |= 1u << which;
    switch (which) {
    case 0:
    case 1:
        if (has_value)
            return "no_context_takeover takes no value";
        if (which == 0)
            o->server_no_context_takeover = true;
        else
            o->client_no_context_takeover = true;
        return NULL;
    case 2:
        if (!has_value || !(o->server_max_window_bits = window_bits(v, vn)))
            return "server_max_window_bits needs a value 8..15";
        return NULL;
    default:
        o->client_max_window_bits = true;
        if (has_value && !(o->client_max_window_bits_value = window_bits(v, vn)))
            return "client_max_window_bits value not 8..15";
        return NULL;
    }
}

typedef struct ext_state {
    const rw_ws_handshake_cfg *cfg;
    rw_ws_handshake *hs;
} ext_state;

static void accept_offer(rw_ws_handshake *hs, const rw_ws_handshake_cfg *cfg,
                         const rw_ws_deflate_offer *o)
{
    uint8_t smax = cfg->server_max_window_bits ? cfg->server_max_window_bits : 15;
    uint8_t cmax = cfg->client_max_window_bits ? cfg->client_max_window_bits : 15;
    rw_ws_deflate_params *p = &hs->deflate_params;
    p->server_no_context_takeover = o->server_no_context_takeover || cfg->server_no_context_takeover;
    p->client_no_context_takeover = o->client_no_context_takeover || cfg->client_no_context_takeover;
    p->server_max_window_bits = o->server_max_window_bits && o->server_max_window_bits < smax
                                    ? o->server_max_window_bits
                                    : smax;
    bool send_smax = o->server_max_window_bits || smax < 15;
    /* client_max_window_bits may only be answered when offered (§7.1.2.2) */
    uint8_t coff = o->client_max_window_bits_value ? o->client_max_window_bits_value : 15;
    p->client_max_window_bits = o->client_max_window_bits && cmax < coff ? cmax : coff;
    bool send_cmax = o->client_max_window_bits && p->client_max_window_bits < 15;

    char *b = hs->extensions;
    size_t n = 0;
#define EXT_PUT(s)                                                                                 \
    do {                                                                                           \
        size_t l_ = strlen(s);                                                                     \
        memcpy(b + n, (s), l_);                                                                    \
        n += l_;                                                                                   \
    } while (0)
    EXT_PUT("permessage-deflate");
    if (p->server_no_context_takeover)
        EXT_PUT("; server_no_context_takeover");
    if (p->client_no_context_takeover)
        EXT_PUT("; client_no_context_takeover");
    char num[3] = { 0 };
    if (send_smax) {
        EXT_PUT("; server_max_window_bits=");
        num[0] = p->server_max_window_bits >= 10 ? '1' : (char)('0' + p->server_max_window_bits);
        num[1] = p->server_max_window_bits >= 10 ? (char)('0' + p->server_max_window_bits - 10) : 0;
        EXT_PUT(num);
    }
    if (send_cmax) {
        EXT_PUT("; client_max_window_bits=");
        num[0] = p->client_max_window_bits >= 10 ? '1' : (char)('0' + p->client_max_window_bits);
        num[1] = p->client_max_window_bits >= 10 ? (char)('0' + p->client_max_window_bits - 10) : 0;
        EXT_PUT(num);
    }
#undef EXT_PUT
    hs->extensions_len = n;
    hs->deflate = true;
}

/* Parses one header value of extensions; returns false on a syntax error. */
static bool parse_extensions(rw_str v, const rw_ws_handshake_cfg *cfg, rw_ws_handshake *hs)
{
    ext_cursor c = { v.p, v.p + v.n };
    for (;;) {
        skip_ows(&c);
        if (c.p == c.end)
            return true;
        if (*c.p == ',') { /* empty list element */
            c.p++;
            continue;
        }
        rw_str name;
        if (!take_token(&c, &name))
            return false;
        bool pmd = RW_STR_IEQ(name, "permessage-deflate");
        rw_ws_deflate_offer o;
        memset(&o, 0, sizeof(o));
        unsigned seen = 0;
        const char *bad = NULL;
        for (;;) {
            skip_ows(&c);
            if (c.p == c.end || *c.p == ',')
                break;
            if (*c.p != ';')
                return false;
            c.p++;
            skip_ows(&c);
            rw_str pname;
            if (!take_token(&c, &pname))
                return false;
            skip_ows(&c);
            bool has_value = false;
            char val[WS_PARAM_VALUE_MAX];
            size_t vn = 0;
            if (c.p < c.end && *c.p == '=') {
                c.p++;
                skip_ows(&c);
                if (!take_value(&c, val, sizeof(val), &vn))
                    return false;
                has_value = true;
                if (vn > sizeof(val))
                    vn = sizeof(val) + 1; /* too long: never a valid number */
            }
            if (pmd && !bad)
                bad = offer_param(&o, &seen, pname, has_value, val,
                                  vn > sizeof(val) ? 0 : vn);
            if (pmd && !bad && vn > sizeof(val))
                bad = "parameter value too long";
        }
        if (pmd && cfg->deflate && !hs->deflate) {
            if (bad)
                hs->deflate_error = bad;
            else
                accept_offer(hs, cfg, &o);
        }
    }
}

/* ---- the request ------------------------------------------------------- */

static int reject(rw_ws_handshake *hs, int status, const char *why)
{
    hs->status = status;
    hs->error = why;
    return status;
}

static bool el_eq(rw_str el, const void *arg) { return rw_str_eq(el, *(const rw_str *)arg); }

int rw_ws_handshake_check(rw_ws_handshake *hs, rw_str method, int version, const rw_header *h,
                          size_t nh, const rw_ws_handshake_cfg *cfg)
{
    memset(hs, 0, sizeof(*hs));
    rw_str v;
    if (!rw_str_eq(method, RW_STR("GET"))) /* methods are case-sensitive */
        return reject(hs, 405, "WebSocket handshake must be GET");
    if (version < 11)
        return reject(hs, 400, "WebSocket needs HTTP/1.1");
    if (header_get(h, nh, "host", &v) != 1)
        return reject(hs, 400, "missing or repeated Host");
    if (!header_has_token(h, nh, "upgrade", "websocket"))
        return reject(hs, 426, "Upgrade: websocket required");
    if (!header_has_token(h, nh, "connection", "upgrade"))
        return reject(hs, 400, "Connection header lacks upgrade");
    size_t nv = header_get(h, nh, "sec-websocket-version", &v);
    if (nv == 0)
        return reject(hs, 400, "missing Sec-WebSocket-Version");
    if (nv != 1 || !rw_str_eq(v, RW_STR("13")))
        return reject(hs, 426, "unsupported Sec-WebSocket-Version");
    if (header_get(h, nh, "sec-websocket-key", &v) != 1)
        return reject(hs, 400, "missing or repeated Sec-WebSocket-Key");
    if (!key_valid(v))
        return reject(hs, 400, "Sec-WebSocket-Key is not base64 of 16 bytes");
    if (!rw_ws_accept_key(v.p, v.n, hs->accept))
        return reject(hs, 500, "SHA-1 failed");

    for (size_t i = 0; i < nh; i++)
        if (RW_STR_IEQ(h[i].name, "sec-websocket-extensions") &&
            !parse_extensions(h[i].value, cfg, hs))
            return reject(hs, 400, "malformed Sec-WebSocket-Extensions");

    for (size_t k = 0; k < cfg->nsubprotocols && !hs->subprotocol.n; k++)
        for (size_t i = 0; i < nh; i++)
            if (RW_STR_IEQ(h[i].name, "sec-websocket-protocol") && cfg->subprotocols[k].n &&
                list_any(h[i].value, el_eq, &cfg->subprotocols[k])) {
                hs->subprotocol = cfg->subprotocols[k];
                break;
            }
    hs->status = 101;
    return 101;
}

size_t rw_ws_handshake_headers(const rw_ws_handshake *hs, rw_header *out)
{
    size_t n = 0;
    switch (hs->status) {
    case 101:
        out[n++] = (rw_header){ RW_STR("Upgrade"), RW_STR("websocket") };
        out[n++] = (rw_header){ RW_STR("Connection"), RW_STR("Upgrade") };
        out[n++] = (rw_header){ RW_STR("Sec-WebSocket-Accept"),
                                rw_str_make(hs->accept, RW_WS_ACCEPT_LEN) };
        if (hs->subprotocol.n)
            out[n++] = (rw_header){ RW_STR("Sec-WebSocket-Protocol"), hs->subprotocol };
        if (hs->deflate)
            out[n++] = (rw_header){ RW_STR("Sec-WebSocket-Extensions"),
                                    rw_str_make(hs->extensions, hs->extensions_len) };
        break;
    case 426:
        out[n++] = (rw_header){ RW_STR("Upgrade"), RW_STR("websocket") };
        out[n++] = (rw_header){ RW_STR("Sec-WebSocket-Version"), RW_STR("13") };
        break;
    case 405:
        out[n++] = (rw_header){ RW_STR("Allow"), RW_STR("GET") };
        break;
    default:
        break;
    }
    return n;
}
