/* HTTP/2 error codes (RFC 9113 §7) and their names, for RST_STREAM and
 * GOAWAY frames and for the decoder's verdicts. Header-only: the names are
 * only needed by logs and tests. */
#ifndef RW_HTTP2_H2_ERRORS_H
#define RW_HTTP2_H2_ERRORS_H

#include <stdint.h>

typedef enum rw_h2_error {
    RW_H2_NO_ERROR = 0x0,
    RW_H2_PROTOCOL_ERROR = 0x1,
    RW_H2_INTERNAL_ERROR = 0x2,
    RW_H2_FLOW_CONTROL_ERROR = 0x3,
    RW_H2_SETTINGS_TIMEOUT = 0x4,
    RW_H2_STREAM_CLOSED = 0x5,
    RW_H2_FRAME_SIZE_ERROR = 0x6,
    RW_H2_REFUSED_STREAM = 0x7,
    RW_H2_CANCEL = 0x8,
    RW_H2_COMPRESSION_ERROR = 0x9,
    RW_H2_CONNECT_ERROR = 0xa,
    RW_H2_ENHANCE_YOUR_CALM = 0xb,
    RW_H2_INADEQUATE_SECURITY = 0xc,
    RW_H2_HTTP_1_1_REQUIRED = 0xd,
} rw_h2_error;

#define RW_H2_ERROR_MAX RW_H2_HTTP_1_1_REQUIRED

/* The RFC name of an error code; codes we do not know (peers may send any
 * 32-bit value, RFC 9113 §7) are "UNKNOWN_ERROR", never NULL. */
static inline const char *rw_h2_error_name(uint32_t code)
{
    static const char *const names[] = {
        "NO_ERROR",           "PROTOCOL_ERROR",   "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",   "REFUSED_STREAM",   "CANCEL",
        "COMPRESSION_ERROR",  "CONNECT_ERROR",    "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
    };
    return code <= RW_H2_ERROR_MAX ? names[code] : "UNKNOWN_ERROR";
}

#endif
