#include "spikeline/engine/connectivity.hpp"

#include <algorithm>
#include <exception>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <tbb/parallel_for.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "spikeline/engine/error.hpp"

namespace spikeline {

namespace {

// Hands the whole pages of [begin, end) back to the kernel: the records of a
// partition are not read again once laid out, and a large network's records
// are most of the peak memory of its build. The pages stay mapped (reading
// them would give zeros), so freeing the vector later is unaffected.
void release_pages(const void* begin, const void* end) {
#if defined(__linux__)
  static const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const std::uintptr_t b = (reinterpret_cast<std::uintptr_t>(begin) + page - 1) / page * page;
  const std::uintptr_t e = reinterpret_cast<std::uintptr_t>(end) / page * page;
  constexpr std::uintptr_t kMinBytes = std::uintptr_t{1} << 20;
  if (e > b && e - b >= kMinBytes) {
    madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);  // advisory: errors are harmless
  }
#else
  (void)begin;
  (void)end;
#endif
}

// Sorts one source's synapses of a block, given in insertion order, by
// (delay, target), keeping insertion order among equals (multapses). T is
// the stored target: a 16-bit offset or a 32-bit index (the same order).
template <class T>
class RowSorter {
 public:
  void sort(T* t, float* w, std::uint32_t* d, std::size_t n) {
    if (n < 2) return;
    bool by_target = true, by_key = true;
    std::uint32_t dmin = d[0], dmax = d[0];
    for (std::size_t i = 1; i < n; ++i) {
      by_target = by_target && t[i - 1] <= t[i];
      by_key = by_key && (d[i - 1] < d[i] || (d[i - 1] == d[i] && t[i - 1] <= t[i]));
      dmin = std::min(dmin, d[i]);
      dmax = std::max(dmax, d[i]);
    }
    if (by_key) return;
    if (n <= kInsertionMax) {
      for (std::size_t i = 1; i < n; ++i) {
        const T ti = t[i];
        const float wi = w[i];
        const std::uint32_t di = d[i];
        std::size_t j = i;
        for (; j > 0 && (d[j - 1] > di || (d[j - 1] == di && t[j - 1] > ti)); --j) {
          t[j] = t[j - 1];
          w[j] = w[j - 1];
          d[j] = d[j - 1];
        }
        t[j] = ti;
        w[j] = wi;
        d[j] = di;
      }
      return;
    }
    t2_.resize(n);
    w2_.resize(n);
    d2_.resize(n);
    if (by_target && dmax - dmin <= 2 * n + 256) {
      // Already by target: a stable counting sort by delay finishes the job.
      count_.assign(static_cast<std::size_t>(dmax - dmin) + 2, 0);
      for (std::size_t i = 0; i < n; ++i) ++count_[d[i] - dmin + 1];
      std::partial_sum(count_.begin(), count_.end(), count_.begin());
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t k = count_[d[i] - dmin]++;
        t2_[k] = t[i];
        w2_[k] = w[i];
        d2_[k] = d[i];
      }
    } else {
      // The position breaks ties, which makes std::sort stable.
      keyed_.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        keyed_[i] = {(static_cast<std::uint64_t>(d[i]) << 32) | t[i],
                     static_cast<std::uint32_t>(i)};
      }
      std::sort(keyed_.begin(), keyed_.end());
      for (std::size_t k = 0; k < n; ++k) {
        const std::uint32_t i = keyed_[k].second;
        t2_[k] = t[i];
        w2_[k] = w[i];
        d2_[k] = d[i];
      }
    }
    std::copy(t2_.begin(), t2_.end(), t);
    std::copy(w2_.begin(), w2_.end(), w);
    std::copy(d2_.begin(), d2_.end(), d);
  }

 private:
  static constexpr std::size_t kInsertionMax = 24;
  std::vector<std::uint32_t> count_;
  std::vector<T> t2_;
  std::vector<float> w2_;
  std::vector<std::uint32_t> d2_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed_;
};

// A projection's list as a source. Sorted by target (as the rules make it),
// each partition's synapses are one contiguous run, handed out without a
// copy; once a partition is laid out its run is not read again and its pages
// go back to the kernel (a large network's list is most of its build peak).
// Otherwise an index, counting-sorted by target (stable: insertion order is
// kept among a target's synapses, which is all the layout needs), gathers
// them in slices.
class RecordSource final : public SynapseSource {
 public:
  RecordSource(std::vector<SynapseRecord> records, std::size_t n_target)
      : records_(std::move(records)), start_(n_target + 1, 0) {
    // start_[t]: the first of target t's synapses (in order_ when unsorted).
    // Computed now: a released run reads as zeros, so the list cannot be
    // searched later.
    bool sorted = true;
    for (std::size_t k = 0; k < records_.size(); ++k) {
      ++start_[records_[k].target + 1];
      sorted = sorted && (k == 0 || records_[k - 1].target <= records_[k].target);
    }
    std::partial_sum(start_.begin(), start_.end(), start_.begin());
    if (sorted) return;
    order_.resize(records_.size());
    std::vector<std::uint64_t> fill(start_.begin(), start_.end() - 1);
    for (std::size_t k = 0; k < records_.size(); ++k)
      order_[fill[records_[k].target]++] = static_cast<std::uint32_t>(k);
  }
  bool by_target() const override { return true; }
  void generate(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    if (order_.empty()) {
      if (start_[last] > start_[first])
        sink({records_.data() + start_[first], records_.data() + start_[last]});
      return;
    }
    constexpr std::size_t kSlice = std::size_t{1} << 16;
    std::vector<SynapseRecord> slice;
    slice.reserve(kSlice);
    for (std::uint64_t k = start_[first]; k < start_[last]; ++k) {
      slice.push_back(records_[order_[k]]);
      if (slice.size() == kSlice) {
        sink(slice);
        slice.clear();
      }
    }
    if (!slice.empty()) sink(slice);
  }
  void release(NeuronIndex first, NeuronIndex last) const {
    if (!order_.empty()) return;  // not contiguous
    release_pages(records_.data() + start_[first], records_.data() + start_[last]);
  }

 private:
  std::vector<SynapseRecord> records_;
  std::vector<std::uint64_t> start_;
  std::vector<std::uint32_t> order_;  // unsorted input: the indices, by target
};

[[noreturn]] void invalid_synapse(const SynapseRecord& s, std::size_t n_source,
                                  std::size_t n_target) {
  throw DataError(fmt::format(
      "synapse {} -> {} (delay {} steps) is invalid: sources must be < {}, targets < {}, "
      "delays 1 to {} steps",
      s.source, s.target, s.delay, n_source, n_target, kMaxDelaySteps));
}

// Lays out one block, the synapses onto targets [range.begin, range.end), in
// two passes over the source: the first counts each source's synapses (from
// its pairs alone: no weights or delays are drawn), the second places them
// and checks them, a stable counting sort by source;
// then each source's row is sorted by (delay, target). A narrow block's
// targets are placed as 16-bit offsets from the range's first neuron (T =
// uint16_t), a wide block's as indices. Returns the block's largest delay (0
// when empty).
template <class T>
std::uint32_t fill_block(SynapseBlock& blk, std::vector<T>& stored, std::vector<bool>& seen_delay,
                         const SynapseSource& src, IndexRange range, std::size_t n_source,
                         std::size_t n_target, const Connectivity::Poll& poll) {
  // next[s]: where the next synapse of source s goes; after the placing, the
  // end of its row (so the row of s is [next[s-1], next[s])).
  // With many sources both passes are random accesses (beyond the caches):
  // prefetched ahead, the counters, then the slots they point to.
  constexpr std::size_t kAhead = 16;
  const bool far = n_source > (std::size_t{1} << 16);
  std::vector<std::uint32_t> next(n_source + 1, 0);
  std::uint64_t n = 0;
  std::uint32_t max_delay = 0;
  auto check = [&](const SynapseRecord& s) {
    if (s.source >= n_source || s.target < range.begin || s.target >= range.end || s.delay < 1 ||
        s.delay > kMaxDelaySteps)
      invalid_synapse(s, n_source, n_target);
  };
  // Every slice, and every 4096 rows sorted: what bounds the wait for poll.
  auto polled = [&] {
    if (poll) poll();
  };
  polled();
  src.generate_pairs(range.begin, range.end, [&](std::span<const SynapseRecord> recs) {
    polled();
    for (std::size_t i = 0; i < recs.size(); ++i) {
      if (far && i + kAhead < recs.size())
        __builtin_prefetch(&next[recs[i + kAhead].source + 1], 1);
      const SynapseRecord& s = recs[i];
      check(s);
      ++next[s.source + 1];
    }
    n += recs.size();
  });
  if (n >= std::numeric_limits<std::uint32_t>::max()) {
    throw ConfigError(
        fmt::format("a projection has {} synapses onto one partition; at most {} are "
                    "supported",
                    n, std::numeric_limits<std::uint32_t>::max() - 1));
  }
  if (n == 0) return 0;
  std::partial_sum(next.begin(), next.end(), next.begin());
  const std::vector<std::uint32_t> row_end(next.begin() + 1, next.end());
  const NeuronIndex base = blk.base;
  stored.resize(n);
  blk.weight.resize(n);
  std::vector<std::uint32_t> delay(n);
  std::uint64_t placed = 0;
  polled();
  src.generate(range.begin, range.end, [&](std::span<const SynapseRecord> recs) {
    polled();
    if (placed + recs.size() > n) {
      throw std::logic_error("a synapse source gave more synapses on its second pass");
    }
    for (std::size_t i = 0; i < recs.size(); ++i) {
      if (far && i + 2 * kAhead < recs.size())
        __builtin_prefetch(&next[recs[i + 2 * kAhead].source], 1);
      if (far && i + kAhead < recs.size()) {
        const std::uint32_t ahead = next[recs[i + kAhead].source];
        __builtin_prefetch(&stored[ahead], 1);
        __builtin_prefetch(&blk.weight[ahead], 1);
        __builtin_prefetch(&delay[ahead], 1);
      }
      const SynapseRecord& s = recs[i];
      check(s);
      const std::uint32_t k = next[s.source]++;
      if (k >= n) throw std::logic_error("a synapse source's passes disagree on the sources");
      max_delay = std::max(max_delay, s.delay);
      stored[k] = static_cast<T>(s.target - base);
      blk.weight[k] = s.weight;
      delay[k] = s.delay;
    }
    placed += recs.size();
  });
  if (placed != n)
    throw std::logic_error("a synapse source gave fewer synapses on its second pass");
  if (!std::equal(row_end.begin(), row_end.end(), next.begin()))
    throw std::logic_error("a synapse source's passes disagree on the sources");
  seen_delay.assign(static_cast<std::size_t>(max_delay) + 1, false);

  // Sort each row; count its delay groups into row[source + 1].
  RowSorter<T> sorter;
  blk.row.assign(n_source + 1, 0);
  std::uint32_t begin = 0;
  for (std::size_t s = 0; s < n_source; ++s) {
    if (s % 4096 == 0) polled();
    const std::uint32_t end = next[s];
    if (end == begin) continue;
    sorter.sort(stored.data() + begin, blk.weight.data() + begin, delay.data() + begin,
                end - begin);
    std::uint32_t groups = 1;
    for (std::uint32_t k = begin + 1; k < end; ++k) groups += delay[k] != delay[k - 1] ? 1 : 0;
    blk.row[s + 1] = groups;
    begin = end;
  }
  std::partial_sum(blk.row.begin(), blk.row.end(), blk.row.begin());
  const std::uint32_t n_groups = blk.row[n_source];
  blk.groups.resize(static_cast<std::size_t>(n_groups) + 1);
  std::size_t g = 0;
  begin = 0;
  for (std::size_t s = 0; s < n_source; ++s) {
    const std::uint32_t end = next[s];
    for (std::uint32_t k = begin; k < end; ++k) {
      if (k == begin || delay[k] != delay[k - 1]) {
        blk.groups[g++] = {k, delay[k], 0, 0};
        seen_delay[delay[k]] = true;
      }
    }
    begin = end;
  }
  blk.groups[n_groups] = {static_cast<std::uint32_t>(n), 0, 0, 0};  // the sentinel
  // A group onto consecutive neurons keeps its first target only; the other
  // groups' targets move down over the freed slots (never past their own).
  std::uint32_t kept = 0;
  for (std::uint32_t i = 0; i < n_groups; ++i) {
    PackedGroup& grp = blk.groups[i];
    const std::uint32_t end = blk.groups[i + 1].begin;
    bool dense = true;
    for (std::uint32_t k = grp.begin + 1; dense && k < end; ++k)
      dense = stored[k] == stored[k - 1] + 1;  // multapses repeat a target: not dense
    grp.consecutive = dense ? 1 : 0;
    if (dense) {
      grp.first = base + stored[grp.begin];
    } else {
      grp.first = kept;
      std::copy(stored.begin() + grp.begin, stored.begin() + end, stored.begin() + kept);
      kept += end - grp.begin;
    }
  }
  stored.resize(kept);
  stored.shrink_to_fit();
  return max_delay;
}

}  // namespace

Partitioning::Partitioning(unsigned partitions) : parts_(partitions) {
  if (partitions < 1 || partitions > 4096) {
    throw ConfigError(
        fmt::format("simulation.partitions = {} is out of range: valid is 1 to 4096", partitions));
  }
}

IndexRange Partitioning::range(std::size_t n, unsigned part) const {
  const auto begin = static_cast<NeuronIndex>(static_cast<std::uint64_t>(part) * n / parts_);
  const auto end = static_cast<NeuronIndex>(static_cast<std::uint64_t>(part + 1) * n / parts_);
  return {begin, end};
}

unsigned Partitioning::part_of(std::size_t n, NeuronIndex i) const {
  // The largest k with floor(k * n / P) <= i.
  return static_cast<unsigned>(((static_cast<std::uint64_t>(i) + 1) * parts_ - 1) / n);
}

namespace {

// Refuses a projection of 2^32 - 1 synapses or more (counted over every
// partition, whichever of them this process lays out).
void check_total(std::size_t synapses) {
  if (synapses >= std::numeric_limits<std::uint32_t>::max()) {
    throw ConfigError(fmt::format("a projection has {} synapses; at most {} are supported",
                                  synapses, std::numeric_limits<std::uint32_t>::max() - 1));
  }
}

void check_synapse(const SynapseRecord& s, std::size_t n_source, std::size_t n_target) {
  if (s.source >= n_source || s.target >= n_target || s.delay < 1 || s.delay > kMaxDelaySteps)
    invalid_synapse(s, n_source, n_target);
}

Placement resolved(Placement local, const Partitioning& parts) {
  if (local.end == 0) return {0, parts.count()};
  return local;
}

}  // namespace

// Each block is laid out on its own (in parallel) from its synapses in
// insertion order: counting-sorted by source (stable), then each source's
// row sorted by (delay, target), stable; the same order as one stable sort
// by (source, delay, target), at a fraction of the cost.
Connectivity::Connectivity(std::vector<SynapseRecord> synapses, std::size_t n_source,
                           std::size_t n_target, const Partitioning& parts, const Poll& poll,
                           Placement local)
    : blocks_(parts.count()), n_source_(n_source), n_target_(n_target) {
  local = resolved(local, parts);
  check_total(synapses.size());
  // Every synapse is checked before RecordSource indexes the list by target.
  for (const auto& s : synapses) check_synapse(s, n_source, n_target);
  if (local.count() != parts.count()) {
    // Another process lays out the rest; the kept records keep their order.
    std::erase_if(synapses, [&](const SynapseRecord& s) {
      return !local.owns(parts.part_of(n_target, s.target));
    });
  }
  const RecordSource records(std::move(synapses), n_target);
  lay_out(
      records, parts, local, [&](IndexRange r) { records.release(r.begin, r.end); }, poll);
}

Connectivity::Connectivity(const SynapseSource& source, std::size_t n_source, std::size_t n_target,
                           const Partitioning& parts, const Poll& poll, Placement local)
    : blocks_(parts.count()), n_source_(n_source), n_target_(n_target) {
  local = resolved(local, parts);
  if (source.by_target()) {
    lay_out(
        source, parts, local, [](IndexRange) {}, poll);
    return;
  }
  // Drawn in another order (per source, or one stream): made once, for the
  // local partitions' targets (a source that can make only those, such as
  // a file read by target, does; the others make all and filter), and of
  // it only the synapses onto local partitions kept, every one checked.
  std::vector<SynapseRecord> kept;
  std::size_t total = 0;
  const bool all = local.count() == parts.count();
  const bool none = local.first >= local.end;
  const NeuronIndex first = none ? 0 : parts.range(n_target, local.first).begin;
  const NeuronIndex last = none ? 0 : parts.range(n_target, local.end - 1).end;
  source.generate(first, last, [&](std::span<const SynapseRecord> r) {
    if (poll) poll();
    total += r.size();
    check_total(total);
    for (const auto& s : r) {
      check_synapse(s, n_source, n_target);
      if (all || local.owns(parts.part_of(n_target, s.target))) kept.push_back(s);
    }
  });
  *this = Connectivity(std::move(kept), n_source, n_target, parts, poll, local);
}

void Connectivity::lay_out(const SynapseSource& source, const Partitioning& parts, Placement local,
                           const std::function<void(IndexRange)>& laid_out, const Poll& poll) {
  const unsigned n_parts = parts.count();
  std::vector<std::vector<bool>> seen(n_parts);
  std::vector<std::exception_ptr> errors(n_parts);
  tbb::parallel_for(local.first, local.end, [&](unsigned p) {
    try {
      const IndexRange range = parts.range(n_target_, p);
      SynapseBlock& blk = blocks_[p];
      blk.narrow = range.end - range.begin <= std::size_t{1} << 16;
      blk.base = blk.narrow ? range.begin : 0;
      if (blk.narrow) {
        fill_block(blk, blk.offset, seen[p], source, range, n_source_, n_target_, poll);
      } else {
        fill_block(blk, blk.target, seen[p], source, range, n_source_, n_target_, poll);
      }
      laid_out(range);
    } catch (...) {
      errors[p] = std::current_exception();
    }
  });
  // The first partition's error: the one a serial build meets first.
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  std::size_t max_delay = 0;
  for (unsigned p = 0; p < n_parts; ++p) {
    count_ += blocks_[p].size();
    max_delay = std::max(max_delay, seen[p].empty() ? 0 : seen[p].size() - 1);
  }
  check_total(count_);
  for (std::size_t d = 1; d <= max_delay; ++d) {
    bool any = false;
    for (const auto& s : seen) any = any || (s.size() > d && s[d]);
    if (!any) continue;
    if (min_delay_ == 0) min_delay_ = static_cast<std::uint32_t>(d);
    max_delay_ = static_cast<std::uint32_t>(d);
    ++distinct_delays_;
  }
}

std::vector<SynapseRecord> Connectivity::canonical() const {
  std::vector<SynapseRecord> out;
  out.reserve(count_);
  visit_canonical([&](NeuronIndex src, unsigned part, std::uint32_t k, NeuronIndex target,
                      std::uint32_t delay) {
    out.push_back({src, target, blocks_[part].weight[k], delay});
  });
  return out;
}

std::vector<SynapseLocation> Connectivity::canonical_locations() const {
  std::vector<SynapseLocation> out;
  out.reserve(count_);
  visit_canonical([&](NeuronIndex, unsigned part, std::uint32_t k, NeuronIndex, std::uint32_t) {
    out.push_back({part, k});
  });
  return out;
}

std::size_t Connectivity::memory_bytes() const {
  std::size_t bytes = 0;
  for (const auto& b : blocks_) {
    // Capacities: what the tables hold, not what they use.
    bytes += b.row.capacity() * sizeof(std::uint32_t) + b.groups.capacity() * sizeof(PackedGroup) +
             b.offset.capacity() * sizeof(std::uint16_t) +
             b.target.capacity() * sizeof(NeuronIndex) + b.weight.capacity() * sizeof(float);
  }
  return bytes;
}

}  // namespace spikeline
