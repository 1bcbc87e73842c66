/* Minimal assertion helpers for the C unit tests: count, print failures
 * with file:line, and end with "NAME: N passed, M failed". */
#ifndef RW_TEST_CHECK_H
#define RW_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            check_passed++;                                                                    \
        } else {                                                                               \
            check_failed++;                                                                    \
            fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond);                    \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b, what)                                                               \
    CHECK((long long)(a) == (long long)(b), "%s: expected %lld, got %lld", (what),             \
          (long long)(b), (long long)(a))

static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
