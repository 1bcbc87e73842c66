/* Leveled logging to stderr. One line per call, written with a single write. */
#ifndef RW_CORE_LOG_H
#define RW_CORE_LOG_H

enum { RW_LOG_ERROR = 0, RW_LOG_WARN = 1, RW_LOG_INFO = 2, RW_LOG_DEBUG = 3 };

extern int rw_log_level;

void rw_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rw_log(level, ...)                                                                    \
    do {                                                                                       \
        if ((level) <= rw_log_level)                                                           \
            rw_log_write((level), __VA_ARGS__);                                                \
    } while (0)
#define rw_error(...) rw_log(RW_LOG_ERROR, __VA_ARGS__)
#define rw_warn(...) rw_log(RW_LOG_WARN, __VA_ARGS__)
#define rw_info(...) rw_log(RW_LOG_INFO, __VA_ARGS__)
#define rw_debug(...) rw_log(RW_LOG_DEBUG, __VA_ARGS__)

#endif
