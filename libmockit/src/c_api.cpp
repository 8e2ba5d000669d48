// SPDX-License-Identifier: MIT
// The extern "C" face of libmockit. Every function catches everything: no C++ exception may
// cross into a C caller (fmt's fmt-c.cc does the same).
#include <new>
#include <system_error>

#include "c_runtime.hpp"
#include "mockit/error.hpp"
#include "mockit/mockit.h"
#include "mockit/sleep.hpp"
#include "mockit/version.hpp"

namespace {

using mockit::detail::c_runtime;

int to_code(mockit::errc e) noexcept {
    return -static_cast<int>(e);
}

// Runs `body`, mapping whatever it throws to a MOCKIT_E* code.
template <class Body>
int guarded(Body&& body) noexcept {
    try {
        return body();
    } catch (const std::system_error& error) {
        if (error.code().category() == mockit::category()) {
            return -error.code().value();
        }
        return MOCKIT_ESYSTEM;
    } catch (const std::bad_alloc&) {
        return MOCKIT_ENOMEM;
    } catch (...) {
        return MOCKIT_ESYSTEM;
    }
}

int check_delay(uint64_t ms) noexcept {
    return ms > MOCKIT_MAX_DELAY_MS ? MOCKIT_ERANGE : MOCKIT_OK;
}

mockit::duration to_duration(uint64_t ms) noexcept {
    return std::chrono::milliseconds{static_cast<std::int64_t>(ms)};
}

}  // namespace

extern "C" {

int mockit_time(int64_t* secs, int32_t* ms) {
    if (secs == nullptr || ms == nullptr) return MOCKIT_EINVAL;
    auto now = mockit::to_wall_time(mockit::system_clock_source::instance().wall_now());
    *secs = now.secs;
    *ms = now.ms;
    return MOCKIT_OK;
}

int64_t mockit_mstimestamp(void) {
    return mockit::to_ms_timestamp(mockit::system_clock_source::instance().wall_now());
}

int64_t mockit_hrtime(void) {
    return mockit::to_hrtime(mockit::system_clock_source::instance().now());
}

int mockit_sleep(uint64_t ms, int resume, uint64_t* ms_left) {
    if (int rc = check_delay(ms); rc != MOCKIT_OK) return rc;
    auto result =
        mockit::sleep_for(mockit::system_clock_source::instance(),
                          std::chrono::milliseconds{static_cast<std::int64_t>(ms)}, resume != 0);
    if (ms_left != nullptr) *ms_left = static_cast<uint64_t>(result.left.count());
    return result.interrupted ? MOCKIT_EINTR : MOCKIT_OK;
}

int mockit_timer_create(mockit_timer** out, int kind, uint64_t ms, mockit_callback cb, void* ctx,
                        mockit_destructor dtor) {
    if (out == nullptr || cb == nullptr) return MOCKIT_EINVAL;
    if (kind != MOCKIT_ONEOFF && kind != MOCKIT_INTERVAL) return MOCKIT_EINVAL;
    if (int rc = check_delay(ms); rc != MOCKIT_OK) return rc;
    if (kind == MOCKIT_INTERVAL && ms == 0) return MOCKIT_EINVAL;
    return guarded([&] {
        *out = c_runtime::instance().create(static_cast<mockit_timer_kind>(kind), to_duration(ms),
                                            cb, ctx, dtor);
        return MOCKIT_OK;
    });
}

int mockit_timer_arm(mockit_timer* timer) {
    if (timer == nullptr) return MOCKIT_EINVAL;
    return guarded([&] {
        c_runtime::instance().arm(*timer, timer->delay);
        return MOCKIT_OK;
    });
}

int mockit_timer_rearm(mockit_timer* timer, uint64_t ms) {
    if (timer == nullptr) return MOCKIT_EINVAL;
    if (int rc = check_delay(ms); rc != MOCKIT_OK) return rc;
    if (timer->kind == MOCKIT_INTERVAL && ms == 0) return MOCKIT_EINVAL;
    return guarded([&] {
        c_runtime::instance().arm(*timer, to_duration(ms));
        return MOCKIT_OK;
    });
}

int mockit_timer_disarm(mockit_timer* timer) {
    if (timer == nullptr) return MOCKIT_EINVAL;
    return guarded(
        [&] { return c_runtime::instance().disarm(*timer) ? MOCKIT_OK : MOCKIT_ENOENT; });
}

int mockit_timer_armed(const mockit_timer* timer) {
    if (timer == nullptr) return MOCKIT_EINVAL;
    return guarded([&] { return c_runtime::instance().armed(*timer) ? 1 : 0; });
}

int mockit_timer_destroy(mockit_timer* timer) {
    if (timer == nullptr) return MOCKIT_OK;
    return guarded([&] {
        c_runtime::instance().destroy(*timer);
        return MOCKIT_OK;
    });
}

const char* mockit_strerror(int code) {
    if (code > 0 || code < to_code(mockit::errc::system_error)) return "unknown error";
    return mockit::message(static_cast<mockit::errc>(-code));
}

const char* mockit_version(void) {
    return mockit::version_string;
}

}  // extern "C"
