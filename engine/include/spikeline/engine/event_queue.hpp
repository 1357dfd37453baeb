// The event queue: a Boost.Heap priority queue of totally ordered events.
//
// Why a total order and not time alone: several events fall on the same step
// (two spikes reaching one neuron, a current change and a delivery). If the
// queue ordered by time only, the heap would pop equal-time events in an
// order that depends on insertion history, which depends on how work was
// split among partitions and threads; the floating-point sums into a
// neuron's input would then differ in their last bits from run to run.
// Ordering by (step, kind, a, b, c), where the keys identify the event
// independently of who created it, makes every run pop the same sequence.
//
// The kinds are ordered by what a step needs first: current changes and spike
// deliveries feed the step's update; generator emissions happen in it;
// neuromodulator (reward) and control events (recording, flush) come after.
// Clamped spikes join a population's own spikes after its update.
//
// Spike deliveries, by far the most numerous events, do not go through this
// heap: their delay is bounded by the longest synaptic delay, so each
// partition files them in a calendar (a ring of buckets, one per step up to
// the longest delay) at O(1) cost instead of O(log n). Within a step they
// come in a total order too: (emission step, source population, source
// neuron, projection, delay), the order in which the sorted spikes of each
// window are filed -- again independent of threads and partitions. The
// heap holds the rest: generator emissions (which may lie any distance in
// the future) and current changes; the run loop keeps recording and flush
// events in a queue of its own. Reward pulses are kept as the schedule of
// their neuromodulator (neuromodulator.hpp), which every partition reads.
#pragma once

#include <cstdint>
#include <vector>

#include <boost/heap/d_ary_heap.hpp>

#include "spikeline/engine/time_grid.hpp"

namespace spikeline {
class StateArchive;
}

namespace spikeline {

enum class EventKind : std::uint8_t {
  current = 0,   // a stimulus changes injected current: a = stimulus, b = change index
  delivery = 1,  // a spike reaches a delay group: a = projection, b = source, c = delay
  emission = 2,  // a scheduled generator fires: a = population, b = neuron
  reward = 3,    // a neuromodulator pulse (kept in the Neuromodulator's schedule)
  record = 4,    // sample traces / snapshot weights: a = recorder
  flush = 5,     // flush output
  clamp = 6,     // a forced spike (a spike clamp, as for a cue): a = population, b = neuron
};

struct Event {
  Step step;
  EventKind kind;
  std::uint32_t a;
  std::uint32_t b;
  std::uint32_t c;
  std::uint32_t payload;  // not part of the order (e.g. a delay-group index)

  friend bool operator<(const Event& x, const Event& y) {
    if (x.step != y.step) return x.step < y.step;
    if (x.kind != y.kind) return x.kind < y.kind;
    if (x.a != y.a) return x.a < y.a;
    if (x.b != y.b) return x.b < y.b;
    return x.c < y.c;
  }
};

class EventQueue {
 public:
  void push(const Event& e) { heap_.push(e); }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.top(); }
  void pop() { heap_.pop(); }
  // True when the earliest event is due at or before `step`.
  bool due(Step step) const { return !heap_.empty() && heap_.top().step <= step; }
  void reserve(std::size_t n) { heap_.reserve(n); }
  void clear() { heap_.clear(); }
  // Every queued event, in no particular order (for checkpoints: the total
  // order makes the pop sequence independent of how the heap is laid out).
  std::vector<Event> events() const { return {heap_.begin(), heap_.end()}; }

  // Saves the events for which `keep` is true, or replaces the queue with
  // the saved ones, each of which `check` vets (it throws CheckpointError
  // for an event that does not belong; it sees the kind as a raw number
  // first, so an unknown kind never becomes an EventKind). As columns
  // under "<scope>/step", ".../kind", ".../a" and so on: an Event has
  // padding bytes.
  using EventFilter = bool (*)(const Event&);
  using EventCheck = void (*)(const Event&, std::uint8_t kind, const void* context);
  void checkpoint(StateArchive& archive, EventFilter keep, EventCheck check, const void* context);

 private:
  // Boost heaps are max-heaps; this comparator puts the earliest event on top.
  struct Later {
    bool operator()(const Event& x, const Event& y) const { return y < x; }
  };
  // A 4-ary heap: a flat array with shallow trees and no per-node allocation.
  // bench/heap_bench.cpp compares it with the other Boost heaps.
  boost::heap::d_ary_heap<Event, boost::heap::arity<4>, boost::heap::compare<Later>> heap_;
};

}  // namespace spikeline
