#include "mockit/event_queue.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "indexed_heap.hpp"

namespace mockit {
namespace {

// ppoll's timeout for a deadline on the steady clock; nullopt blocks without limit.
std::optional<timespec> timeout_until(std::optional<time_point> deadline) {
    if (!deadline) return std::nullopt;
    auto left = std::max(*deadline - std::chrono::steady_clock::now(), duration::zero());
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
    return timespec{static_cast<time_t>(secs.count()), static_cast<long>((left - secs).count())};
}

// Moves a descriptor the library opened off 0-2: with stdin, stdout or stderr closed, the
// kernel hands out the lowest free number, and the script's io.read or print would then use
// the library's descriptor instead of failing with "Bad file descriptor".
int above_stdio(int fd) noexcept {
    if (fd < 0 || fd > STDERR_FILENO) return fd;
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    ::close(fd);
    return moved;
}

}  // namespace

event_queue::event_queue()
    : heap_{std::make_unique<heap_type>(before{}, moved{this})},
      eventfd_{above_stdio(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))} {
    if (eventfd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

bool event_queue::before::operator()(const entry& a, const entry& b) const noexcept {
    if (a.expiries.due != b.expiries.due) return a.expiries.due < b.expiries.due;
    return a.order < b.order;
}

void event_queue::moved::operator()(const entry& e, std::size_t position) const noexcept {
    // Dead entries are nobody's; and when one slot has entries of two successive timers (a
    // fired one-off's and its slot's next tenant's), the map follows whichever moved last:
    // lookups check the id, coalescing only concerns the newer one (a fired one-off has no
    // more expiries), and discard() searches when the map names the other.
    if (e.expiries.timer) {
        owner->position_of_slot_[e.expiries.timer.slot()] = mapped_position(lane::heap, position);
    }
}

event_queue::~event_queue() {
    ::close(eventfd_);
}

void event_queue::record(std::span<const event> expiries) {
    bool wake_consumer = false;
    {
        std::lock_guard lock(mutex_);
        bool was_idle = pending_ == 0;
        for (const event& e : expiries)
            append_or_coalesce(e);
        wake_consumer = was_idle && consumer_blocked_ && pending_ > 0;
    }
    // Written outside the lock so the woken consumer does not at once block on it. Only the
    // empty-to-non-empty edge is signalled: a consumer that is awake drains without prompting.
    if (wake_consumer) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(eventfd_, &one, sizeof one);
    }
}

event_queue::entry* event_queue::locate(std::uint32_t slot) noexcept {
    if (slot >= position_of_slot_.size()) return nullptr;
    std::uint64_t mapped = position_of_slot_[slot];
    if (mapped == 0) return nullptr;
    std::uint64_t position = (mapped & position_mask) - 1;
    auto l = static_cast<lane>(mapped >> lane_shift);
    if (l == lane::heap) return position < heap_->size() ? &(*heap_)[position] : nullptr;
    fifo& f = fifo_of(l);
    std::uint64_t at = position - f.first;
    return position >= f.first && at < f.items.size() ? &f.items[at] : nullptr;
}

void event_queue::push_back(fifo& f, lane l, const entry& e) {
    f.items.push_back(e);
    position_of_slot_[e.expiries.timer.slot()] = mapped_position(l, f.first + f.items.size() - 1);
}

void event_queue::pop_front(fifo& f, lane l) noexcept {
    forget_position(f.items.front(), mapped_position(l, f.first));
    f.items.pop_front();
    ++f.first;
}

void event_queue::append_or_coalesce(const event& e) {
    std::uint32_t slot = e.timer.slot();
    if (slot >= position_of_slot_.size()) {
        position_of_slot_.resize(std::size_t{slot} + 1, 0);
        entries_of_slot_.resize(std::size_t{slot} + 1, 0);
    }
    pending_ += e.count;
    if (entry* queued = locate(slot); queued != nullptr && queued->expiries.timer == e.timer) {
        queued->expiries.count += e.count;  // its next expiry, and so its place, stay
        return;
    }
    entry fresh{e, next_order_++};
    ++entries_of_slot_[slot];
    if (recorded_.items.empty() || !before{}(fresh, recorded_.items.back())) {
        push_back(recorded_, lane::recorded, fresh);
    } else {
        heap_->push(fresh);
    }
}

// Every entry, for the rare lookup the slot map cannot answer.
event_queue::entry* event_queue::search(timer_id id) noexcept {
    for (fifo* f : {&recorded_, &moved_on_}) {
        for (entry& e : f->items) {
            if (e.expiries.timer == id) return &e;
        }
    }
    for (std::size_t i = 0; i < heap_->size(); ++i) {
        if ((*heap_)[i].expiries.timer == id) return &(*heap_)[i];
    }
    return nullptr;
}

void event_queue::discard(timer_id id) noexcept {
    std::lock_guard lock(mutex_);
    if (id.slot() >= entries_of_slot_.size()) return;  // never recorded
    entry* queued = locate(id.slot());
    // The map names at most one entry per slot, the newest tenant's, and none once that one
    // is gone. A fired one-off whose slot was reused by a timer that fired too has an entry the
    // map does not name: search, but only when the slot has an entry the map does not name.
    if (queued == nullptr || queued->expiries.timer != id) {
        bool named = queued != nullptr && queued->expiries.timer &&
                     queued->expiries.timer.slot() == id.slot();
        queued = entries_of_slot_[id.slot()] > (named ? 1U : 0U) ? search(id) : nullptr;
    }
    if (queued == nullptr) return;
    bool mapped = position_of_slot_[id.slot()] != 0 && locate(id.slot()) == queued;
    pending_ -= queued->expiries.count;
    queued->expiries.timer = timer_id{};  // dead: dropped by take(), still counted by size()
    --entries_of_slot_[id.slot()];
    queued->expiries.count = 0;
    if (mapped) position_of_slot_[id.slot()] = 0;
}

void event_queue::drop_dead_heads() noexcept {
    for (fifo* f : {&recorded_, &moved_on_}) {
        while (!f->items.empty() && !f->items.front().expiries.timer) {
            f->items.pop_front();
            ++f->first;
        }
    }
    while (!heap_->empty() && !heap_->top().expiries.timer)
        heap_->remove_at(0);
}

const event_queue::entry* event_queue::head(lane l) const noexcept {
    if (l == lane::heap) return heap_->empty() ? nullptr : &heap_->top();
    const fifo& f = fifo_of(l);
    return f.items.empty() ? nullptr : &f.items.front();
}

// The lane whose head comes first; none when all are empty.
std::optional<event_queue::lane> event_queue::first_lane() const noexcept {
    std::optional<lane> best;
    for (lane l : {lane::recorded, lane::moved_on, lane::heap}) {
        const entry* h = head(l);
        if (h != nullptr && (!best || before{}(*h, *head(*best)))) best = l;
    }
    return best;
}

// The entry that comes next after the first one: the best of the other lanes' heads and the
// first lane's runner-up (a FIFO's second entry, or one of the heap top's children).
const event_queue::entry* event_queue::rival_of(lane first) const noexcept {
    const entry* best = nullptr;
    auto consider = [&](const entry* e) {
        if (e != nullptr && (best == nullptr || before{}(*e, *best))) best = e;
    };
    for (lane l : {lane::recorded, lane::moved_on, lane::heap}) {
        if (l != first) consider(head(l));
    }
    if (first == lane::heap) {
        for (std::size_t c = 1; c <= 4 && c < heap_->size(); ++c)
            consider(&(*heap_)[c]);
    } else {
        const fifo& f = fifo_of(first);
        if (f.items.size() > 1) consider(&f.items[1]);
    }
    return best;
}

// How many expiries of `first` come before `rival`, so they can be handed out as one event.
std::uint64_t event_queue::calls_before(const entry& first, const entry* rival) noexcept {
    const event& e = first.expiries;
    if (rival == nullptr || e.period <= duration::zero()) return e.count;
    const event& r = rival->expiries;
    auto k = static_cast<std::uint64_t>((r.due - e.due) / e.period);  // due_k <= rival's due
    bool tie_lost =
        e.due + e.period * static_cast<duration::rep>(k) == r.due && rival->order < first.order;
    return std::min(e.count, tie_lost ? k : k + 1);
}

void event_queue::forget_position(const entry& e, std::uint64_t mapped) noexcept {
    std::uint64_t& slot_position = position_of_slot_[e.expiries.timer.slot()];
    if (slot_position == mapped) slot_position = 0;
}

// An entry moved on to its next expiry: to the moved FIFO when it comes in order there.
void event_queue::move_on(const entry& e) {
    if (moved_on_.items.empty() || !before{}(e, moved_on_.items.back())) {
        push_back(moved_on_, lane::moved_on, e);
    } else {
        heap_->push(e);
    }
}

// Hands out `calls` expiries of the first lane's head: it leaves, or moves on to its next
// expiry.
void event_queue::hand_out(lane first, std::uint64_t calls) {
    entry& e = first == lane::heap ? (*heap_)[0] : fifo_of(first).items.front();
    pending_ -= calls;
    bool rest = calls < e.expiries.count;
    if (!rest) --entries_of_slot_[e.expiries.timer.slot()];
    entry moved_on = e;
    if (rest) {
        moved_on.expiries.count -= calls;
        moved_on.expiries.due += e.expiries.period * static_cast<duration::rep>(calls);
    }
    if (first == lane::heap) {
        bool stays = rest && !moved_on_.items.empty() && before{}(moved_on, moved_on_.items.back());
        if (stays) {  // the moved FIFO cannot take it: re-key it where it is
            e = moved_on;
            heap_->restore(0);
            return;
        }
        forget_position(e, mapped_position(lane::heap, 0));
        heap_->remove_at(0);
    } else {
        pop_front(fifo_of(first), first);
    }
    if (rest) move_on(moved_on);
}

std::size_t event_queue::take(std::vector<event>& out, std::size_t max_calls) {
    std::lock_guard lock(mutex_);
    std::size_t taken = 0;
    while (taken < max_calls) {
        drop_dead_heads();
        std::optional<lane> first = first_lane();
        if (!first) break;
        const entry& e = *head(*first);
        // A single expiry (every one-off's) goes whole: no need to look for what comes next.
        std::uint64_t whole = e.expiries.count == 1 ? 1 : calls_before(e, rival_of(*first));
        std::uint64_t calls = std::min<std::uint64_t>(whole, max_calls - taken);
        event handed = e.expiries;
        handed.count = calls;
        out.push_back(handed);
        taken += calls;
        hand_out(*first, calls);
    }
    return taken;
}

std::size_t event_queue::wait(std::optional<duration> timeout) {
    std::optional<time_point> deadline;
    if (timeout) deadline = std::chrono::steady_clock::now() + *timeout;
    std::unique_lock lock(mutex_);
    while (pending_ == 0) {
        if (woken_.exchange(false)) return 0;
        consumer_blocked_ = true;
        lock.unlock();
        bool keep_waiting = block(deadline);
        lock.lock();
        consumer_blocked_ = false;
        if (!keep_waiting) break;
    }
    return pending_;
}

bool event_queue::block(std::optional<time_point> deadline) {
    pollfd pfd{eventfd_, POLLIN, 0};
    std::optional<timespec> limit = timeout_until(deadline);
    int ready = ::ppoll(&pfd, 1, limit ? &*limit : nullptr, nullptr);
    if (ready < 0) return false;   // EINTR: a signal handler ran; let the caller see to it
    if (ready == 0) return false;  // timed out
    consume_eventfd();
    return !woken_.exchange(false);  // an event arrived, or wake() was called
}

void event_queue::consume_eventfd() noexcept {
    std::uint64_t count = 0;
    [[maybe_unused]] auto n = ::read(eventfd_, &count, sizeof count);
}

void event_queue::wake() noexcept {
    // Only async-signal-safe operations: an atomic store and write(2).
    woken_.store(true);
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(eventfd_, &one, sizeof one);
}

std::size_t event_queue::pending() const {
    std::lock_guard lock(mutex_);
    return pending_;
}

std::size_t event_queue::size() const {
    std::lock_guard lock(mutex_);
    return recorded_.items.size() + moved_on_.items.size() + heap_->size();
}

void event_queue::clear_wake() noexcept {
    woken_.store(false);
}

}  // namespace mockit
