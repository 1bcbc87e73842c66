/* Named-case assertions for the table-driven HTTP/1 tests: each failure
 * prints file:line, the case name and expected vs got; the file's main()
 * prints "NAME: g_pass passed, g_fail failed". */
#ifndef RW_TEST_CHECK_NAMED_H
#define RW_TEST_CHECK_NAMED_H

#include <stdio.h>

static int g_pass, g_fail;

#define CHECK(cond, name, ...)                                                                   \
    do {                                                                                         \
        if (cond) {                                                                              \
            g_pass++;                                                                            \
        } else {                                                                                 \
            g_fail++;                                                                            \
            printf("%s:%d: [%s] ", __FILE__, __LINE__, (name));                                  \
            printf(__VA_ARGS__);                                                                 \
            printf("\n");                                                                        \
        }                                                                                        \
    } while (0)

#endif
