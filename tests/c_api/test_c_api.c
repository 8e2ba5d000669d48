// SPDX-License-Identifier: MIT
/* The C ABI of libmockit, exercised from plain C11 against the shared library: clocks, sleep
 * (with and without signals), argument checking, error strings, and one-off and interval
 * timers with their callbacks, contexts and destructors.
 *
 * No test framework: each case is a function; CHECK records a failure (file:line and the
 * expression) and goes on, REQUIRE also ends the case. Timing is only ever asserted as counts
 * and order with generous bounds, never as exact milliseconds (CI boxes are noisy).
 *
 * Signals: SIGALRM is blocked in the main thread from the start, so the library's threads
 * (created on the first mockit_timer_create) inherit the block, and the process-directed
 * SIGALRM of setitimer() can only reach the main thread, which unblocks it just for the sleep
 * cases. */
#define _XOPEN_SOURCE 700

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mockit/mockit.h"

#ifndef MOCKIT_EXPECTED_VERSION
#define MOCKIT_EXPECTED_VERSION "0.1.0"
#endif

static int case_failed;

#define CHECK(expr)                                                                  \
    do {                                                                             \
        if (!(expr)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
            case_failed = 1;                                                         \
        }                                                                            \
    } while (0)

#define REQUIRE(expr)                                                                  \
    do {                                                                               \
        if (!(expr)) {                                                                 \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #expr); \
            case_failed = 1;                                                           \
            return;                                                                    \
        }                                                                              \
    } while (0)

/* ---- helpers ----------------------------------------------------------------------------- */

static pthread_t main_thread;

static int64_t elapsed_ms_since(int64_t start_ns) {
    return (mockit_hrtime() - start_ns) / 1000000;
}

/* Polls `counter` in 5 ms steps until it reaches `target` or `timeout_ms` passes. */
static int wait_for_count(atomic_int* counter, int target, int64_t timeout_ms) {
    int64_t start = mockit_hrtime();
    while (atomic_load(counter) < target) {
        if (elapsed_ms_since(start) > timeout_ms) return 0;
        mockit_sleep(5, 1, NULL);
    }
    return 1;
}

static void noop_callback(mockit_timer* timer, void* ctx) {
    (void)timer;
    (void)ctx;
}

/* ---- clocks and sleep -------------------------------------------------------------------- */

static void test_time_and_mstimestamp(void) {
    int64_t secs = 0;
    int32_t ms = -1;
    CHECK(mockit_time(&secs, &ms) == MOCKIT_OK);
    int64_t stamp = mockit_mstimestamp();
    CHECK(ms >= 0 && ms < 1000);
    int64_t from_tuple = secs * 1000 + ms;
    CHECK(from_tuple > (int64_t)1600000000000);
    CHECK(stamp > (int64_t)1600000000000);
    int64_t diff = stamp - from_tuple;
    CHECK(diff >= -1000 && diff <= 1000);
    CHECK(mockit_time(NULL, &ms) == MOCKIT_EINVAL);
    CHECK(mockit_time(&secs, NULL) == MOCKIT_EINVAL);
}

static void test_hrtime_monotonic(void) {
    int64_t previous = mockit_hrtime();
    CHECK(previous > 0);
    for (int i = 0; i < 100000; ++i) {
        int64_t now = mockit_hrtime();
        if (now < previous) {
            CHECK(now >= previous);
            break;
        }
        previous = now;
    }
}

static void test_sleep_completes(void) {
    uint64_t left = 12345;
    int64_t start = mockit_hrtime();
    int rc = mockit_sleep(30, 1, &left);
    int64_t elapsed_ns = mockit_hrtime() - start;
    CHECK(rc == MOCKIT_OK);
    CHECK(left == 0);
    CHECK(elapsed_ns >= (int64_t)30 * 1000000);

    left = 12345;
    CHECK(mockit_sleep(0, 0, &left) == MOCKIT_OK);
    CHECK(left == 0);
    CHECK(mockit_sleep(MOCKIT_MAX_DELAY_MS + 1, 1, NULL) == MOCKIT_ERANGE);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int signo) {
    (void)signo;
    alarms = alarms + 1;
}

/* SIGALRM every 50 ms from 50 ms on (repeating, so a main thread that is slow to start its
 * sleep still gets interrupted within it), through a handler without SA_RESTART, unblocked
 * in this thread only. */
struct alarm_setup {
    struct sigaction previous_action;
    sigset_t previous_mask;
};

static void start_alarms(struct alarm_setup* setup) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; /* no SA_RESTART */
    sigaction(SIGALRM, &action, &setup->previous_action);
    alarms = 0;
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &alrm, &setup->previous_mask);
    struct itimerval every_50ms = {{0, 50000}, {0, 50000}};
    setitimer(ITIMER_REAL, &every_50ms, NULL);
}

static void stop_alarms(struct alarm_setup* setup) {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    pthread_sigmask(SIG_SETMASK, &setup->previous_mask, NULL);
    sigaction(SIGALRM, &setup->previous_action, NULL);
}

static void test_sleep_interrupted(void) {
    struct alarm_setup setup;
    start_alarms(&setup);
    uint64_t left = 0;
    int64_t start = mockit_hrtime();
    int rc = mockit_sleep(2000, 0, &left);
    int64_t elapsed = elapsed_ms_since(start);
    stop_alarms(&setup);
    CHECK(alarms >= 1);
    CHECK(rc == MOCKIT_EINTR);
    CHECK(left >= 1 && left <= 1990);
    /* `left` is what remained of the deadline when the handler ended the sleep. */
    CHECK((int64_t)left + elapsed >= 1999);
}

static void test_sleep_resumed(void) {
    struct alarm_setup setup;
    start_alarms(&setup);
    uint64_t left = 12345;
    int64_t start = mockit_hrtime();
    int rc = mockit_sleep(300, 1, &left);
    int64_t elapsed_ns = mockit_hrtime() - start;
    stop_alarms(&setup);
    CHECK(alarms >= 1); /* it really was interrupted, and resumed */
    CHECK(rc == MOCKIT_OK);
    CHECK(left == 0);
    CHECK(elapsed_ns >= (int64_t)300 * 1000000);
}

/* ---- arguments and errors ---------------------------------------------------------------- */

static void test_bad_input(void) {
    mockit_timer* timer = NULL;
    CHECK(mockit_timer_create(NULL, MOCKIT_ONEOFF, 10, noop_callback, NULL, NULL) == MOCKIT_EINVAL);
    CHECK(mockit_timer_create(&timer, MOCKIT_ONEOFF, 10, NULL, NULL, NULL) == MOCKIT_EINVAL);
    CHECK(mockit_timer_create(&timer, 7, 10, noop_callback, NULL, NULL) == MOCKIT_EINVAL);
    CHECK(mockit_timer_create(&timer, MOCKIT_ONEOFF, MOCKIT_MAX_DELAY_MS + 1, noop_callback, NULL,
                              NULL) == MOCKIT_ERANGE);
    CHECK(mockit_timer_create(&timer, MOCKIT_INTERVAL, MOCKIT_MAX_DELAY_MS + 1, noop_callback, NULL,
                              NULL) == MOCKIT_ERANGE);
    CHECK(mockit_timer_create(&timer, MOCKIT_INTERVAL, 0, noop_callback, NULL, NULL) ==
          MOCKIT_EINVAL);
    CHECK(timer == NULL); /* no failed create wrote *out */

    CHECK(mockit_timer_arm(NULL) == MOCKIT_EINVAL);
    CHECK(mockit_timer_rearm(NULL, 10) == MOCKIT_EINVAL);
    CHECK(mockit_timer_disarm(NULL) == MOCKIT_EINVAL);
    CHECK(mockit_timer_armed(NULL) == MOCKIT_EINVAL);
    CHECK(mockit_timer_destroy(NULL) == MOCKIT_OK);

    /* The longest delay is accepted; a never-armed timer cannot be disarmed. */
    REQUIRE(mockit_timer_create(&timer, MOCKIT_ONEOFF, MOCKIT_MAX_DELAY_MS, noop_callback, NULL,
                                NULL) == MOCKIT_OK);
    REQUIRE(timer != NULL);
    CHECK(mockit_timer_armed(timer) == 0);
    CHECK(mockit_timer_disarm(timer) == MOCKIT_ENOENT);
    CHECK(mockit_timer_rearm(timer, MOCKIT_MAX_DELAY_MS + 1) == MOCKIT_ERANGE);
    CHECK(mockit_timer_armed(timer) == 0);
    CHECK(mockit_timer_arm(timer) == MOCKIT_OK);
    CHECK(mockit_timer_armed(timer) == 1);
    CHECK(mockit_timer_disarm(timer) == MOCKIT_OK);
    CHECK(mockit_timer_armed(timer) == 0);
    CHECK(mockit_timer_disarm(timer) == MOCKIT_ENOENT);
    CHECK(mockit_timer_destroy(timer) == MOCKIT_OK);

    mockit_timer* interval = NULL;
    REQUIRE(mockit_timer_create(&interval, MOCKIT_INTERVAL, 1000, noop_callback, NULL, NULL) ==
            MOCKIT_OK);
    CHECK(mockit_timer_rearm(interval, 0) == MOCKIT_EINVAL);
    CHECK(mockit_timer_armed(interval) == 0);
    CHECK(mockit_timer_destroy(interval) == MOCKIT_OK);
}

static void test_strerror(void) {
    const int codes[] = {MOCKIT_OK,    MOCKIT_EINVAL, MOCKIT_ERANGE, MOCKIT_ENOENT,
                         MOCKIT_EINTR, MOCKIT_ENOMEM, MOCKIT_ESYSTEM};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; ++i) {
        const char* text = mockit_strerror(codes[i]);
        CHECK(text != NULL && text[0] != '\0');
        if (codes[i] != MOCKIT_OK) CHECK(text != NULL && strcmp(text, "unknown error") != 0);
    }
    CHECK(strcmp(mockit_strerror(5), "unknown error") == 0);
    CHECK(strcmp(mockit_strerror(-99), "unknown error") == 0);
    CHECK(strcmp(mockit_strerror(MOCKIT_ESYSTEM - 1), "unknown error") == 0);
}

static void test_version(void) {
    const char* version = mockit_version();
    REQUIRE(version != NULL);
    CHECK(version[0] != '\0');
    unsigned major = 0, minor = 0, patch = 0;
    int end = 0;
    CHECK(sscanf(version, "%u.%u.%u%n", &major, &minor, &patch, &end) == 3);
    CHECK(end > 0 && version[end] == '\0');
    CHECK(strcmp(version, MOCKIT_EXPECTED_VERSION) == 0);
}

/* ---- one-off timers ---------------------------------------------------------------------- */

struct oneoff_probe {
    atomic_int calls;
    /* Written by the callback before it bumps `calls`; read after `calls` is seen. */
    void* seen_ctx;
    mockit_timer* seen_timer;
    int on_main_thread;
};

static void oneoff_callback(mockit_timer* timer, void* ctx) {
    struct oneoff_probe* probe = ctx;
    probe->seen_ctx = ctx;
    probe->seen_timer = timer;
    probe->on_main_thread = pthread_equal(pthread_self(), main_thread) ? 1 : 0;
    atomic_fetch_add(&probe->calls, 1);
}

static void test_oneoff_fires_once(void) {
    static struct oneoff_probe probe;
    atomic_init(&probe.calls, 0);
    probe.on_main_thread = -1;
    mockit_timer* timer = NULL;
    REQUIRE(mockit_timer_create(&timer, MOCKIT_ONEOFF, 20, oneoff_callback, &probe, NULL) ==
            MOCKIT_OK);
    CHECK(mockit_timer_arm(timer) == MOCKIT_OK);
    CHECK(wait_for_count(&probe.calls, 1, 3000));
    mockit_sleep(100, 1, NULL);
    CHECK(atomic_load(&probe.calls) == 1);
    CHECK(probe.seen_ctx == (void*)&probe);
    CHECK(probe.seen_timer == timer);
    CHECK(probe.on_main_thread == 0);

    /* Fired: disarmed, and arming again fires it again. */
    CHECK(mockit_timer_armed(timer) == 0);
    CHECK(mockit_timer_disarm(timer) == MOCKIT_ENOENT);
    CHECK(mockit_timer_arm(timer) == MOCKIT_OK);
    CHECK(wait_for_count(&probe.calls, 2, 3000));
    mockit_sleep(100, 1, NULL);
    CHECK(atomic_load(&probe.calls) == 2);
    CHECK(mockit_timer_armed(timer) == 0);
    CHECK(mockit_timer_destroy(timer) == MOCKIT_OK);
}

/* ---- interval timers --------------------------------------------------------------------- */

static void counting_callback(mockit_timer* timer, void* ctx) {
    (void)timer;
    atomic_fetch_add((atomic_int*)ctx, 1);
}

static void test_interval_and_disarm(void) {
    static atomic_int calls;
    atomic_init(&calls, 0);
    mockit_timer* timer = NULL;
    REQUIRE(mockit_timer_create(&timer, MOCKIT_INTERVAL, 10, counting_callback, &calls, NULL) ==
            MOCKIT_OK);
    CHECK(mockit_timer_arm(timer) == MOCKIT_OK);
    CHECK(wait_for_count(&calls, 5, 3000));
    CHECK(mockit_timer_armed(timer) == 1); /* an interval stays armed */
    CHECK(mockit_timer_disarm(timer) == MOCKIT_OK);
    int after_disarm = atomic_load(&calls);
    mockit_sleep(100, 1, NULL);
    CHECK(atomic_load(&calls) == after_disarm);
    CHECK(mockit_timer_armed(timer) == 0);
    CHECK(mockit_timer_destroy(timer) == MOCKIT_OK);
}

/* ---- destructors ------------------------------------------------------------------------- */

struct dtor_probe {
    atomic_int callbacks;
    atomic_int destructions;
    atomic_int destroy_rc;
    void* destroyed_ctx;
};

static void dtor_probe_destructor(void* ctx) {
    struct dtor_probe* probe = ctx;
    probe->destroyed_ctx = ctx;
    atomic_fetch_add(&probe->destructions, 1);
}

static void test_destroy_calls_destructor(void) {
    static struct dtor_probe probe;
    atomic_init(&probe.callbacks, 0);
    atomic_init(&probe.destructions, 0);
    probe.destroyed_ctx = NULL;
    mockit_timer* timer = NULL;
    REQUIRE(mockit_timer_create(&timer, MOCKIT_ONEOFF, 3600000, noop_callback, &probe,
                                dtor_probe_destructor) == MOCKIT_OK);
    CHECK(mockit_timer_arm(timer) == MOCKIT_OK); /* destroying an armed timer disarms it */
    CHECK(atomic_load(&probe.destructions) == 0);
    CHECK(mockit_timer_destroy(timer) == MOCKIT_OK);
    CHECK(atomic_load(&probe.destructions) == 1); /* called before destroy returns */
    CHECK(probe.destroyed_ctx == (void*)&probe);
    mockit_sleep(50, 1, NULL);
    CHECK(atomic_load(&probe.destructions) == 1);
}

static void self_destroying_callback(mockit_timer* timer, void* ctx) {
    struct dtor_probe* probe = ctx;
    atomic_fetch_add(&probe->callbacks, 1);
    atomic_store(&probe->destroy_rc, mockit_timer_destroy(timer));
}

static void test_callback_destroys_its_timer(void) {
    static struct dtor_probe probe;
    atomic_init(&probe.callbacks, 0);
    atomic_init(&probe.destructions, 0);
    atomic_init(&probe.destroy_rc, 12345);
    probe.destroyed_ctx = NULL;
    mockit_timer* timer = NULL;
    REQUIRE(mockit_timer_create(&timer, MOCKIT_INTERVAL, 5, self_destroying_callback, &probe,
                                dtor_probe_destructor) == MOCKIT_OK);
    CHECK(mockit_timer_arm(timer) == MOCKIT_OK);
    CHECK(wait_for_count(&probe.destructions, 1, 3000));
    mockit_sleep(100, 1, NULL); /* 20 more intervals, had it survived */
    CHECK(atomic_load(&probe.callbacks) == 1);
    CHECK(atomic_load(&probe.destructions) == 1);
    CHECK(atomic_load(&probe.destroy_rc) == MOCKIT_OK);
    CHECK(probe.destroyed_ctx == (void*)&probe);
}

/* ---- disarm waits for a running callback ------------------------------------------------- */

struct slow_probe {
    atomic_int started;
    atomic_int finished;
    atomic_int calls;
};

static void slow_callback(mockit_timer* timer, void* ctx) {
    (void)timer;
    struct slow_probe* probe = ctx;
    atomic_fetch_add(&probe->calls, 1);
    atomic_store(&probe->started, 1);
    mockit_sleep(100, 1, NULL);
    atomic_store(&probe->finished, 1);
}

static void test_disarm_waits_for_callback(void) {
    static struct slow_probe probe;
    atomic_init(&probe.started, 0);
    atomic_init(&probe.finished, 0);
    atomic_init(&probe.calls, 0);
    mockit_timer* timer = NULL;
    REQUIRE(mockit_timer_create(&timer, MOCKIT_INTERVAL, 10, slow_callback, &probe, NULL) ==
            MOCKIT_OK);
    CHECK(mockit_timer_arm(timer) == MOCKIT_OK);
    /* Watch closely (1 ms steps) so disarm comes while the callback is inside its sleep. */
    int64_t start = mockit_hrtime();
    while (atomic_load(&probe.started) == 0 && elapsed_ms_since(start) < 3000) {
        mockit_sleep(1, 1, NULL);
    }
    REQUIRE(atomic_load(&probe.started) == 1);
    int was_finished = atomic_load(&probe.finished);
    int rc = mockit_timer_disarm(timer);
    int finished_at_return = atomic_load(&probe.finished);
    CHECK(rc == MOCKIT_OK);
    CHECK(finished_at_return == 1);
    int calls = atomic_load(&probe.calls);
    mockit_sleep(100, 1, NULL);
    CHECK(atomic_load(&probe.calls) == calls);
    CHECK(mockit_timer_destroy(timer) == MOCKIT_OK);
    if (was_finished) {
        printf("  note: the callback had finished before disarm was called (slow machine)\n");
    }
}

/* ---- a callback that re-arms its timer while another thread stops it ------------------- */

struct rearm_probe {
    atomic_int calls;
    atomic_int after_stop; /* calls that began after the stop returned */
    atomic_int stopped;
    atomic_int destructed;
};

static void rearm_callback(mockit_timer* timer, void* ctx) {
    struct rearm_probe* probe = ctx;
    if (atomic_load(&probe->stopped)) atomic_fetch_add(&probe->after_stop, 1);
    atomic_fetch_add(&probe->calls, 1);
    mockit_sleep(2, 1, NULL); /* still inside when the other thread stops it */
    mockit_timer_arm(timer);  /* a one-off chained to itself, as setTimeout chains are */
}

static void rearm_destructor(void* ctx) {
    atomic_fetch_add(&((struct rearm_probe*)ctx)->destructed, 1);
}

/* Disarm (or destroy) is final even while the callback re-arms its timer, at 0 or 1 ms. */
static void stop_rearming_timer(int delay_ms, int destroy) {
    for (int round = 0; round < 20; ++round) {
        static struct rearm_probe probe;
        atomic_init(&probe.calls, 0);
        atomic_init(&probe.after_stop, 0);
        atomic_init(&probe.stopped, 0);
        atomic_init(&probe.destructed, 0);
        mockit_timer* timer = NULL;
        REQUIRE(mockit_timer_create(&timer, MOCKIT_ONEOFF, (uint64_t)delay_ms, rearm_callback,
                                    &probe, rearm_destructor) == MOCKIT_OK);
        CHECK(mockit_timer_arm(timer) == MOCKIT_OK);
        REQUIRE(wait_for_count(&probe.calls, 1, 3000));
        if (destroy) {
            CHECK(mockit_timer_destroy(timer) == MOCKIT_OK);
        } else {
            int rc = mockit_timer_disarm(timer); /* ENOENT: caught while running, not armed */
            CHECK(rc == MOCKIT_OK || rc == MOCKIT_ENOENT);
        }
        atomic_store(&probe.stopped, 1);
        mockit_sleep(10, 1, NULL);
        CHECK(atomic_load(&probe.after_stop) == 0);
        if (destroy) {
            CHECK(atomic_load(&probe.destructed) == 1);
        } else {
            CHECK(mockit_timer_armed(timer) == 0);
            CHECK(mockit_timer_destroy(timer) == MOCKIT_OK);
        }
    }
}

static void test_destroy_beats_rearm(void) {
    stop_rearming_timer(0, 1);
    stop_rearming_timer(1, 1);
}

static void test_disarm_beats_rearm(void) {
    stop_rearming_timer(0, 0);
    stop_rearming_timer(1, 0);
}

/* ---- exit ---------------------------------------------------------------------------------- */

/* Child modes of this program (see main): each ends the process its own way. */
static void exit_from_callback(mockit_timer* timer, void* ctx) {
    (void)timer;
    (void)ctx;
    exit(7);
}

enum { chained_timers = 64 };
static mockit_timer* chained[chained_timers];
static int chained_destructed;

/* A context that owns the next timer: destroying it destroys that one. */
static void chained_destructor(void* ctx) {
    intptr_t i = (intptr_t)ctx;
    if (++chained_destructed == chained_timers) {
        static const char done[] = "all destructed\n";
        (void)!write(STDOUT_FILENO, done, sizeof done - 1);
    }
    if (i + 1 < chained_timers && chained[i + 1] != NULL) {
        mockit_timer* next = chained[i + 1];
        chained[i + 1] = NULL;
        mockit_timer_destroy(next);
    }
}

static int run_child_mode(const char* mode) {
    mockit_timer* timer = NULL;
    if (strcmp(mode, "--exit-from-callback") == 0) {
        mockit_timer_create(&timer, MOCKIT_ONEOFF, 1, exit_from_callback, NULL, NULL);
        mockit_timer_arm(timer);
        mockit_sleep(5000, 1, NULL);
        return 1; /* the callback should have exited */
    }
    if (strcmp(mode, "--exit-with-chained-timers") == 0) {
        for (intptr_t i = 0; i < chained_timers; ++i) {
            mockit_timer_create(&chained[i], MOCKIT_INTERVAL, 1000, noop_callback, (void*)i,
                                chained_destructor);
            mockit_timer_arm(chained[i]);
        }
        return 0; /* exit() destroys them, each destructor the next timer */
    }
    return 2;
}

static const char* program;

/* Runs this program in `mode`; returns its exit status (-1 when it did not exit) and its first
 * line of output in `line`. */
static int run_child(const char* mode, char* line, size_t size) {
    char command[4096];
    snprintf(command, sizeof command, "'%s' %s", program, mode);
    FILE* out = popen(command, "r");
    if (out == NULL) return -1;
    line[0] = '\0';
    if (fgets(line, (int)size, out) == NULL) line[0] = '\0';
    int status = pclose(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_exit_from_callback(void) {
    char line[128];
    CHECK(run_child("--exit-from-callback", line, sizeof line) == 7);
}

static void test_exit_destroys_chained_timers(void) {
    char line[128];
    CHECK(run_child("--exit-with-chained-timers", line, sizeof line) == 0);
    CHECK(strcmp(line, "all destructed\n") == 0);
}

/* ---- order --------------------------------------------------------------------------------- */

enum { order_timers = 100 };

static pthread_mutex_t order_mutex = PTHREAD_MUTEX_INITIALIZER;
static int order_fired[order_timers];
static atomic_int order_count;
static int order_delays[order_timers];

static void order_callback(mockit_timer* timer, void* ctx) {
    (void)timer;
    int delay = *(const int*)ctx;
    pthread_mutex_lock(&order_mutex);
    int n = atomic_load(&order_count);
    if (n < order_timers) order_fired[n] = delay;
    atomic_store(&order_count, n + 1);
    pthread_mutex_unlock(&order_mutex);
}

static void test_oneoffs_fire_in_delay_order(void) {
    mockit_timer* timers[order_timers] = {NULL};
    atomic_init(&order_count, 0);
    /* Armed in ascending order of delay, so the deadlines (arm time + delay) strictly increase
     * however slowly the arming goes. */
    for (int i = 0; i < order_timers; ++i) {
        order_delays[i] = i + 1;
        REQUIRE(mockit_timer_create(&timers[i], MOCKIT_ONEOFF, (uint64_t)(i + 1), order_callback,
                                    &order_delays[i], NULL) == MOCKIT_OK);
    }
    for (int i = 0; i < order_timers; ++i)
        CHECK(mockit_timer_arm(timers[i]) == MOCKIT_OK);
    CHECK(wait_for_count(&order_count, order_timers, 5000));
    mockit_sleep(100, 1, NULL);
    CHECK(atomic_load(&order_count) == order_timers);
    pthread_mutex_lock(&order_mutex);
    int in_order = 1;
    for (int i = 0; i < order_timers; ++i) {
        if (order_fired[i] != i + 1) {
            fprintf(stderr, "  position %d fired the %d ms timer\n", i, order_fired[i]);
            in_order = 0;
            break;
        }
    }
    pthread_mutex_unlock(&order_mutex);
    CHECK(in_order);
    for (int i = 0; i < order_timers; ++i)
        CHECK(mockit_timer_destroy(timers[i]) == MOCKIT_OK);
}

/* ---- driver -------------------------------------------------------------------------------- */

struct test_case {
    const char* name;
    void (*run)(void);
};

int main(int argc, char** argv) {
    if (argc > 1) return run_child_mode(argv[1]);
    program = argv[0];
    main_thread = pthread_self();
    setvbuf(stdout, NULL, _IOLBF, 0);

    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL);

    static const struct test_case cases[] = {
        {"time and mstimestamp agree", test_time_and_mstimestamp},
        {"hrtime is monotonic", test_hrtime_monotonic},
        {"sleep completes", test_sleep_completes},
        {"sleep interrupted by a signal", test_sleep_interrupted},
        {"sleep resumed after a signal", test_sleep_resumed},
        {"bad input", test_bad_input},
        {"strerror", test_strerror},
        {"version", test_version},
        {"one-off fires once, and again when re-armed", test_oneoff_fires_once},
        {"interval repeats until disarmed", test_interval_and_disarm},
        {"destroy calls the destructor once", test_destroy_calls_destructor},
        {"callback destroys its own timer", test_callback_destroys_its_timer},
        {"disarm waits for a running callback", test_disarm_waits_for_callback},
        {"100 one-offs fire in delay order", test_oneoffs_fire_in_delay_order},
        {"destroy is final while the callback re-arms its timer", test_destroy_beats_rearm},
        {"disarm is final while the callback re-arms its timer", test_disarm_beats_rearm},
        {"exit() from a callback exits with its status", test_exit_from_callback},
        {"exit() destroys the timers left, destructors destroying others",
         test_exit_destroys_chained_timers},
    };
    int passed = 0;
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        case_failed = 0;
        cases[i].run();
        printf("%s: %s\n", case_failed ? "FAIL" : "ok  ", cases[i].name);
        if (case_failed) {
            ++failed;
        } else {
            ++passed;
        }
    }
    printf("c_api: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
