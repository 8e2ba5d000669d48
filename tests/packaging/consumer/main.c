// SPDX-License-Identifier: MIT
/* Uses the installed libmockit through its C ABI only: a one-off timer whose callback runs
 * on the library's thread, with a context and a destructor. Prints what it saw; the test
 * compares the output, and the exit status is 1 when anything went wrong. */
#include <mockit/mockit.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_int fired;
static atomic_int destroyed;

static void on_expiry(mockit_timer* timer, void* ctx) {
    (void)timer;
    atomic_fetch_add(&fired, *(const int*)ctx);
}

static void on_destroy(void* ctx) {
    (void)ctx;
    atomic_fetch_add(&destroyed, 1);
}

int main(void) {
    static const int one = 1;
    mockit_timer* timer = NULL;
    int rc;

    printf("mockit %s\n", mockit_version());
    if (mockit_mstimestamp() <= 0) return 1;
    if (mockit_timer_create(NULL, MOCKIT_ONEOFF, 5, on_expiry, NULL, NULL) != MOCKIT_EINVAL)
        return 1;

    rc = mockit_timer_create(&timer, MOCKIT_ONEOFF, 5, on_expiry, (void*)&one, on_destroy);
    if (rc == MOCKIT_OK) rc = mockit_timer_arm(timer);
    if (rc != MOCKIT_OK) {
        fprintf(stderr, "consumer_c: %s\n", mockit_strerror(rc));
        return 1;
    }
    /* Generous: a loaded machine may run the callback late, never early. */
    for (int i = 0; i < 500 && atomic_load(&fired) == 0; ++i)
        mockit_sleep(10, 1, NULL);
    mockit_timer_destroy(timer);

    printf("fired %d\n", atomic_load(&fired));
    printf("destroyed %d\n", atomic_load(&destroyed));
    return atomic_load(&fired) == 1 && atomic_load(&destroyed) == 1 ? 0 : 1;
}
