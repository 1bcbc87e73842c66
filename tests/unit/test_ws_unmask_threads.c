/* Unmasking from several threads at once with no call before them, as the
 * workers do at start-up: every thread must get the scalar twin's bytes.
 * CMake also builds this file with -fsanitize=thread (test_ws_unmask_tsan),
 * where a lazily initialised CPU-feature flag shows up as a data race. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ws/ws_unmask.h"

#define NTHREADS 8
#define LEN 4096 /* long enough for the widest SIMD path */

static pthread_barrier_t g_start;

static void *unmask_thread(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    static _Thread_local uint8_t src[LEN], wide[LEN], scalar[LEN];
    const uint8_t key[RW_WS_MASK_LEN] = { (uint8_t)seed, 0x5a, 0xa5, (uint8_t)(seed * 7) };
    for (size_t i = 0; i < LEN; i++)
        src[i] = (uint8_t)(i * 31 + seed);
    pthread_barrier_wait(&g_start); /* all first calls together */
    unsigned pw = rw_ws_unmask_copy(wide, src, LEN, key, seed & 3);
    unsigned ps = rw_ws_unmask_scalar(scalar, src, LEN, key, seed & 3);
    return (void *)(uintptr_t)(pw == ps && memcmp(wide, scalar, LEN) == 0);
}

int main(void)
{
    pthread_t t[NTHREADS];
    pthread_barrier_init(&g_start, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, unmask_thread, (void *)(uintptr_t)(i + 1)) == 0,
              "pthread_create %d", i);
    for (int i = 0; i < NTHREADS; i++) {
        void *ok = NULL;
        pthread_join(t[i], &ok);
        CHECK(ok == (void *)1, "thread %d: wide path differs from the scalar twin", i);
    }
    pthread_barrier_destroy(&g_start);
    return check_summary("test_ws_unmask_threads");
}
