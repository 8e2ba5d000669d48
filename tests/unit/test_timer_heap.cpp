#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "timer_heap.hpp"

using namespace std::chrono_literals;
using mockit::duration;
using mockit::event;
using mockit::time_point;
using mockit::timer_id;
using mockit::detail::timer_heap;

namespace {

time_point at(duration d) {
    return time_point{d};
}

std::vector<event> expire(timer_heap& heap, duration now) {
    std::vector<event> out;
    heap.expire(at(now), out);
    return out;
}

}  // namespace

TEST_CASE("timer_heap: nothing expires before its deadline", "[timer_heap]") {
    timer_heap heap;
    heap.insert(at(10ms), duration::zero());
    CHECK(expire(heap, 9ms).empty());
    CHECK(expire(heap, 10ms).size() == 1);
}

TEST_CASE("timer_heap: expiries come out in deadline order", "[timer_heap]") {
    timer_heap heap;
    std::mt19937 rng{42};
    std::vector<std::pair<duration, timer_id>> armed;
    for (int i = 0; i < 1000; ++i) {
        duration d = std::chrono::milliseconds{rng() % 500};
        armed.emplace_back(d, heap.insert(at(d), duration::zero()));
    }
    auto out = expire(heap, 1s);
    REQUIRE(out.size() == armed.size());
    for (std::size_t i = 1; i < out.size(); ++i)
        CHECK(out[i - 1].due <= out[i].due);
    CHECK(heap.size() == 0);
}

TEST_CASE("timer_heap: a limited expire leaves the rest due, in order, for the next one",
          "[timer_heap]") {
    timer_heap heap;
    std::vector<timer_id> ids;
    for (int i = 0; i < 10; ++i)
        ids.push_back(heap.insert(at(std::chrono::milliseconds{10 - i}), duration::zero()));
    timer_id ticker = heap.insert(at(3ms), 4ms);  // due at 3 and 7 by 10 ms: one event
    std::vector<event> out;
    CHECK(heap.expire(at(10ms), out, 4) == 4);
    CHECK(heap.expire(at(10ms), out, 4) == 4);
    CHECK(heap.size() == 4);  // three one-offs and the interval timer
    CHECK(heap.expire(at(10ms), out, 4) == 3);
    CHECK(heap.expire(at(10ms), out, 4) == 0);
    REQUIRE(out.size() == 11);
    for (std::size_t i = 1; i < out.size(); ++i)
        CHECK(out[i - 1].due <= out[i].due);
    auto tick =
        std::find_if(out.begin(), out.end(), [&](const event& e) { return e.timer == ticker; });
    REQUIRE(tick != out.end());
    CHECK(tick->count == 2);
    CHECK(heap.size() == 1);
    CHECK(expire(heap, 11ms).size() == 1);  // the interval's next deadline, 11 ms
}

TEST_CASE("timer_heap: a burst armed with one delay expires in order, interleaved and limited",
          "[timer_heap]") {
    timer_heap heap;
    std::vector<timer_id> burst;
    for (int i = 1; i <= 10; ++i)  // one lane: deadlines 1..10 ms, armed with a 5 ms delay
        burst.push_back(heap.insert(at(std::chrono::milliseconds{i}), duration::zero(), 0, 5ms));
    timer_id other = heap.insert(at(4ms), duration::zero(), 0, 7ms);  // another lane, between
    timer_id ticker = heap.insert(at(6ms), 10ms);                     // an interval, between
    std::vector<event> out;
    CHECK(heap.expire(at(10ms), out, 2) == 2);  // the limit holds within a run
    CHECK(heap.expire(at(8ms), out) == 8 - 2 + 2);
    CHECK(heap.expire(at(10ms), out, 3) == 2);
    std::vector<timer_id> order;
    for (const event& e : out)
        order.push_back(e.timer);
    std::vector<timer_id> expected{burst[0], burst[1], burst[2], burst[3], other,    burst[4],
                                   burst[5], ticker,   burst[6], burst[7], burst[8], burst[9]};
    CHECK(order == expected);
    CHECK(heap.size() == 1);  // the interval timer
}

TEST_CASE("timer_heap: equal deadlines expire in arming order", "[timer_heap]") {
    timer_heap heap;
    std::vector<timer_id> ids;
    for (int i = 0; i < 20; ++i)
        ids.push_back(heap.insert(at(5ms), duration::zero()));
    auto out = expire(heap, 5ms);
    REQUIRE(out.size() == ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        CHECK(out[i].timer == ids[i]);
}

TEST_CASE("timer_heap: erase from anywhere keeps the order of the rest", "[timer_heap]") {
    timer_heap heap;
    std::vector<timer_id> ids;
    for (int i = 0; i < 100; ++i) {
        ids.push_back(heap.insert(at(std::chrono::milliseconds{(i * 37) % 100}), duration{}));
    }
    for (std::size_t i = 0; i < ids.size(); i += 3)
        CHECK(heap.erase(ids[i]));
    CHECK_FALSE(heap.erase(ids[0]));  // twice: no longer armed
    auto out = expire(heap, 1s);
    CHECK(out.size() == 66);
    for (std::size_t i = 1; i < out.size(); ++i)
        CHECK(out[i - 1].due <= out[i].due);
    for (const event& e : out)
        CHECK(e.timer.slot() % 3 != 0);
}

TEST_CASE("timer_heap: ids of gone timers never match a new timer", "[timer_heap]") {
    timer_heap heap;
    timer_id first = heap.insert(at(1ms), duration::zero());
    heap.erase(first);
    timer_id second = heap.insert(at(1ms), duration::zero());
    CHECK(second.slot() == first.slot());  // the slot is reused...
    CHECK(second != first);                // ...under a new generation
    CHECK_FALSE(heap.contains(first));
    CHECK_FALSE(heap.erase(first));
    CHECK(heap.contains(second));
    CHECK_FALSE(timer_id{});
}

TEST_CASE("timer_heap: a fired one-off is gone", "[timer_heap]") {
    timer_heap heap;
    timer_id id = heap.insert(at(1ms), duration::zero());
    REQUIRE(expire(heap, 1ms).size() == 1);
    CHECK_FALSE(heap.contains(id));
    CHECK(heap.size() == 0);
    CHECK(expire(heap, 1h).empty());
}

TEST_CASE("timer_heap: an interval stays on its absolute grid", "[timer_heap]") {
    timer_heap heap;
    timer_id id = heap.insert(at(10ms), 10ms);
    auto first = expire(heap, 13ms);  // late by 3 ms
    REQUIRE(first.size() == 1);
    CHECK(first[0].due == at(10ms));
    CHECK(first[0].count == 1);
    CHECK(first[0].period == 10ms);
    CHECK(heap.deadline(id) == at(20ms));  // not 23 ms: lateness does not accumulate
    CHECK(expire(heap, 19ms).empty());
}

TEST_CASE("timer_heap: missed interval deadlines become one event with a count", "[timer_heap]") {
    timer_heap heap;
    timer_id id = heap.insert(at(10ms), 10ms);
    auto out = expire(heap, 45ms);  // 10, 20, 30, 40 are due
    REQUIRE(out.size() == 1);
    CHECK(out[0].timer == id);
    CHECK(out[0].count == 4);
    CHECK(out[0].due == at(10ms));
    CHECK(heap.deadline(id) == at(50ms));
}

TEST_CASE("timer_heap: interval timers with equal deadlines keep their order", "[timer_heap]") {
    timer_heap heap;
    timer_id a = heap.insert(at(1ms), 1ms);
    timer_id b = heap.insert(at(1ms), 1ms);
    for (auto now = 1ms; now <= 5ms; now += 1ms) {
        auto out = expire(heap, now);
        REQUIRE(out.size() == 2);
        CHECK(out[0].timer == a);
        CHECK(out[1].timer == b);
    }
}

TEST_CASE("timer_heap: deadlines past the end of time saturate", "[timer_heap]") {
    timer_heap heap;
    constexpr auto far = duration{std::numeric_limits<duration::rep>::max() - 5};
    timer_id id = heap.insert(at(far), 10ns);
    auto out = expire(heap, far);
    REQUIRE(out.size() == 1);
    CHECK(heap.deadline(id) == at(duration::max()));  // clamped, not wrapped into the past
    CHECK(expire(heap, far).empty());
}

TEST_CASE("timer_heap: random arm/erase/expire agrees with a simple model", "[timer_heap]") {
    timer_heap heap;
    std::mt19937 rng{7};
    std::vector<std::pair<timer_id, duration>> model;  // armed one-offs and their deadlines
    duration now{};
    for (int step = 0; step < 20000; ++step) {
        switch (rng() % 3) {
            case 0: {
                duration deadline = now + std::chrono::microseconds{rng() % 1000};
                model.emplace_back(heap.insert(at(deadline), duration::zero()), deadline);
                break;
            }
            case 1:
                if (!model.empty()) {
                    std::size_t i = rng() % model.size();
                    REQUIRE(heap.erase(model[i].first));
                    model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
                }
                break;
            default: {
                now += std::chrono::microseconds{rng() % 200};
                auto out = expire(heap, now);
                std::size_t due = 0;
                for (auto& [id, deadline] : model)
                    due += deadline <= now ? 1 : 0;
                REQUIRE(out.size() == due);
                std::erase_if(model, [&](auto& m) { return m.second <= now; });
            }
        }
        REQUIRE(heap.size() == model.size());
    }
}

// Lanes, the general heap and the moves between them against a model that keeps every timer
// in one list: the same events, in the same order, with the same counts. Delays come from a
// small set, so lanes fill up; intervals put back on their grid, and deadlines set by hand,
// fall out of their lane's order and go to the general heap.
TEST_CASE("timer_heap: lanes and the general heap agree with a model, event for event",
          "[timer_heap]") {
    std::uint32_t seed = GENERATE(11U, 12U, 13U, 14U);
    std::mt19937 rng{seed};
    struct model_timer {
        timer_id id;
        duration deadline;
        duration interval;
        std::uint32_t sequence;
    };
    timer_heap heap;
    std::vector<model_timer> model;
    std::uint32_t sequence = 0;
    const duration delays[] = {1ms, 2ms, 5ms, 10ms, 7ms};
    duration now{};
    for (int step = 0; step < 6000; ++step) {
        auto pick = rng() % 10;
        if (pick < 4) {
            duration delay = delays[rng() % 5];
            bool by_hand = rng() % 8 == 0;  // a deadline that is not now + delay
            duration deadline =
                by_hand ? now + std::chrono::microseconds{rng() % 9000} : now + delay;
            duration interval = rng() % 3 == 0 ? delay : duration::zero();
            timer_id id = heap.insert(at(deadline), interval, 0, delay);
            model.push_back({id, deadline, interval, sequence++});
        } else if (pick < 5 && !model.empty()) {
            std::size_t i = rng() % model.size();
            REQUIRE(heap.erase(model[i].id));
            REQUIRE_FALSE(heap.contains(model[i].id));
            model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            now += std::chrono::microseconds{rng() % 1500};
            std::vector<event> expected;
            for (;;) {
                auto first = std::min_element(model.begin(), model.end(), [](auto& a, auto& b) {
                    return a.deadline != b.deadline ? a.deadline < b.deadline
                                                    : a.sequence < b.sequence;
                });
                if (first == model.end() || first->deadline > now) break;
                if (first->interval == duration::zero()) {
                    expected.push_back(event{first->id, at(first->deadline), {}, 1});
                    model.erase(first);
                    continue;
                }
                auto missed =
                    static_cast<std::uint64_t>((now - first->deadline) / first->interval) + 1;
                expected.push_back(event{first->id, at(first->deadline), first->interval, missed});
                first->deadline += first->interval * static_cast<duration::rep>(missed);
            }
            auto out = expire(heap, now);
            bool same =
                std::equal(out.begin(), out.end(), expected.begin(), expected.end(),
                           [](const event& a, const event& b) {
                               return a.timer == b.timer && a.due == b.due && a.count == b.count;
                           });
            REQUIRE(same);
        }
        REQUIRE(heap.size() == model.size());
        if (model.empty()) {
            REQUIRE_FALSE(heap.earliest());
            REQUIRE(heap.lanes() == 0);  // empty lanes close
        } else {
            auto first = std::min_element(model.begin(), model.end(),
                                          [](auto& a, auto& b) { return a.deadline < b.deadline; });
            REQUIRE(heap.earliest() == at(first->deadline));
        }
    }
}
