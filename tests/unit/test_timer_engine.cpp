#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <system_error>
#include <thread>
#include <vector>

#include "mockit/error.hpp"
#include "mockit/event_queue.hpp"
#include "mockit/timer_engine.hpp"

using namespace std::chrono_literals;
using mockit::duration;
using mockit::engine_mode;
using mockit::event;
using mockit::manual_clock;
using mockit::timer_engine;
using mockit::timer_id;

namespace {

// The engine on a manual clock, without its thread: time moves only when the test says so.
struct manual_engine {
    manual_clock clock;
    mockit::event_queue queue;
    timer_engine engine{queue, clock, engine_mode::manual};

    std::vector<event> advance(duration by) {
        clock.advance(by);
        engine.poll();
        std::vector<event> out;
        queue.take(out);
        return out;
    }
};

std::uint64_t calls_of(const std::vector<event>& events, timer_id id) {
    std::uint64_t n = 0;
    for (const event& e : events)
        n += e.timer == id ? e.count : 0;
    return n;
}

}  // namespace

TEST_CASE("engine: a one-off fires once, at its deadline", "[engine]") {
    manual_engine m;
    timer_id id = m.engine.arm_once(100ms);
    CHECK(m.engine.armed(id));
    CHECK(m.advance(99ms).empty());
    auto out = m.advance(1ms);
    CHECK(calls_of(out, id) == 1);
    CHECK_FALSE(m.engine.armed(id));
    CHECK(m.advance(1h).empty());
}

TEST_CASE("engine: a zero delay is due at once", "[engine]") {
    manual_engine m;
    timer_id id = m.engine.arm_once(0ms);
    CHECK(calls_of(m.advance(0ms), id) == 1);
}

TEST_CASE("engine: an interval never drifts", "[engine]") {
    manual_engine m;
    auto start = m.clock.now();
    timer_id id = m.engine.arm_every(10ms);
    for (int k = 1; k <= 100; ++k) {
        // Polled 3 ms late every time: each expiry is still due on the start + k*10ms grid.
        auto out = m.advance(k == 1 ? 13ms : 10ms);
        REQUIRE(out.size() == 1);
        CHECK(out[0].due == start + k * 10ms);
    }
    CHECK(m.engine.deadline(id) == start + 101 * 10ms);
}

TEST_CASE("engine: a late poll reports every missed expiry", "[engine]") {
    manual_engine m;
    timer_id id = m.engine.arm_every(1ms);
    CHECK(calls_of(m.advance(1h), id) == 3'600'000);
    CHECK(m.queue.size() == 0);
}

TEST_CASE("engine: an undrained interval timer holds one queue entry", "[engine]") {
    manual_engine m;
    timer_id id = m.engine.arm_every(1ms);
    for (int i = 0; i < 1000; ++i) {
        m.clock.advance(1ms);
        m.engine.poll();
    }
    CHECK(m.queue.size() == 1);
    CHECK(m.queue.pending() == 1000);
    std::vector<event> out;
    m.queue.take(out);
    CHECK(calls_of(out, id) == 1000);
}

TEST_CASE("engine: cancel is final, even for expiries already queued", "[engine]") {
    manual_engine m;
    timer_id id = m.engine.arm_every(5ms);
    m.clock.advance(5ms);
    m.engine.poll();
    REQUIRE(m.queue.pending() == 1);
    CHECK(m.engine.cancel(id));
    CHECK(m.queue.pending() == 0);
    CHECK(m.advance(1s).empty());
    CHECK_FALSE(m.engine.cancel(id));  // twice: harmless
}

TEST_CASE("engine: cancelling a fired one-off discards its queued expiry", "[engine]") {
    manual_engine m;
    timer_id id = m.engine.arm_once(5ms);
    m.clock.advance(5ms);
    m.engine.poll();
    CHECK_FALSE(m.engine.armed(id));
    CHECK_FALSE(m.engine.cancel(id));  // no longer armed...
    CHECK(m.queue.pending() == 0);     // ...but its undelivered expiry is gone
}

TEST_CASE("engine: equal deadlines fire in arming order", "[engine]") {
    manual_engine m;
    std::vector<timer_id> ids;
    for (int i = 0; i < 50; ++i)
        ids.push_back(m.engine.arm_once(7ms));
    auto out = m.advance(7ms);
    REQUIRE(out.size() == ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        CHECK(out[i].timer == ids[i]);
}

TEST_CASE("engine: reset restarts the countdown under a new id", "[engine]") {
    manual_engine m;
    timer_id old_id = m.engine.arm_once(10ms);
    m.clock.advance(8ms);
    timer_id new_id = m.engine.reset(old_id, 10ms);
    CHECK(new_id != old_id);
    CHECK_FALSE(m.engine.armed(old_id));
    CHECK(m.advance(9ms).empty());  // 17 ms after arming: the old deadline has passed
    CHECK(calls_of(m.advance(1ms), new_id) == 1);
}

TEST_CASE("engine: reset of an interval changes its interval", "[engine]") {
    manual_engine m;
    timer_id id = m.engine.arm_every(10ms);
    id = m.engine.reset(id, 3ms);
    CHECK(calls_of(m.advance(9ms), id) == 3);
}

TEST_CASE("engine: reset discards expiries queued under the old id", "[engine]") {
    manual_engine m;
    timer_id id = m.engine.arm_every(1ms);
    m.clock.advance(5ms);
    m.engine.poll();
    REQUIRE(m.queue.pending() == 5);
    m.engine.reset(id, 1ms);
    CHECK(m.queue.pending() == 0);
}

TEST_CASE("engine: reset of a timer that is not armed does nothing", "[engine]") {
    manual_engine m;
    timer_id id = m.engine.arm_once(1ms);
    m.advance(1ms);
    CHECK_FALSE(m.engine.reset(id, 1ms));
    CHECK(m.engine.size() == 0);
}

TEST_CASE("engine: bad delays are rejected, never wrapped", "[engine]") {
    manual_engine m;
    auto code_of = [](auto&& f) {
        try {
            f();
        } catch (const std::system_error& e) {
            return e.code();
        }
        return std::error_code{};
    };
    using mockit::errc;
    CHECK(code_of([&] { m.engine.arm_once(-1ms); }) == errc::out_of_range);
    CHECK(code_of([&] { m.engine.arm_once(timer_engine::max_delay + 1ns); }) == errc::out_of_range);
    CHECK(code_of([&] { m.engine.arm_every(0ms); }) == errc::invalid_argument);
    CHECK(code_of([&] { m.engine.arm_every(-5ms); }) == errc::out_of_range);
    timer_id id = m.engine.arm_every(5ms);
    CHECK(code_of([&] { m.engine.reset(id, 0ms); }) == errc::invalid_argument);
    CHECK(m.engine.armed(id));  // a refused reset leaves the timer as it was
    CHECK(code_of([&] { m.engine.arm_once(timer_engine::max_delay); }) == std::error_code{});
    CHECK(m.engine.size() == 2);
}

TEST_CASE("engine: next_deadline follows the earliest timer", "[engine]") {
    manual_engine m;
    CHECK_FALSE(m.engine.next_deadline());
    auto start = m.clock.now();
    timer_id late = m.engine.arm_once(50ms);
    timer_id early = m.engine.arm_once(20ms);
    CHECK(m.engine.next_deadline() == start + 20ms);
    m.engine.cancel(early);
    CHECK(m.engine.next_deadline() == start + 50ms);
    m.engine.cancel(late);
    CHECK_FALSE(m.engine.next_deadline());
}

// The threaded engine on the real clock: few tests, generous bounds, order and counts only.

TEST_CASE("engine thread: one-offs fire in deadline order", "[engine][realtime]") {
    mockit::event_queue queue;
    timer_engine engine{queue};
    std::vector<std::pair<mockit::time_point, timer_id>> ids;
    for (int i = 5; i >= 1; --i) {
        timer_id id = engine.arm_once(std::chrono::milliseconds{i * 10});
        ids.emplace_back(*engine.deadline(id), id);
    }
    // The order their deadlines give: arming itself may be slow (the first arm starts the
    // thread; sanitizers slow everything), so it need not be the reverse of arming order.
    std::stable_sort(ids.begin(), ids.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<event> out;
    auto give_up = std::chrono::steady_clock::now() + 5s;
    while (out.size() < ids.size() && std::chrono::steady_clock::now() < give_up) {
        queue.wait(100ms);
        queue.take(out);
    }
    REQUIRE(out.size() == ids.size());
    for (std::size_t i = 0; i < out.size(); ++i)
        CHECK(out[i].timer == ids[i].second);
}

TEST_CASE("engine thread: nothing fires early", "[engine][realtime]") {
    mockit::event_queue queue;
    timer_engine engine{queue};
    auto armed_at = std::chrono::steady_clock::now();
    engine.arm_once(30ms);
    REQUIRE(queue.wait(5s) == 1);
    CHECK(std::chrono::steady_clock::now() - armed_at >= 30ms);
}

TEST_CASE("engine thread: an earlier timer armed later wakes the thread", "[engine][realtime]") {
    mockit::event_queue queue;
    timer_engine engine{queue};
    engine.arm_once(1h);  // the thread now sleeps for an hour...
    timer_id soon = engine.arm_once(10ms);
    REQUIRE(queue.wait(5s) == 1);  // ...and must be woken for this one
    std::vector<event> out;
    queue.take(out);
    CHECK(out.at(0).timer == soon);
}

TEST_CASE("engine thread: arming and cancelling from many threads", "[engine][realtime]") {
    mockit::event_queue queue;
    timer_engine engine{queue};
    std::atomic<int> kept{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                timer_id id = engine.arm_once(std::chrono::microseconds{i * 10});
                if (i % 2 == 0) {
                    engine.cancel(id);
                } else {
                    ++kept;
                }
            }
        });
    }
    threads.clear();  // joins
    std::uint64_t seen = 0;
    auto give_up = std::chrono::steady_clock::now() + 10s;
    std::vector<event> out;
    while (std::chrono::steady_clock::now() < give_up && engine.size() > 0)
        queue.wait(50ms);
    queue.wait(50ms);
    queue.take(out);
    for (const event& e : out)
        seen += e.count;
    // Cancelled timers either never fired or had their expiry discarded: only the kept ones.
    CHECK(seen == static_cast<std::uint64_t>(kept.load()));
}

namespace {

std::size_t thread_count() {
    std::size_t n = 0;
    for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
        ++n;
    return n;
}

}  // namespace

TEST_CASE("engine: the thread starts with the first timer, not with the engine", "[engine]") {
#if defined(__SANITIZE_THREAD__)
    return;  // ThreadSanitizer starts a thread of its own at a time of its choosing
#endif
    mockit::event_queue queue;
    std::size_t before = thread_count();
    {
        timer_engine engine{queue};
        CHECK(thread_count() == before);
        CHECK_FALSE(engine.cancel(timer_id{}));
        CHECK(thread_count() == before);
        timer_id id = engine.arm_once(1h);
        CHECK(thread_count() == before + 1);
        engine.arm_every(1h);
        CHECK(thread_count() == before + 1);  // one thread, however many timers
        CHECK(engine.cancel(id));
    }
    CHECK(thread_count() == before);  // joined by the destructor
}

TEST_CASE("engine: events carry the tag their timer was armed with, across reset", "[engine]") {
    manual_engine m;
    timer_id once = m.engine.arm_once(5ms, 7);
    timer_id every = m.engine.arm_every(2ms, 9);
    timer_id plain = m.engine.arm_once(1ms);
    every = m.engine.reset(every, 3ms);
    std::vector<event> out = m.advance(10ms);  // in expiry order: plain, every, once, every
    REQUIRE(out.size() == 4);
    for (const event& e : out) {
        if (e.timer == once) CHECK(e.tag == 7);
        if (e.timer == every) CHECK(e.tag == 9);
        if (e.timer == plain) CHECK(e.tag == 0);
    }
    CHECK(calls_of(out, every) == 3);  // at 3, 6 and 9 ms, with the tag reset() kept
}

TEST_CASE("engine: a deferred engine records nothing until start_thread(), then on time",
          "[engine][realtime]") {
    mockit::event_queue queue;
    timer_engine engine{queue, mockit::system_clock_source::instance(), engine_mode::deferred};
    timer_id id = engine.arm_once(1ms);
    std::this_thread::sleep_for(30ms);
    CHECK(queue.pending() == 0);  // no thread yet: the deadline passed unrecorded
    CHECK(engine.armed(id));
    engine.start_thread();
    engine.start_thread();  // twice is harmless
    REQUIRE(queue.wait(5s) == 1);
    CHECK_FALSE(engine.armed(id));
    timer_id later = engine.arm_once(20ms);  // the running thread is woken for a new deadline
    std::vector<event> out;
    queue.take(out);
    REQUIRE(queue.wait(5s) == 1);
    queue.take(out);
    CHECK(out.back().timer == later);
}

TEST_CASE(
    "engine: the thread leaves expiries to an owner that records, and records them once handed "
    "back",
    "[engine][realtime]") {
    mockit::event_queue queue;
    timer_engine engine{queue};
    engine.set_owner_records(true);
    timer_id first = engine.arm_once(1ms);
    timer_id every = engine.arm_every(2ms);
    std::this_thread::sleep_for(30ms);
    CHECK(queue.pending() == 0);  // due many times over, but the owner records them
    CHECK(engine.armed(first));
    engine.arm_once(1ms);  // arming does not wake the parked thread into recording either
    std::this_thread::sleep_for(10ms);
    CHECK(queue.pending() == 0);
    CHECK(engine.poll() == 3);  // the owner catches up itself: both one-offs and the interval
    CHECK(queue.pending() >= 2 + 15);  // the interval's missed expiries are one count
    std::vector<event> out;
    queue.take(out);
    engine.set_owner_records(false);  // handed back: the thread records on its own again
    REQUIRE(queue.wait(5s) >= 1);
    queue.take(out);
    CHECK(out.back().timer == every);
    CHECK_FALSE(engine.armed(first));
}

TEST_CASE("engine: take_due hands the due events to the owner and leaves the sink alone",
          "[engine]") {
    manual_engine m;
    timer_id a = m.engine.arm_once(1ms);
    timer_id b = m.engine.arm_once(2ms);
    timer_id every = m.engine.arm_every(1ms);
    timer_id later = m.engine.arm_once(1h);
    m.clock.advance(3ms);
    std::vector<event> out;
    CHECK(m.engine.take_due(out, 2) == 2);  // at most `max`, the first ones in expiry order
    REQUIRE(out.size() == 2);
    CHECK(out[0].timer == a);
    CHECK(out[1].timer == every);
    CHECK(out[1].count == 3);  // due at 1, 2 and 3 ms: one event
    CHECK(m.engine.take_due(out) == 1);
    CHECK(out.back().timer == b);
    CHECK(m.queue.pending() == 0);  // nothing went through the sink
    CHECK_FALSE(m.engine.armed(a));
    CHECK(m.engine.armed(every));  // an interval moves on to its next deadline
    CHECK(m.engine.deadline(every) == m.clock.now() + 1ms);
    CHECK(m.engine.take_due(out) == 0);
    CHECK(m.engine.armed(later));
}
