/* Handler-facing request accessors and the response entry points. The
 * entry points enforce "exactly one response per request" and forward to
 * the protocol engine's responder.
 *
 * Ownership rule (so a handler never has to guess): rw_respond_ext always
 * consumes the body, i.e. release(arg) is called exactly once even when the
 * call fails; likewise rw_respond_stream always ends with on_close(ud). */
#include <stddef.h>

#include "conn/request.h"
#include "core/log.h"
#include "core/str.h"

rw_str rw_req_method(const rw_request *r) { return r->method; }
rw_str rw_req_path(const rw_request *r) { return r->path; }
rw_str rw_req_query(const rw_request *r) { return r->query; }
rw_str rw_req_target(const rw_request *r) { return r->target; }
int rw_req_version(const rw_request *r) { return r->version; }
rw_str rw_req_body(const rw_request *r) { return r->body; }
bool rw_req_is_head(const rw_request *r) { return r->is_head; }
size_t rw_req_header_count(const rw_request *r) { return r->nheaders; }

const rw_header *rw_req_header_at(const rw_request *r, size_t i)
{
    return i < r->nheaders ? &r->headers[i] : NULL;
}

bool rw_req_header(const rw_request *r, const char *name, rw_str *value)
{
    if (!name)
        return false;
    rw_str want = rw_str_c(name);
    for (size_t i = 0; i < r->nheaders; i++) {
        if (rw_str_ieq(r->headers[i].name, want)) {
            if (value)
                *value = r->headers[i].value;
            return true;
        }
    }
    return false;
}

int rw_respond_file(rw_request *r, int status, const rw_header *hdrs, size_t nhdrs,
                    const void *map, size_t len, const rw_body_file *file,
                    void (*release)(void *), void *arg)
{
    /* A file body is never copied up front (that would read the mapping). */
    if (r->responded || !r->resp || !r->resp->respond || status < 100 || status > 999 ||
        (file && (!release || file->fd < 0))) {
        rw_warn("respond: %s (status %d)", r->responded ? "second response ignored"
                                                       : "invalid call", status);
        if (release)
            release(arg);
        return -1;
    }
    r->responded = true;
    return r->resp->respond(r, status, hdrs, nhdrs, map, len, file, release, arg);
}

int rw_respond_ext(rw_request *r, int status, const rw_header *hdrs, size_t nhdrs,
                   const void *body, size_t len, void (*release)(void *), void *arg)
{
    return rw_respond_file(r, status, hdrs, nhdrs, body, len, NULL, release, arg);
}

int rw_respond(rw_request *r, int status, const rw_header *hdrs, size_t nhdrs, const void *body,
               size_t len)
{
    /* release == NULL tells the engine to copy the body now. */
    return rw_respond_ext(r, status, hdrs, nhdrs, body, len, NULL, NULL);
}

int rw_respond_stream(rw_request *r, int status, const rw_header *hdrs, size_t nhdrs,
                      int64_t content_length, rw_stream_fn produce, void *ud,
                      void (*on_close)(void *ud))
{
    if (r->responded || !r->resp || !r->resp->stream || !produce || status < 100 ||
        status > 999) {
        rw_warn("respond_stream: %s (status %d)",
                r->responded ? "second response ignored" : "invalid call", status);
        if (on_close)
            on_close(ud);
        return -1;
    }
    r->responded = true;
    return r->resp->stream(r, status, hdrs, nhdrs, content_length, produce, ud, on_close);
}

const char *rw_status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
