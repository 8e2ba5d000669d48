#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mockit/event_queue.hpp"

using namespace std::chrono_literals;
using mockit::event;
using mockit::event_queue;
using mockit::time_point;
using mockit::timer_id;

namespace {

event expiry(timer_id id, std::uint64_t count = 1, mockit::duration period = {}) {
    return event{id, time_point{1s}, period, count};
}

void record(event_queue& q, event e) {
    q.record(std::span<const event>{&e, 1});
}

}  // namespace

TEST_CASE("queue: events come out in the order they went in", "[queue]") {
    event_queue q;
    for (std::uint32_t slot = 10; slot > 0; --slot)
        record(q, expiry(timer_id{slot, 1}));
    std::vector<event> out;
    CHECK(q.take(out) == 10);
    for (std::size_t i = 0; i < out.size(); ++i)
        CHECK(out[i].timer.slot() == 10 - i);
    CHECK(q.pending() == 0);
    CHECK(q.size() == 0);
}

TEST_CASE("queue: further expiries of a queued timer add to its count", "[queue]") {
    event_queue q;
    timer_id a{1, 1}, b{2, 1};
    record(q, expiry(a));
    record(q, expiry(b));
    record(q, expiry(a, 2));
    CHECK(q.size() == 2);
    CHECK(q.pending() == 4);
    std::vector<event> out;
    q.take(out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].timer == a);
    CHECK(out[0].count == 3);
    CHECK(out[1].count == 1);
}

TEST_CASE("queue: a new tenant of the same slot gets its own entry", "[queue]") {
    event_queue q;
    record(q, expiry(timer_id{3, 1}));
    record(q, expiry(timer_id{3, 2}));
    CHECK(q.size() == 2);
}

TEST_CASE("queue: an expiry after a take starts a new entry", "[queue]") {
    event_queue q;
    timer_id a{1, 1};
    record(q, expiry(a));
    std::vector<event> out;
    q.take(out);
    record(q, expiry(a));
    CHECK(q.size() == 1);
    CHECK(q.pending() == 1);
}

TEST_CASE("queue: take honours its budget and splits a count", "[queue]") {
    event_queue q;
    timer_id a{1, 1};
    record(q, expiry(a, 5, 10ms));
    std::vector<event> out;
    CHECK(q.take(out, 2) == 2);
    REQUIRE(out.size() == 1);
    CHECK(out[0].count == 2);
    CHECK(q.pending() == 3);
    out.clear();
    CHECK(q.take(out, 3) == 3);
    REQUIRE(out.size() == 1);
    CHECK(out[0].count == 3);
    CHECK(out[0].due == time_point{1s} + 20ms);  // the remainder starts at the third expiry
    CHECK(q.size() == 0);
}

TEST_CASE("queue: a backlog of several timers comes out in expiry order", "[queue]") {
    event_queue q;
    timer_id a{1, 1}, b{2, 1};
    // Undrained: a (every 20 ms) at 20..120 ms, b (every 30 ms) at 30..120 ms.
    record(q, event{a, time_point{20ms}, 20ms, 6});
    record(q, event{b, time_point{30ms}, 30ms, 4});
    CHECK(q.size() == 2);  // one entry per timer, whatever the backlog
    std::vector<event> out;
    CHECK(q.take(out) == 10);
    std::string order;
    for (const event& e : out)
        order.append(e.count, e.timer == a ? 'a' : 'b');
    // 20a 30b 40a 60a 60b 80a 90b 100a 120a 120b: at equal times, the earlier-recorded first.
    CHECK(order == "abaababaab");
}

TEST_CASE("queue: consecutive expiries of one timer come out as one event", "[queue]") {
    event_queue q;
    timer_id a{1, 1}, b{2, 1};
    record(q, event{a, time_point{10ms}, 10ms, 5});  // 10..50 ms
    record(q, event{b, time_point{35ms}, 0ms, 1});
    std::vector<event> out;
    q.take(out);
    REQUIRE(out.size() == 3);
    CHECK(out[0].count == 3);  // 10, 20, 30
    CHECK(out[1].timer == b);
    CHECK(out[2].count == 2);  // 40, 50
    CHECK(out[2].due == time_point{40ms});
}

TEST_CASE("queue: an expiry recorded out of order still comes out in order", "[queue]") {
    event_queue q;
    timer_id late{1, 1}, early{2, 1}, middle{3, 1};
    record(q, event{late, time_point{50ms}, 0ms, 1});
    record(q, event{early, time_point{10ms}, 0ms, 1});  // earlier than what is queued
    record(q, event{middle, time_point{30ms}, 0ms, 1});
    record(q, event{early, time_point{10ms}, 0ms, 2});  // coalesces wherever it sits
    CHECK(q.size() == 3);
    CHECK(q.pending() == 5);
    std::vector<event> out;
    q.take(out);
    REQUIRE(out.size() == 3);
    CHECK(out[0].timer == early);
    CHECK(out[0].count == 3);
    CHECK(out[1].timer == middle);
    CHECK(out[2].timer == late);
}

TEST_CASE("queue: discard reaches an entry moved on by a partial take", "[queue]") {
    event_queue q;
    timer_id a{1, 1}, b{2, 1};
    record(q, event{a, time_point{10ms}, 10ms, 3});  // 10, 20, 30
    record(q, event{b, time_point{15ms}, 0ms, 1});
    std::vector<event> out;
    CHECK(q.take(out, 1) == 1);  // a at 10; a moves on to 20
    q.discard(a);
    CHECK(q.pending() == 1);
    out.clear();
    CHECK(q.take(out) == 1);
    REQUIRE(out.size() == 1);
    CHECK(out[0].timer == b);
    CHECK(q.size() == 0);
}

TEST_CASE("queue: a timer moved on keeps coalescing new expiries", "[queue]") {
    event_queue q;
    timer_id a{1, 1}, b{2, 1};
    record(q, event{a, time_point{10ms}, 10ms, 2});  // 10, 20
    record(q, event{b, time_point{15ms}, 0ms, 1});
    std::vector<event> out;
    q.take(out, 1);                                  // a at 10; a moves on to 20
    record(q, event{a, time_point{30ms}, 10ms, 1});  // a's third expiry joins its entry
    CHECK(q.size() == 2);
    out.clear();
    q.take(out);
    std::string order;
    for (const event& e : out)
        order.append(e.count, e.timer == a ? 'a' : 'b');
    CHECK(order == "baa");
}

TEST_CASE("queue: discard finds a fired one-off whose slot was reused", "[queue]") {
    event_queue q;
    timer_id first{4, 1}, second{4, 2};  // the same slot, successive timers
    record(q, expiry(first));
    record(q, expiry(second));
    q.discard(first);
    CHECK(q.pending() == 1);
    std::vector<event> out;
    q.take(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].timer == second);
}

// Found by the fuzz harness: once the later tenant's entry was discarded, the slot map named no
// entry, and discarding the one-off missed its queued expiry (pending() stayed at 1).
TEST_CASE("queue: discard finds a fired one-off after its slot's later tenant went", "[queue]") {
    event_queue q;
    timer_id first{4, 1}, second{4, 2}, third{4, 3};
    record(q, expiry(first));
    record(q, expiry(second));
    q.discard(second);
    q.discard(first);
    CHECK(q.pending() == 0);
    record(q, expiry(third));  // and a third tenant is still found through the map
    q.discard(third);
    CHECK(q.pending() == 0);
    std::vector<event> out;
    CHECK(q.take(out) == 0);
    CHECK(out.empty());
    CHECK(q.size() == 0);
}

// Taking the only entry of a slot leaves nothing to search for: a later discard of an id of that
// slot finds nothing and changes nothing.
TEST_CASE("queue: discard after a take changes nothing", "[queue]") {
    event_queue q;
    timer_id first{4, 1}, other{5, 1};
    record(q, expiry(first));
    record(q, expiry(other));
    std::vector<event> out;
    CHECK(q.take(out, 1) == 1);
    q.discard(first);
    CHECK(q.pending() == 1);
    out.clear();
    CHECK(q.take(out) == 1);
    REQUIRE(out.size() == 1);
    CHECK(out[0].timer == other);
}

TEST_CASE("queue: discard kills an entry but keeps its place", "[queue]") {
    event_queue q;
    timer_id a{1, 1}, b{2, 1};
    record(q, expiry(a, 3));
    record(q, expiry(b));
    q.discard(a);
    CHECK(q.pending() == 1);
    CHECK(q.size() == 2);        // inqueue() in Lua counts it until a take passes it
    q.discard(timer_id{1, 7});   // another tenant's id: no effect
    q.discard(timer_id{99, 1});  // never seen: no effect
    CHECK(q.pending() == 1);
    std::vector<event> out;
    CHECK(q.take(out) == 1);
    REQUIRE(out.size() == 1);
    CHECK(out[0].timer == b);
    CHECK(q.size() == 0);
}

TEST_CASE("queue: a take that ends on dead entries removes them", "[queue]") {
    event_queue q;
    record(q, expiry(timer_id{1, 1}));
    q.discard(timer_id{1, 1});
    std::vector<event> out;
    CHECK(q.take(out) == 0);
    CHECK(q.size() == 0);
}

TEST_CASE("queue: wait returns at once when something is pending", "[queue]") {
    event_queue q;
    record(q, expiry(timer_id{1, 1}, 2));
    CHECK(q.wait() == 2);  // no timeout: would hang if it blocked
}

TEST_CASE("queue: wait times out with 0", "[queue][realtime]") {
    event_queue q;
    auto start = std::chrono::steady_clock::now();
    CHECK(q.wait(20ms) == 0);
    CHECK(std::chrono::steady_clock::now() - start >= 20ms);
    CHECK(q.wait(0ms) == 0);
}

TEST_CASE("queue: a wake is never lost", "[queue]") {
    event_queue q;
    q.wake();              // nobody waits yet
    CHECK(q.wait() == 0);  // no timeout: returns only because of the earlier wake
}

TEST_CASE("queue: wake and record from another thread end a wait", "[queue][realtime]") {
    event_queue q;
    {
        std::jthread waker([&] {
            std::this_thread::sleep_for(20ms);
            q.wake();
        });
        CHECK(q.wait(10s) == 0);
    }
    {
        std::jthread producer([&] {
            std::this_thread::sleep_for(20ms);
            record(q, expiry(timer_id{1, 1}));
        });
        CHECK(q.wait(10s) == 1);
    }
}

TEST_CASE("queue: a discarded expiry does not end a wait", "[queue][realtime]") {
    event_queue q;
    std::jthread producer([&] {
        record(q, expiry(timer_id{1, 1}));
        q.discard(timer_id{1, 1});
    });
    producer.join();
    CHECK(q.wait(30ms) == 0);
}

namespace {
event_queue* signal_queue = nullptr;
extern "C" void wake_from_signal(int) {
    signal_queue->wake();
}
}  // namespace

TEST_CASE("queue: wake is safe in a signal handler", "[queue][realtime]") {
    event_queue q;
    signal_queue = &q;
    struct sigaction action {};
    action.sa_handler = wake_from_signal;
    struct sigaction previous {};
    REQUIRE(sigaction(SIGUSR1, &action, &previous) == 0);
    pthread_t self = pthread_self();
    std::jthread sender([&] {
        std::this_thread::sleep_for(20ms);
        pthread_kill(self, SIGUSR1);
    });
    CHECK(q.wait(10s) == 0);
    sender.join();
    sigaction(SIGUSR1, &previous, nullptr);
}

TEST_CASE("queue: producer and consumer threads lose and duplicate nothing", "[queue][realtime]") {
    event_queue q;
    constexpr std::uint32_t timers = 1000;
    constexpr int rounds = 200;
    std::jthread producer([&] {
        for (int r = 0; r < rounds; ++r) {
            for (std::uint32_t slot = 0; slot < timers; ++slot)
                record(q, expiry({slot, 1}));
        }
    });
    std::vector<std::uint64_t> calls(timers, 0);
    std::uint64_t total = 0;
    std::vector<event> out;
    auto give_up = std::chrono::steady_clock::now() + 20s;
    while (total < std::uint64_t{timers} * rounds && std::chrono::steady_clock::now() < give_up) {
        q.wait(100ms);
        out.clear();
        total += q.take(out, 777);
        for (const event& e : out)
            calls[e.timer.slot()] += e.count;
    }
    CHECK(total == std::uint64_t{timers} * rounds);
    for (std::uint64_t c : calls)
        REQUIRE(c == rounds);
}

// A model engine drives the queue through backlogs of timers of one period and of mixed
// periods, with takes of random budgets and cancellations in between. Whatever lane an entry
// goes through, every expiry comes out once, in due order, and nothing of a discarded timer
// comes out after its discard.
TEST_CASE("queue: a random backlog comes out complete and in due order", "[queue]") {
    std::uint32_t seed = GENERATE(1U, 2U, 3U, 4U, 5U, 6U, 7U, 8U);
    bool one_period = seed % 2 == 0;
    std::minstd_rand random{seed};
    auto uniform = [&](int lo, int hi) {
        return std::uniform_int_distribution<int>{lo, hi}(random);
    };

    struct model_timer {
        timer_id id;
        mockit::duration period;
        time_point next;              // the next deadline not yet recorded
        std::uint64_t recorded = 0;   // expiries recorded
        std::uint64_t delivered = 0;  // expiries handed out
        bool cancelled = false;
    };
    std::vector<model_timer> timers;
    for (std::uint32_t slot = 0; slot < 200; ++slot) {
        auto period = std::chrono::milliseconds{one_period ? 10 : uniform(3, 40)};
        timers.push_back(
            {timer_id{slot, 1}, period, time_point{std::chrono::milliseconds{uniform(1, 10)}}});
    }

    event_queue q;
    std::vector<event> out;
    time_point now{}, last_due{};
    for (int step = 0; step < 400; ++step) {
        now += std::chrono::milliseconds{uniform(1, 15)};
        // Record what fell due since the last step, earliest first, as the engine does: one
        // event per timer, with the deadlines it missed as its count.
        std::vector<model_timer*> due;
        for (auto& t : timers) {
            if (!t.cancelled && t.next <= now) due.push_back(&t);
        }
        std::sort(due.begin(), due.end(), [](auto* a, auto* b) { return a->next < b->next; });
        for (model_timer* t : due) {
            auto missed = static_cast<std::uint64_t>((now - t->next) / t->period) + 1;
            record(q, event{t->id, t->next, t->period, missed});
            t->recorded += missed;
            t->next += t->period * static_cast<mockit::duration::rep>(missed);
        }
        if (uniform(0, 40) == 0) {
            auto& victim = timers[static_cast<std::size_t>(uniform(0, 199))];
            q.discard(victim.id);
            victim.cancelled = true;
        }
        out.clear();
        q.take(out, static_cast<std::size_t>(uniform(1, 300)));
        for (const event& e : out) {
            auto& t = timers[e.timer.slot()];
            REQUIRE_FALSE(t.cancelled);
            REQUIRE(e.due >= last_due);
            // The k-th expiry handed out is the timer's k-th deadline: none skipped or repeated.
            time_point first_deadline =
                t.next - t.period * static_cast<mockit::duration::rep>(t.recorded);
            REQUIRE(e.due ==
                    first_deadline + t.period * static_cast<mockit::duration::rep>(t.delivered));
            t.delivered += e.count;
            last_due = e.due + t.period * static_cast<mockit::duration::rep>(e.count - 1);
        }
    }
    out.clear();
    q.take(out);
    for (const event& e : out) {
        REQUIRE(e.due >= last_due);
        auto& t = timers[e.timer.slot()];
        t.delivered += e.count;
        last_due = e.due + t.period * static_cast<mockit::duration::rep>(e.count - 1);
    }
    for (const auto& t : timers) {
        if (!t.cancelled) REQUIRE(t.delivered == t.recorded);
    }
    CHECK(q.pending() == 0);
    CHECK(q.size() == 0);
}
