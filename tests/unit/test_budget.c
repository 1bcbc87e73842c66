/* core/budget: takes fit or fail whole, gives restore, the limit holds
 * under two threads racing. */
#include <pthread.h>

#include "check.h"
#include "core/budget.h"

static rw_budget shared;
#define RACE_ROUNDS 200000

static void *racer(void *arg)
{
    (void)arg;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        if (rw_budget_take(&shared, 3)) {
            if (rw_budget_held(&shared) > shared.limit)
                return (void *)1;
            rw_budget_give(&shared, 3);
        }
    }
    return NULL;
}

int main(void)
{
    rw_budget b;
    rw_budget_init(&b, 100);
    CHECK(rw_budget_take(&b, 0), "zero always fits");
    CHECK(rw_budget_take(&b, 60), "60 of 100");
    CHECK(!rw_budget_take(&b, 41), "41 more passes the limit");
    CHECK(rw_budget_held(&b) == 60, "a refused take takes nothing");
    CHECK(rw_budget_take(&b, 40), "exactly the limit fits");
    CHECK(!rw_budget_take(&b, 1), "full");
    CHECK(!rw_budget_take(&b, UINT64_MAX), "no wrap-around");
    rw_budget_give(&b, 100);
    CHECK(rw_budget_held(&b) == 0, "all given back");
    CHECK(b.peak == 100 && b.refused == 3, "peak %llu refused %llu",
          (unsigned long long)b.peak, (unsigned long long)b.refused);
    CHECK(!rw_budget_take(&b, 101), "bigger than the limit alone");

    rw_budget u;
    rw_budget_init(&u, 0);
    CHECK(rw_budget_take(&u, (uint64_t)1 << 50), "0 = unlimited");

    rw_budget_init(&shared, 10); /* room for 3 takes of 3, never 4 */
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, racer, NULL);
    void *r0, *r1;
    pthread_join(t[0], &r0);
    pthread_join(t[1], &r1);
    CHECK(!r0 && !r1 && rw_budget_held(&shared) == 0, "limit held under a race, all returned");
    return check_summary("budget");
}
