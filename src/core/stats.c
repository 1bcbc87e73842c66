#include "core/stats.h"

void rw_stats_add(rw_stats *sum, const rw_stats *s)
{
    uint64_t *d = (uint64_t *)sum;
    const uint64_t *a = (const uint64_t *)s;
    for (unsigned i = 0; i < sizeof(rw_stats) / sizeof(uint64_t); i++)
        d[i] += a[i];
}
