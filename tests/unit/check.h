/* The assertion toolkit every C test shares (tests/unit, tests/hpack_nghttp2,
 * tests/ktls_vm): count passes and failures, print each failure with
 * file:line, end with "NAME: N passed, M failed" and an exit code.
 *
 *   CHECK(cond)                       plain check
 *   CHECK(cond, fmt, ...)             plain check, message on failure
 *   CHECK_CASE(cond, name, fmt, ...)  check inside a named table case: "[name]"
 *   CHECK_EQ_INT(got, want, what)     integer equality, prints both
 *   CHECK_PASS(fmt, ...)              outcome decided by the caller's own
 *   CHECK_FAIL(fmt, ...)              branching; PASS lines are printed too,
 *                                     for logs that are the only record (VM)
 *   return check_summary("name");     0 if all passed, 1 otherwise
 *
 * A test that ran no check at all fails: a summary over nothing proves
 * nothing. */
#ifndef RW_TEST_CHECK_H
#define RW_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

__attribute__((unused, format(printf, 1, 2))) static void check_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* Counts one failure and starts its line; the caller adds the message. */
__attribute__((unused)) static void check_fail_at(const char *file, int line, const char *what)
{
    check_failed++;
    fprintf(stderr, "%s:%d: FAIL %s", file, line, what);
}

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            check_passed++;                                                                    \
        } else {                                                                               \
            check_fail_at(__FILE__, __LINE__, #cond);                                          \
            __VA_OPT__(check_note(": "); check_note(__VA_ARGS__);)                             \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

#define CHECK_CASE(cond, name, ...)                                                            \
    do {                                                                                       \
        if (cond) {                                                                            \
            check_passed++;                                                                    \
        } else {                                                                               \
            check_fail_at(__FILE__, __LINE__, "");                                             \
            check_note("[%s] ", (name));                                                       \
            check_note(__VA_ARGS__);                                                           \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b, what)                                                               \
    CHECK((long long)(a) == (long long)(b), "%s: expected %lld, got %lld", (what),             \
          (long long)(b), (long long)(a))

#define CHECK_PASS(...)                                                                        \
    do {                                                                                       \
        check_passed++;                                                                        \
        printf("PASS: ");                                                                      \
        printf(__VA_ARGS__);                                                                   \
        putchar('\n');                                                                         \
        fflush(stdout);                                                                        \
    } while (0)

#define CHECK_FAIL(...)                                                                        \
    do {                                                                                       \
        check_fail_at(__FILE__, __LINE__, "");                                                 \
        check_note(__VA_ARGS__);                                                               \
        fputc('\n', stderr);                                                                   \
    } while (0)

__attribute__((unused)) static int check_summary(const char *name)
{
    if (check_passed + check_failed == 0) {
        fprintf(stderr, "%s: FAIL no check ran\n", name);
        check_failed++;
    }
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
