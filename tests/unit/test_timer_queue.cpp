// SPDX-License-Identifier: MIT
#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "mockit/error.hpp"
#include "mockit/timer_queue.hpp"

using namespace std::chrono_literals;
using mockit::duration;
using mockit::expiry;
using mockit::time_point;
using mockit::timer_id;
using mockit::timer_queue;

namespace {

time_point at(duration d) {
    return time_point{d};
}

// Takes every expiry due at `now`, one at a time, as the loops do.
std::vector<expiry> take_all(timer_queue& queue, duration now) {
    std::vector<expiry> out;
    while (auto e = queue.take_due(at(now)))
        out.push_back(*e);
    return out;
}

// The names of the timers the expiries are of, given the timers' ids and names.
std::string names_of(const std::vector<expiry>& expiries,
                     const std::vector<std::pair<timer_id, char>>& named) {
    std::string names;
    for (const expiry& e : expiries) {
        for (const auto& [id, name] : named) {
            if (id == e.timer) names += name;
        }
    }
    return names;
}

}  // namespace

TEST_CASE("timer_queue: nothing is due before its deadline", "[timer_queue]") {
    timer_queue queue;
    timer_id id = queue.arm_once(at(0ms), 10ms);
    CHECK(take_all(queue, 9ms).empty());
    auto out = take_all(queue, 10ms);
    REQUIRE(out.size() == 1);
    CHECK(out[0].timer == id);
    CHECK(out[0].due == at(10ms));
}

TEST_CASE("timer_queue: bad delays are rejected, never wrapped", "[timer_queue]") {
    timer_queue queue;
    auto code_of = [&](auto arm) {
        try {
            arm();
        } catch (const std::system_error& e) {
            return e.code();
        }
        return std::error_code{};
    };
    CHECK(code_of([&] { queue.arm_once(at(0ms), -1ns); }) == mockit::errc::out_of_range);
    CHECK(code_of([&] { queue.arm_once(at(0ms), timer_queue::max_delay + 1ns); }) ==
          mockit::errc::out_of_range);
    CHECK(code_of([&] { queue.arm_every(at(0ms), 0ns); }) == mockit::errc::invalid_argument);
    CHECK(code_of([&] { queue.arm_every(at(0ms), -5ms); }) == mockit::errc::out_of_range);
    CHECK(queue.size() == 0);
    queue.arm_once(at(0ms), timer_queue::max_delay);
    queue.arm_once(at(0ms), 0ns);
    CHECK(queue.size() == 2);
}

TEST_CASE("timer_queue: expiries come out in deadline order, ties in arming order",
          "[timer_queue]") {
    timer_queue queue;
    std::mt19937 rng{42};
    std::vector<timer_id> armed;  // in arming order
    for (int i = 0; i < 1000; ++i)
        armed.push_back(queue.arm_once(at(0ms), std::chrono::milliseconds{rng() % 50}));
    auto order = [&](timer_id id) { return std::find(armed.begin(), armed.end(), id); };
    auto out = take_all(queue, 1s);
    REQUIRE(out.size() == 1000);
    for (std::size_t i = 1; i < out.size(); ++i) {
        CHECK(out[i - 1].due <= out[i].due);
        if (out[i - 1].due == out[i].due) CHECK(order(out[i - 1].timer) < order(out[i].timer));
    }
    CHECK(queue.size() == 0);
    CHECK(queue.lanes() == 0);  // empty lanes close
}

TEST_CASE("timer_queue: a one-off that ran is gone; ids of gone timers never match",
          "[timer_queue]") {
    timer_queue queue;
    timer_id once = queue.arm_once(at(0ms), 1ms);
    CHECK(queue.armed(once));
    CHECK(take_all(queue, 1ms).size() == 1);
    CHECK_FALSE(queue.armed(once));
    CHECK_FALSE(queue.cancel(once));
    timer_id next = queue.arm_once(at(1ms), 1ms);  // reuses the slot
    CHECK(next.slot() == once.slot());
    CHECK_FALSE(next == once);
    CHECK_FALSE(queue.cancel(once));
    CHECK(queue.armed(next));
}

TEST_CASE("timer_queue: a cancelled timer's due expiries never come out", "[timer_queue]") {
    timer_queue queue;
    timer_id a = queue.arm_once(at(0ms), 1ms);
    timer_id b = queue.arm_every(at(0ms), 1ms);
    timer_id c = queue.arm_once(at(0ms), 2ms);
    CHECK(queue.due(at(5ms)).expiries == 7);
    CHECK(queue.cancel(a));
    CHECK(queue.cancel(b));
    auto out = take_all(queue, 5ms);
    REQUIRE(out.size() == 1);
    CHECK(out[0].timer == c);
}

TEST_CASE("timer_queue: move_to replans a timer; an interval's grid goes on from there",
          "[timer_queue]") {
    timer_queue queue;
    timer_id every = queue.arm_every(at(0ms), 10ms);
    timer_id once = queue.arm_once(at(0ms), 5ms);
    timer_id other = queue.arm_every(at(0ms), 10ms);  // stays in the lane every left
    CHECK(queue.move_to(every, at(37ms)));
    CHECK(queue.move_to(once, at(3ms)));
    CHECK(queue.deadline(every) == at(37ms));
    std::vector<std::pair<timer_id, char>> named{{every, 'E'}, {once, 'O'}, {other, 'T'}};
    CHECK(names_of(take_all(queue, 3ms), named) == "O");
    CHECK_FALSE(queue.armed(once));
    CHECK_FALSE(queue.move_to(once, at(4ms)));  // ran: gone
    CHECK(names_of(take_all(queue, 47ms), named) == "TTTETE");
    CHECK(queue.deadline(every) == at(57ms));
    CHECK(queue.move_to(every, at(10ms)));  // into the past: due at once, then every 10 ms
    auto out = take_all(queue, 50ms);
    CHECK(names_of(out, named) == "EEEEET");  // at 50, E first: armed first
    CHECK(queue.size() == 2);
}

TEST_CASE("timer_queue: an interval stays on its absolute grid", "[timer_queue]") {
    timer_queue queue;
    timer_id id = queue.arm_every(at(0ms), 10ms);
    auto out = take_all(queue, 25ms);  // late: 10 and 20 are due
    REQUIRE(out.size() == 2);
    CHECK(out[0].due == at(10ms));
    CHECK(out[1].due == at(20ms));
    CHECK(queue.deadline(id) == at(30ms));
    CHECK(take_all(queue, 29ms).empty());
    CHECK(take_all(queue, 30ms).size() == 1);
}

TEST_CASE("timer_queue: a backlog of intervals interleaves as the expiries fell due",
          "[timer_queue]") {
    timer_queue queue;
    std::vector<std::pair<timer_id, char>> named{{queue.arm_every(at(0ms), 20ms), 'A'},
                                                 {queue.arm_every(at(0ms), 30ms), 'B'},
                                                 {queue.arm_once(at(0ms), 50ms), 'o'}};
    mockit::due_count due = queue.due(at(120ms));
    CHECK(due.timers == 3);
    CHECK(due.expiries == 6 + 4 + 1);
    auto out = take_all(queue, 120ms);
    CHECK(names_of(out, named) == "ABAoABABAAB");
    for (std::size_t i = 1; i < out.size(); ++i)
        CHECK(out[i - 1].due <= out[i].due);
    CHECK(queue.due(at(120ms)).expiries == 0);
    CHECK(queue.size() == 2);  // memory: one slot per timer, however long the backlog
}

TEST_CASE("timer_queue: due() counts what take_due() hands out", "[timer_queue]") {
    timer_queue queue;
    std::mt19937 rng{5};
    for (std::uint32_t i = 0; i < 300; ++i) {
        duration delay = std::chrono::microseconds{1 + rng() % 5000};
        duration armed_at = std::chrono::microseconds{rng() % 3000};  // out of order: the heap
        if (i % 3 == 0) {
            queue.arm_every(at(armed_at), delay);
        } else {
            queue.arm_once(at(armed_at), delay);
        }
    }
    for (duration now : {1ms, 4ms, 9ms, 20ms}) {
        mockit::due_count due = queue.due(at(now));
        auto out = take_all(queue, now);
        CHECK(out.size() == due.expiries);
        std::vector<std::uint32_t> slots;
        for (const expiry& e : out)
            slots.push_back(e.timer.slot());
        std::sort(slots.begin(), slots.end());
        CHECK(static_cast<std::size_t>(std::unique(slots.begin(), slots.end()) - slots.begin()) ==
              due.timers);
    }
}

TEST_CASE("timer_queue: deadlines past the end of time saturate", "[timer_queue]") {
    timer_queue queue;
    constexpr auto far = duration{std::numeric_limits<duration::rep>::max() - 5};
    timer_id id = queue.arm_every(at(far - 10ns), 10ns);
    CHECK(take_all(queue, far).size() == 1);
    CHECK(queue.deadline(id) == at(duration::max()));  // clamped, not wrapped into the past
    CHECK(take_all(queue, far).empty());
}

// Lanes, the general heap and the moves between them against a model that keeps every timer in
// one list: the same expiries, in the same order. Delays come from a small set, so lanes fill
// up; timers armed at an earlier `now` than the last one, and intervals behind timers armed
// after them, fall out of their lane's order and go to the general heap. In the wide variant
// one-offs take delays to the microsecond, nearly all distinct, so they spread over many runs,
// and cancelling one that was last in its run leaves that run's recorded last key behind.
TEST_CASE("timer_queue: lanes and the general heap agree with a model, expiry for expiry",
          "[timer_queue]") {
    std::uint32_t seed = GENERATE(11U, 12U, 13U, 14U);
    bool wide = GENERATE(false, true);
    std::mt19937 rng{seed};
    struct model_timer {
        timer_id id;
        duration deadline;
        duration interval;
        std::uint32_t sequence;
    };
    timer_queue queue;
    std::vector<model_timer> model;
    std::uint32_t sequence = 0;
    const duration delays[] = {1ms, 2ms, 5ms, 10ms, 7ms};
    duration now{};
    for (int step = 0; step < 6000; ++step) {
        auto pick = rng() % 10;
        if (pick < 4) {
            duration delay = delays[rng() % 5];
            bool early = rng() % 8 == 0;  // armed as if at an earlier time
            duration armed_at = early ? now - std::chrono::microseconds{rng() % 4000} : now;
            bool repeats = rng() % 3 == 0;
            if (wide && !repeats) delay = std::chrono::microseconds{rng() % 20000};
            timer_id id = repeats ? queue.arm_every(at(armed_at), delay)
                                  : queue.arm_once(at(armed_at), delay);
            model.push_back({id, armed_at + delay, repeats ? delay : duration::zero(), sequence++});
        } else if (pick < 5 && !model.empty()) {
            std::size_t i = rng() % model.size();
            REQUIRE(queue.cancel(model[i].id));
            REQUIRE_FALSE(queue.armed(model[i].id));
            model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            now += std::chrono::microseconds{rng() % 1500};
            std::size_t expected_count = 0;
            for (const model_timer& t : model) {
                if (t.deadline > now) continue;
                expected_count +=
                    t.interval == duration::zero()
                        ? 1
                        : static_cast<std::size_t>((now - t.deadline) / t.interval) + 1;
            }
            REQUIRE(queue.due(at(now)).expiries == expected_count);
            for (;;) {
                auto first = std::min_element(model.begin(), model.end(), [](auto& a, auto& b) {
                    return a.deadline != b.deadline ? a.deadline < b.deadline
                                                    : a.sequence < b.sequence;
                });
                std::optional<expiry> taken = queue.take_due(at(now));
                if (first == model.end() || first->deadline > now) {
                    REQUIRE_FALSE(taken);
                    break;
                }
                REQUIRE(taken);
                REQUIRE(taken->timer == first->id);
                REQUIRE(taken->due == at(first->deadline));
                if (first->interval == duration::zero()) {
                    model.erase(first);
                } else {
                    first->deadline += first->interval;
                }
            }
        }
        REQUIRE(queue.size() == model.size());
        if (model.empty()) {
            REQUIRE_FALSE(queue.next_deadline());
            REQUIRE(queue.lanes() == 0);
        } else {
            auto first = std::min_element(model.begin(), model.end(),
                                          [](auto& a, auto& b) { return a.deadline < b.deadline; });
            REQUIRE(queue.next_deadline() == at(first->deadline));
        }
    }
}

TEST_CASE("timer_queue: take_due leaves timers armed since a mark and due at `now` itself") {
    timer_queue q;
    time_point t0{std::chrono::hours{1}};
    timer_id before = q.arm_once(t0, 0ms);
    std::uint32_t mark = q.next_sequence();
    timer_id after = q.arm_once(t0, 0ms);
    timer_id earlier = q.arm_once(t0 - 5ms, 0ms);  // armed later, due before `now`
    auto first = q.take_due(t0, mark);
    REQUIRE(first);
    CHECK(first->timer == earlier);
    auto second = q.take_due(t0, mark);
    REQUIRE(second);
    CHECK(second->timer == before);
    CHECK_FALSE(q.take_due(t0, mark));  // `after` is due, but armed since the mark
    CHECK(q.due(t0).timers == 1);
    auto third = q.take_due(t0);  // without a mark
    REQUIRE(third);
    CHECK(third->timer == after);
}

// One-offs need no lane of their delay: one goes behind the run whose last deadline is the latest
// not after its own, and opens a run only when it is due before every run's last.
TEST_CASE("timer_queue: one-offs at distinct delays share runs", "[timer_queue]") {
    timer_queue queue;
    for (int i = 1; i <= 1000; ++i)  // 1000 delays, each later than the last: one run
        queue.arm_once(at(0ms), std::chrono::milliseconds{i});
    CHECK(queue.lanes() == 1);
    for (int i = 1; i <= 100; ++i)  // due before every run's last: a run each
        queue.arm_once(at(0ms), std::chrono::microseconds{1000 - i});
    CHECK(queue.lanes() == 101);
    queue.arm_once(at(0ms), 1500us);  // behind the run that ends at 999 us, not the 1000 ms one
    CHECK(queue.lanes() == 101);
    auto out = take_all(queue, 2s);
    REQUIRE(out.size() == 1101);
    CHECK(std::is_sorted(out.begin(), out.end(),
                         [](const expiry& a, const expiry& b) { return a.due < b.due; }));
    CHECK(queue.lanes() == 0);
}

// A run keeps the key of the last one-off appended to it after that one-off is cancelled, so it
// takes only one-offs due after the cancelled one, which keeps it in order.
TEST_CASE("timer_queue: a run whose last one-off was cancelled stays in order", "[timer_queue]") {
    timer_queue queue;
    timer_id a = queue.arm_once(at(0ms), 10ms);
    timer_id b = queue.arm_once(at(0ms), 20ms);
    REQUIRE(queue.lanes() == 1);
    REQUIRE(queue.cancel(b));
    timer_id c = queue.arm_once(at(0ms), 15ms);  // before b's key: a run of its own
    CHECK(queue.lanes() == 2);
    timer_id d = queue.arm_once(at(0ms), 25ms);  // behind b's key, in a's run
    CHECK(queue.lanes() == 2);
    auto out = take_all(queue, 1s);
    CHECK(names_of(out, {{a, 'a'}, {b, 'b'}, {c, 'c'}, {d, 'd'}}) == "acd");
    CHECK(queue.lanes() == 0);
}

// One-offs each due before all the others would open a run each; past max_runs they go to the
// general heap, and everything still comes out in deadline order.
TEST_CASE("timer_queue: one-offs beyond max_runs runs go to the general heap", "[timer_queue]") {
    timer_queue queue;
    const int n = static_cast<int>(timer_queue::max_runs) + 100;
    std::vector<timer_id> armed;
    for (int i = 0; i < n; ++i)  // each due before every one armed so far
        armed.push_back(queue.arm_once(at(0ms), std::chrono::microseconds{n - i}));
    CHECK(queue.lanes() == timer_queue::max_runs);
    CHECK(queue.cancel(armed[10]));      // from a run
    CHECK(queue.cancel(armed[n - 10]));  // from the general heap
    auto out = take_all(queue, 1s);
    REQUIRE(out.size() == static_cast<std::size_t>(n - 2));
    std::vector<timer_id> expected;  // the latest armed falls due first
    for (int i = n - 1; i >= 0; --i) {
        if (i != 10 && i != n - 10) expected.push_back(armed[static_cast<std::size_t>(i)]);
    }
    std::vector<timer_id> taken;
    for (const expiry& e : out)
        taken.push_back(e.timer);
    CHECK(taken == expected);
    CHECK(queue.lanes() == 0);
    CHECK(queue.size() == 0);
}

// A delay gets a lane of its own when it repeats: the first one-off of a delay goes to a run, the
// next one opens the delay's lane, and the ones after it join that lane.
TEST_CASE("timer_queue: a one-off's delay gets a lane when it repeats", "[timer_queue]") {
    timer_queue queue;
    timer_id a = queue.arm_once(at(0ms), 10ms);
    CHECK(queue.lanes() == 1);
    CHECK(queue.runs() == 1);
    timer_id b = queue.arm_once(at(1ms), 10ms);  // 10 ms again: its lane opens
    CHECK(queue.lanes() == 2);
    timer_id c = queue.arm_once(at(2ms), 10ms);
    timer_id d = queue.arm_once(at(2ms), 20ms);  // first seen: behind a in its run
    CHECK(queue.lanes() == 2);
    CHECK(queue.runs() == 1);
    auto out = take_all(queue, 1s);
    CHECK(names_of(out, {{a, 'a'}, {b, 'b'}, {c, 'c'}, {d, 'd'}}) == "abcd");
    CHECK(queue.lanes() == 0);
}

// Delays are remembered in a table of two-way sets: delays that hash to one set must not keep
// evicting each other before they repeat, or some would never get their lane. Scale's schedule
// (2,000 delays in a scattered cycle) puts three or more delays in many sets.
TEST_CASE("timer_queue: every delay that repeats gets its lane, however the delays collide",
          "[timer_queue]") {
    timer_queue queue;
    for (int cycle = 0; cycle < 6; ++cycle) {
        for (int i = 0; i < 2000; ++i)
            queue.arm_once(at(0ms), std::chrono::milliseconds{1 + (i * 7919) % 2000});
    }
    CHECK(queue.lanes() - queue.runs() == 2000);  // a lane for every delay
    auto out = take_all(queue, 1h);
    REQUIRE(out.size() == 12000);
    CHECK(std::is_sorted(out.begin(), out.end(),
                         [](const expiry& a, const expiry& b) { return a.due < b.due; }));
    CHECK(queue.lanes() == 0);
}
