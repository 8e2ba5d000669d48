// What flows from the engine thread to whoever runs callbacks: plain values, never Lua ones.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "mockit/clock.hpp"

namespace mockit {

// Names one arming of one timer. The engine keeps timers in reusable slots; the generation
// tells apart successive timers of the same slot, so an id held after its timer was cancelled,
// fired (one-off) or re-armed can never reach another timer. Zero is never a valid id.
class timer_id {
  public:
    constexpr timer_id() noexcept = default;
    constexpr timer_id(std::uint32_t slot, std::uint32_t generation) noexcept
        : value_{(std::uint64_t{generation} << 32) | slot} {}

    [[nodiscard]] constexpr std::uint32_t slot() const noexcept {
        return static_cast<std::uint32_t>(value_);
    }
    [[nodiscard]] constexpr std::uint32_t generation() const noexcept {
        return static_cast<std::uint32_t>(value_ >> 32);
    }
    [[nodiscard]] constexpr std::uint64_t value() const noexcept { return value_; }
    constexpr explicit operator bool() const noexcept { return value_ != 0; }
    constexpr friend bool operator==(timer_id, timer_id) noexcept = default;

  private:
    std::uint64_t value_ = 0;
};

// One timer's undelivered expiries. An interval timer that expired several times before anyone
// drained the queue is one event with a count (memory stays bounded by the number of timers);
// the k-th of them was due at `due + k * period`.
struct event {
    timer_id timer;
    time_point due;         // when the first of these expiries was due
    duration period{};      // the interval; zero for a one-off
    std::uint64_t count;    // expiries this event stands for, at least 1
    std::uint32_t tag = 0;  // the number the timer was armed with (see timer_engine::arm_once)
};

// Where the engine records expiries. It is called on the engine thread with the engine's lock
// held, so it must be quick and must never call back into the engine.
class expiry_sink {
  public:
    // Records expiries in the order given (their expiry order).
    virtual void record(std::span<const event> expiries) = 0;
    // Forgets every undelivered expiry of `id`: the timer was cancelled or re-armed.
    virtual void discard(timer_id id) noexcept = 0;

  protected:
    ~expiry_sink() = default;
};

}  // namespace mockit

template <>
struct std::hash<mockit::timer_id> {
    std::size_t operator()(mockit::timer_id id) const noexcept {
        return std::hash<std::uint64_t>{}(id.value());
    }
};
