// glibc gives a thread its own malloc arena at the thread's first allocation: a 128 MB
// mapping, trimmed and made writable, a few hundred microseconds on a virtual machine. On the
// engine thread that first allocation would come with the first expiry (the batch it records)
// and make that deadline late by as much; a thread that waits for deadlines sets it up first.
#pragma once

#include <cstdlib>

namespace mockit::detail {

inline void set_up_thread_allocator() noexcept {
    // Through a volatile pointer: a malloc/free pair the compiler could see through it may
    // remove, and this one is only here for its side effect.
    void* volatile block = std::malloc(1);
    std::free(block);
}

}  // namespace mockit::detail
