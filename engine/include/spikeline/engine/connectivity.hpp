// Synapse storage: by source, grouped by delay, split by target partition.
//
// For one projection and one partition (a share of the target population)
// the synapses form a compressed table:
//
//   row[source] .. row[source + 1]   the delay groups of this source
//   group = {begin, delay,           synapses [begin, next group's begin)
//            consecutive, first}     share one delay; 12 bytes
//   weight[k]                        4 bytes per synapse
//   offset[first ...]                2 bytes per synapse (target - base), when
//                                    the partition holds at most 65,536 of the
//                                    target population ("narrow"); else
//   target[first ...]                4 bytes per synapse; or none at all for a
//                                    group onto consecutive neurons first,
//                                    first + 1, ... (dense, all-to-all and
//                                    multi-tap rows)
//
// A spike makes one queue event per (partition, delay group), never one per
// synapse, and delivery is a plain loop over contiguous targets and weights.
// Because each partition only stores synapses onto its own neurons, threads
// deliver into disjoint input buffers and need no atomics. A random network
// split into partitions of up to 65,536 neurons (PD14's largest population
// has 21,915) costs about 7 bytes per synapse: 4 for the weight, 2 for the
// target, the rest for the group headers.
//
// Within a group synapses are sorted by target, then insertion order, so the
// layout (and every sum over it) depends only on the network, not on threads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "spikeline/engine/communicator.hpp"
#include "spikeline/engine/population.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

// Splits populations into a fixed number of contiguous chunks, one per
// partition: chunk k of a population of n is [k*n/P, (k+1)*n/P).
class Partitioning {
 public:
  explicit Partitioning(unsigned partitions);
  unsigned count() const noexcept { return parts_; }
  IndexRange range(std::size_t population_size, unsigned part) const;
  unsigned part_of(std::size_t population_size, NeuronIndex i) const;

 private:
  unsigned parts_;
};

struct SynapseRecord {
  NeuronIndex source;
  NeuronIndex target;
  float weight;
  std::uint32_t delay;  // steps, >= 1
};

// Makes a projection's synapses onto a range of targets, in the order of the
// projection's whole list restricted to those targets, handed to `sink` in
// one or more spans (called from the calling thread, in order; the spans are
// valid during the call only). Connectivity lays a projection out one
// partition at a time from it, in two passes (count, then place), so that
// the whole SynapseRecord list (16 bytes per synapse) never exists: the
// build's peak is the tables themselves plus a slice. Must be callable from
// several threads at once.
class SynapseSource {
 public:
  using Sink = std::function<void(std::span<const SynapseRecord>)>;
  virtual ~SynapseSource() = default;
  // True when generate() costs in proportion to the synapses it makes (rules
  // drawn target by target). Otherwise the layout calls generate() once, for
  // the targets of this process's partitions (a source that can make only
  // those, such as explicit edges read from a file by target, does), and
  // works from that list, as from a std::vector<SynapseRecord>.
  virtual bool by_target() const = 0;
  virtual void generate(NeuronIndex first, NeuronIndex last, const Sink& sink) const = 0;
  // The same synapses, in the same order, of which only source and target
  // count (what the counting pass reads): a source that draws weights and
  // delays from streams apart from its pairs' may skip them here.
  virtual void generate_pairs(NeuronIndex first, NeuronIndex last, const Sink& sink) const {
    generate(first, last, sink);
  }
  // True when the synapses of a range of sources cost only what they make
  // (rules drawn source by source: fixed_outdegree). A run of K processes
  // then has each draw a K-th of the sources and send every synapse to the
  // process of its target, instead of every process drawing them all.
  virtual bool by_source() const { return false; }
  // The synapses of sources [first, last), in the order generate() gives
  // them (only when by_source()).
  virtual void generate_sources(NeuronIndex /*first*/, NeuronIndex /*last*/,
                                const Sink& /*sink*/) const {}
};

// A delay group as stored (12 bytes): its synapses end where the next
// group's begin, and every block ends in a sentinel group whose begin is the
// block's size. Read groups through SynapseBlock::group() and groups_of().
struct PackedGroup {
  std::uint32_t begin;
  std::uint32_t delay : 31;  // <= kMaxDelaySteps (2^20)
  std::uint32_t consecutive : 1;
  std::uint32_t first;
};
static_assert(sizeof(PackedGroup) == 12);

// A delay group as read: synapses [begin, end) share one delay.
struct DelayGroup {
  std::uint32_t begin;  // weight[begin] .. weight[end - 1]
  std::uint32_t end;
  std::uint32_t delay;
  // Set: the group's targets are consecutive neurons, first, first + 1, ...
  // (dense and all-to-all rows, every tap of a multi-tap synapse), so no
  // index is stored and a loop over the group is a plain vector loop. Clear:
  // synapse k's target is stored at position first + (k - begin) (see
  // SynapseBlock::with_targets).
  bool consecutive;
  std::uint32_t first;
};

// Groups [begin, end) of a block, read one DelayGroup at a time.
class GroupRange {
 public:
  class iterator {
   public:
    using value_type = DelayGroup;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const PackedGroup* p) : p_(p) {}
    DelayGroup operator*() const {
      return {p_->begin, p_[1].begin, p_->delay, p_->consecutive != 0, p_->first};
    }
    iterator& operator++() {
      ++p_;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++p_;
      return old;
    }
    bool operator==(const iterator& o) const = default;

   private:
    const PackedGroup* p_ = nullptr;
  };
  GroupRange() = default;
  GroupRange(const PackedGroup* begin, const PackedGroup* end) : begin_(begin), end_(end) {}
  iterator begin() const { return iterator(begin_); }
  iterator end() const { return iterator(end_); }
  std::size_t size() const noexcept { return static_cast<std::size_t>(end_ - begin_); }
  bool empty() const noexcept { return begin_ == end_; }
  DelayGroup front() const { return *begin(); }
  DelayGroup back() const { return *iterator(end_ - 1); }

 private:
  const PackedGroup* begin_ = nullptr;
  const PackedGroup* end_ = nullptr;
};

struct SynapseBlock {
  std::vector<std::uint32_t> row;   // size n_source + 1 (empty when the block is empty)
  std::vector<PackedGroup> groups;  // row[n_source] groups, then the sentinel
  std::vector<float> weight;        // one per synapse
  // The stored targets of the groups not consecutive (see DelayGroup::first):
  // as offsets from `base` in `offset` when narrow, else in `target`.
  bool narrow = false;
  NeuronIndex base = 0;
  std::vector<std::uint16_t> offset;
  std::vector<NeuronIndex> target;

  std::size_t size() const noexcept { return weight.size(); }  // synapses
  std::size_t group_count() const noexcept { return groups.empty() ? 0 : groups.size() - 1; }

  DelayGroup group(std::uint32_t i) const { return *GroupRange::iterator(groups.data() + i); }
  GroupRange all_groups() const { return {groups.data(), groups.data() + group_count()}; }
  GroupRange groups_of(NeuronIndex source) const {
    if (row.empty()) return {};
    return {groups.data() + row[source], groups.data() + row[source + 1]};
  }

  // Synapse k's target; k in [g.begin, g.end).
  NeuronIndex target_of(const DelayGroup& g, std::uint32_t k) const {
    if (g.consecutive) return g.first + (k - g.begin);
    const std::size_t at = g.first + (k - g.begin);
    return narrow ? base + offset[at] : target[at];
  }
  // Calls f(t, b) with a group's stored targets (not consecutive groups):
  // synapse k's target is b + t[k - g.begin], with t a pointer to 16-bit
  // offsets (narrow) or to 32-bit targets (b = 0). The loops that read many
  // targets take them this way, written once for both widths (a generic
  // lambda), so that neither pays a branch per synapse.
  template <class F>
  decltype(auto) with_targets(const DelayGroup& g, F&& f) const {
    if (narrow) return f(offset.data() + g.first, base);
    return f(target.data() + g.first, NeuronIndex{0});
  }
  // Where a group's stored targets begin (to prefetch them).
  const void* target_address(const PackedGroup& g) const {
    return narrow ? static_cast<const void*>(offset.data() + g.first)
                  : static_cast<const void*>(target.data() + g.first);
  }
};

// Where a synapse lives: its partition's block and its index there.
struct SynapseLocation {
  unsigned part;
  std::uint32_t index;
};

class Connectivity {
 public:
  // Called (from any of the layout's threads) between slices of synapses and
  // between runs of rows while the synapses are laid out; it may throw to
  // abandon the layout (the simulator's stop signal: Ctrl-C during a build).
  using Poll = std::function<void()>;

  // Takes the synapses of one projection (any order; insertion order breaks
  // ties between multapses) and lays them out for `parts`. Only the blocks
  // of the partitions `local` owns are laid out (a rank of a run of several
  // processes); the others stay empty. The default, an empty placement,
  // stands for every partition.
  Connectivity(std::vector<SynapseRecord> synapses, std::size_t n_source, std::size_t n_target,
               const Partitioning& parts, const Poll& poll = {}, Placement local = {});
  // The same from a source, which is asked for each local partition's
  // synapses twice (by_target sources) and never for the whole list. A
  // source not drawn by target (fixed_outdegree, explicit) makes the whole
  // list once, of which only the local partitions' synapses are kept.
  Connectivity(const SynapseSource& source, std::size_t n_source, std::size_t n_target,
               const Partitioning& parts, const Poll& poll = {}, Placement local = {});

  // Synapses in the local blocks (all of them in a run of one process).
  std::size_t size() const noexcept { return count_; }
  std::size_t source_size() const noexcept { return n_source_; }
  std::size_t target_size() const noexcept { return n_target_; }
  // Of the local blocks: 0 when they are empty.
  std::uint32_t min_delay() const noexcept { return min_delay_; }
  std::uint32_t max_delay() const noexcept { return max_delay_; }
  std::size_t distinct_delays() const noexcept { return distinct_delays_; }
  std::size_t blocks() const noexcept { return blocks_.size(); }  // one per partition
  const SynapseBlock& block(unsigned part) const { return blocks_[part]; }
  SynapseBlock& block(unsigned part) { return blocks_[part]; }

  // Every synapse in canonical order (source, target, delay, insertion), the
  // order of the SONATA edges written out; independent of the partitioning.
  std::vector<SynapseRecord> canonical() const;
  // The same, one at a time (no copy of the whole projection), for the
  // sources [first, end) (a run of several processes writes its edges so,
  // a range of sources at a time).
  template <class F>
  void for_each_canonical(F&& f, NeuronIndex first = 0,
                          NeuronIndex end = std::numeric_limits<NeuronIndex>::max()) const {
    visit_canonical(
        [&](NeuronIndex src, unsigned part, std::uint32_t k, NeuronIndex target,
            std::uint32_t delay) {
          f(SynapseRecord{src, target, blocks_[part].weight[k], delay});
        },
        first, end);
  }
  // The location of each synapse in canonical order (edge id -> location):
  // what reads a recorded synapse without sorting at every sample.
  std::vector<SynapseLocation> canonical_locations() const;
  // Bytes held by the synapse tables (their capacity; not counting the
  // vector headers).
  std::size_t memory_bytes() const;

 private:
  // Calls emit(source, part, index, target, delay) for every synapse in
  // canonical order.
  template <class Emit>
  void visit_canonical(Emit&& emit, NeuronIndex first = 0,
                       NeuronIndex end = std::numeric_limits<NeuronIndex>::max()) const;
  // laid_out(range) is called once a partition's targets are laid out (from
  // that partition's thread): what may then free their synapses.
  void lay_out(const SynapseSource& source, const Partitioning& parts, Placement local,
               const std::function<void(IndexRange)>& laid_out, const Poll& poll);

  std::vector<SynapseBlock> blocks_;
  std::size_t count_ = 0;
  std::size_t n_source_ = 0;
  std::size_t n_target_ = 0;
  std::uint32_t min_delay_ = 0;
  std::uint32_t max_delay_ = 0;
  std::size_t distinct_delays_ = 0;
};

// Per source, each block's share of the row sorted by (target, delay): blocks
// hold ascending target ranges, so the row comes out in canonical order.
template <class Emit>
inline void Connectivity::visit_canonical(Emit&& emit, NeuronIndex first, NeuronIndex end) const {
  struct Entry {
    NeuronIndex target;
    std::uint32_t delay;
    std::uint32_t index;
  };
  auto before = [](const Entry& a, const Entry& b) {
    return a.target != b.target ? a.target < b.target : a.delay < b.delay;
  };
  std::vector<Entry> row;
  end = static_cast<NeuronIndex>(std::min<std::size_t>(end, n_source_));
  for (NeuronIndex src = first; src < end; ++src) {
    // Blocks hold ascending ranges of targets: sorting each block's part of
    // the row sorts the row.
    for (unsigned part = 0; part < blocks_.size(); ++part) {
      const SynapseBlock& blk = blocks_[part];
      const auto groups = blk.groups_of(src);
      row.clear();
      for (const auto& g : groups) {
        for (std::uint32_t k = g.begin; k < g.end; ++k)
          row.push_back({blk.target_of(g, k), g.delay, k});
      }
      // One group is sorted by target already. Stable: multapses with equal
      // (target, delay) keep insertion order.
      if (groups.size() > 1 && row.size() <= 16) {
        for (auto it = row.begin() + 1; it != row.end(); ++it) {  // insertion sort: no buffer
          const Entry x = *it;
          auto j = it;
          for (; j != row.begin() && before(x, *(j - 1)); --j) *j = *(j - 1);
          *j = x;
        }
      } else if (groups.size() > 1) {
        std::stable_sort(row.begin(), row.end(), before);
      }
      for (const Entry& e : row) emit(src, part, e.index, e.target, e.delay);
    }
  }
}

}  // namespace spikeline
