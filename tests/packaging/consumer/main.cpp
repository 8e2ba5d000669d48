// Uses the installed libmockit's C++ API: an engine recording into an event queue, as the Lua
// binding does, and the generated version header. Prints what it saw; the test compares it.
#include <chrono>
#include <cstdio>
#include <mockit/event_queue.hpp>
#include <mockit/timer_engine.hpp>
#include <mockit/version.hpp>
#include <vector>

int main() {
    using namespace std::chrono_literals;
    std::printf("mockit %s\n", mockit::version_string);

    mockit::event_queue queue;
    mockit::timer_engine engine{queue};
    mockit::timer_id id = engine.arm_once(5ms);
    queue.wait(5s);  // returns as soon as the expiry is recorded

    std::vector<mockit::event> events;
    std::size_t calls = queue.take(events);
    bool same_timer = events.size() == 1 && events.front().timer == id;
    std::printf("events %zu, calls %zu, same timer %s\n", events.size(), calls,
                same_timer ? "yes" : "no");
    return calls == 1 && same_timer ? 0 : 1;
}
