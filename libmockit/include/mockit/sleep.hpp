// SPDX-License-Identifier: MIT
// The seed's millisecond sleep: mockit.sleep(ms [, resume]) and mockit_sleep() in C.
#pragma once

#include <chrono>

#include "mockit/clock.hpp"

namespace mockit {

// Sleeps `ms` on `clock` against an absolute deadline taken when the call starts, so it never
// oversleeps however many signals interrupt it. With `resume` it always completes; without,
// the first signal handler that runs ends it, and the result says how much time was left.
sleep_result sleep_for(clock_source& clock, std::chrono::milliseconds ms, bool resume);

}  // namespace mockit
