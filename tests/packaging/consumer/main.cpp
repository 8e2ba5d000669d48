// SPDX-License-Identifier: MIT
// Uses the installed libmockit from C++ through its C ABI, which is all libmockit.so exports
// (the C++ classes inside it are not part of its interface): mockit.h must compile as C++ under
// -Wpedantic -Werror and link from a C++ program. A one-off timer whose callback runs on the
// library's thread, with a destructor for its context. Prints what it saw; the test compares it.
#include <mockit/mockit.h>

#include <atomic>
#include <cstdio>

namespace {

std::atomic<int> fired{0};
std::atomic<int> destroyed{0};

void on_expiry(mockit_timer*, void* ctx) {
    fired += *static_cast<const int*>(ctx);
}

void on_destroy(void*) {
    ++destroyed;
}

}  // namespace

int main() {
    static const int one = 1;
    std::printf("mockit %s\n", mockit_version());

    mockit_timer* timer = nullptr;
    int rc = mockit_timer_create(&timer, MOCKIT_ONEOFF, 5, on_expiry, const_cast<int*>(&one),
                                 on_destroy);
    if (rc == MOCKIT_OK) rc = mockit_timer_arm(timer);
    if (rc != MOCKIT_OK) {
        std::fprintf(stderr, "consumer_cpp: %s\n", mockit_strerror(rc));
        return 1;
    }
    // Generous: a loaded machine may run the callback late, never early.
    for (int i = 0; i < 500 && fired == 0; ++i)
        mockit_sleep(10, 1, nullptr);
    mockit_timer_destroy(timer);

    std::printf("fired %d, destroyed %d\n", fired.load(), destroyed.load());
    return fired == 1 && destroyed == 1 ? 0 : 1;
}
