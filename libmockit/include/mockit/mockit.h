// SPDX-License-Identifier: MIT
/* mockit C ABI: clocks, a millisecond sleep, and one-off and interval timers with callbacks,
 * for plain C programs (the seed's C library).
 *
 * Timers
 * ------
 * A timer is created disarmed with its callback, a context pointer and an optional destructor
 * for that context, then armed. An armed one-off calls its callback once, `ms` after it was
 * armed, and is then disarmed (arm it again to reuse it). An armed interval timer calls its
 * callback every `ms` on an absolute schedule (armed_at + k*ms), so it never drifts; if
 * callbacks fall behind, the missed calls are made in a burst, one per expiry.
 *
 * Callbacks run on the library's thread: one thread for every timer of the process,
 * one callback at a time, never on the thread that armed the timer. Keep them short, or hand
 * the work to a thread of your own. A callback may arm, disarm or destroy any timer,
 * including its own.
 *
 * mockit_timer_disarm() and mockit_timer_destroy() are final: once they return, the callback
 * is not running (unless the caller is that callback) and will not run again. An arm made while
 * another thread disarms or destroys the timer (its callback re-arming it, say) counts as made
 * before that disarm: it returns MOCKIT_OK and arms nothing. destroy() then calls the destructor
 * with the context; called from the timer's own callback, it does that as soon as the callback
 * returns. Timers still alive at exit() are destroyed then, their destructors called; a
 * destructor may destroy other timers.
 *
 * After fork(), the child has no library thread: its timers do not fire there.
 *
 * Errors are negative ints (MOCKIT_E*); mockit_strerror() names them. No function aborts or
 * lets a C++ exception escape.
 */
#ifndef MOCKIT_H
#define MOCKIT_H

#include <stdint.h>

#include "mockit/export.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    MOCKIT_OK = 0,
    MOCKIT_EINVAL = -1, /* null pointer, missing callback, zero interval, bad kind */
    MOCKIT_ERANGE = -2, /* ms beyond MOCKIT_MAX_DELAY_MS */
    MOCKIT_ENOENT = -3, /* the timer is not armed */
    MOCKIT_EINTR = -4,  /* a signal handler ended a sleep early */
    MOCKIT_ENOMEM = -5, /* out of memory */
    MOCKIT_ESYSTEM = -6 /* the operating system refused (threads, eventfd); see errno */
};

/* The longest delay or interval: 2^40 ms, about 34.8 years. */
#define MOCKIT_MAX_DELAY_MS ((uint64_t)1 << 40)

typedef enum mockit_timer_kind { MOCKIT_ONEOFF = 0, MOCKIT_INTERVAL = 1 } mockit_timer_kind;

typedef struct mockit_timer mockit_timer;
typedef void (*mockit_callback)(mockit_timer* timer, void* ctx);
typedef void (*mockit_destructor)(void* ctx);

/* Wall-clock time as seconds since the Unix epoch and milliseconds since that second. */
MOCKIT_API int mockit_time(int64_t* secs, int32_t* ms);
/* Milliseconds since the Unix epoch. */
MOCKIT_API int64_t mockit_mstimestamp(void);
/* Monotonic nanoseconds (unaffected by wall-clock changes). */
MOCKIT_API int64_t mockit_hrtime(void);

/* Sleeps `ms` against an absolute deadline (never oversleeps). With `resume` non-zero it always
 * completes; otherwise a signal handler ends it early with MOCKIT_EINTR, and *ms_left (if not
 * null) receives the time that was left. */
MOCKIT_API int mockit_sleep(uint64_t ms, int resume, uint64_t* ms_left);

/* Creates a disarmed timer. `kind` is MOCKIT_ONEOFF or MOCKIT_INTERVAL (an int, so any other
 * value a C caller passes is rejected with MOCKIT_EINVAL rather than being undefined in C++).
 * `dtor` may be null. On success *out holds the timer. */
MOCKIT_API int mockit_timer_create(mockit_timer** out, int kind, uint64_t ms, mockit_callback cb,
                                   void* ctx, mockit_destructor dtor);
/* Starts (or restarts) the countdown from now. */
MOCKIT_API int mockit_timer_arm(mockit_timer* timer);
/* Like arm, with a new delay (one-off) or interval. */
MOCKIT_API int mockit_timer_rearm(mockit_timer* timer, uint64_t ms);
/* Stops the countdown; MOCKIT_ENOENT when it was not armed. */
MOCKIT_API int mockit_timer_disarm(mockit_timer* timer);
/* 1 when armed, 0 when not, MOCKIT_EINVAL for a null timer. */
MOCKIT_API int mockit_timer_armed(const mockit_timer* timer);
/* Disarms, releases the timer and calls its destructor. A null timer is ignored. */
MOCKIT_API int mockit_timer_destroy(mockit_timer* timer);

MOCKIT_API const char* mockit_strerror(int code);
/* "0.1.0" */
MOCKIT_API const char* mockit_version(void);

#ifdef __cplusplus
}
#endif

#endif
