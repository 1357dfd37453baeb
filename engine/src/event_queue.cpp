#include "spikeline/engine/event_queue.hpp"

#include "spikeline/engine/state_archive.hpp"

namespace spikeline {

void EventQueue::checkpoint(StateArchive& a, EventFilter keep, EventCheck check,
                            const void* context) {
  std::vector<Step> step;
  std::vector<std::uint8_t> kind;
  std::vector<std::uint32_t> ea, eb, ec, payload;
  for (const Event& e : heap_) {
    if (keep && !keep(e)) continue;
    step.push_back(e.step);
    kind.push_back(static_cast<std::uint8_t>(e.kind));
    ea.push_back(e.a);
    eb.push_back(e.b);
    ec.push_back(e.c);
    payload.push_back(e.payload);
  }
  a.field("step", step, true);
  a.field("kind", kind, true);
  a.field("a", ea, true);
  a.field("b", eb, true);
  a.field("c", ec, true);
  a.field("payload", payload, true);
  if (!a.loading()) return;
  const std::size_t n = step.size();
  if (kind.size() != n || ea.size() != n || eb.size() != n || ec.size() != n ||
      payload.size() != n) {
    throw CheckpointError(
        "checkpoint: an event queue is inconsistent (columns of different lengths)");
  }
  heap_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    // The kind is vetted as a number before it becomes an EventKind.
    const Event e{step[i], EventKind::current, ea[i], eb[i], ec[i], payload[i]};
    check(e, kind[i], context);
    Event ok = e;
    ok.kind = static_cast<EventKind>(kind[i]);
    heap_.push(ok);
  }
}

}  // namespace spikeline
