#include "spikeline/engine/connectivity.hpp"

#include <algorithm>
#include <numeric>

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
// (delay, target), keeping insertion order among equals (multapses).
class RowSorter {
 public:
  void sort(NeuronIndex* t, float* w, std::uint32_t* d, std::size_t n) {
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
        const NeuronIndex ti = t[i];
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
  std::vector<NeuronIndex> t2_;
  std::vector<float> w2_;
  std::vector<std::uint32_t> d2_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed_;
};

// Lays out the n synapses of one block, given in insertion order by get(i):
// a stable counting sort by source, then each source's row sorted by
// (delay, target). `consumed` is called once get() will not be called again.
template <class Get, class Consumed>
void fill_block(SynapseBlock& blk, std::vector<bool>& seen_delay, std::size_t n,
                std::size_t n_source, Get get, Consumed consumed) {
  if (n == 0) return;
  // next[s]: where the next synapse of source s goes; after the scatter, the
  // end of its row (so the row of s is [next[s-1], next[s])).
  // With many sources both passes are random accesses (beyond the caches):
  // prefetched ahead, the counters, then the slots they point to.
  constexpr std::size_t kAhead = 16;
  const bool far = n_source > (std::size_t{1} << 16);
  std::vector<std::uint32_t> next(n_source + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (far && i + kAhead < n) __builtin_prefetch(&next[get(i + kAhead).source + 1], 1);
    ++next[get(i).source + 1];
  }
  std::partial_sum(next.begin(), next.end(), next.begin());
  blk.target.resize(n);
  blk.weight.resize(n);
  std::vector<std::uint32_t> delay(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (far && i + 2 * kAhead < n) __builtin_prefetch(&next[get(i + 2 * kAhead).source], 1);
    if (far && i + kAhead < n) {
      const std::uint32_t ahead = next[get(i + kAhead).source];
      __builtin_prefetch(&blk.target[ahead], 1);
      __builtin_prefetch(&blk.weight[ahead], 1);
      __builtin_prefetch(&delay[ahead], 1);
    }
    const SynapseRecord& s = get(i);
    const std::uint32_t k = next[s.source]++;
    blk.target[k] = s.target;
    blk.weight[k] = s.weight;
    delay[k] = s.delay;
  }
  consumed();

  // Sort each row; count its delay groups into row[source + 1].
  RowSorter sorter;
  blk.row.assign(n_source + 1, 0);
  std::uint32_t begin = 0;
  for (std::size_t src = 0; src < n_source; ++src) {
    const std::uint32_t end = next[src];
    if (end == begin) continue;
    sorter.sort(blk.target.data() + begin, blk.weight.data() + begin, delay.data() + begin,
                end - begin);
    std::uint32_t groups = 1;
    for (std::uint32_t k = begin + 1; k < end; ++k) groups += delay[k] != delay[k - 1] ? 1 : 0;
    blk.row[src + 1] = groups;
    begin = end;
  }
  std::partial_sum(blk.row.begin(), blk.row.end(), blk.row.begin());
  blk.groups.resize(blk.row[n_source]);
  std::size_t g = 0;
  begin = 0;
  for (std::size_t src = 0; src < n_source; ++src) {
    const std::uint32_t end = next[src];
    for (std::uint32_t k = begin; k < end; ++k) {
      if (k == begin || delay[k] != delay[k - 1]) {
        blk.groups[g++] = {k, k, delay[k]};
        seen_delay[delay[k]] = true;
      }
      blk.groups[g - 1].end = k + 1;
    }
    begin = end;
  }
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

// Each block is laid out on its own (in parallel): its synapses in insertion
// order are counting-sorted by source (stable), then each source's row is
// sorted by (delay, target), stable; the same order as one stable sort by
// (source, delay, target), at a fraction of the cost. The rules make their
// synapses target by target, so each block's synapses are usually one
// contiguous run of the input and need no index array.
Connectivity::Connectivity(std::vector<SynapseRecord> synapses, std::size_t n_source,
                           std::size_t n_target, const Partitioning& parts)
    : blocks_(parts.count()), count_(synapses.size()), n_source_(n_source), n_target_(n_target) {
  if (synapses.size() >= std::numeric_limits<std::uint32_t>::max()) {
    throw ConfigError(fmt::format("a projection has {} synapses; at most {} are supported",
                                  synapses.size(), std::numeric_limits<std::uint32_t>::max() - 1));
  }
  bool by_target = true;
  std::uint32_t max_delay = 0;
  for (std::size_t k = 0; k < synapses.size(); ++k) {
    const auto& s = synapses[k];
    if (s.source >= n_source || s.target >= n_target || s.delay < 1) {
      throw DataError(fmt::format(
          "synapse {} ({} -> {}, delay {} steps) is invalid: sources must be < {}, targets < {}, "
          "delays >= 1 step",
          k, s.source, s.target, s.delay, n_source, n_target));
    }
    by_target = by_target && (k == 0 || synapses[k - 1].target <= s.target);
    max_delay = std::max(max_delay, s.delay);
  }
  if (synapses.empty()) return;

  const unsigned n_parts = parts.count();
  std::vector<std::vector<bool>> seen(n_parts);
  if (by_target) {
    // Block p's synapses are the run whose targets lie in its range.
    std::vector<std::size_t> offset(n_parts + 1, synapses.size());
    for (unsigned p = 0; p < n_parts; ++p) {
      const NeuronIndex first = parts.range(n_target, p).begin;
      offset[p] = static_cast<std::size_t>(
          std::partition_point(synapses.begin(), synapses.end(),
                               [&](const SynapseRecord& s) { return s.target < first; }) -
          synapses.begin());
    }
    tbb::parallel_for(0u, n_parts, [&](unsigned p) {
      seen[p].assign(static_cast<std::size_t>(max_delay) + 1, false);
      const SynapseRecord* first = synapses.data() + offset[p];
      const std::size_t n = offset[p + 1] - offset[p];
      fill_block(
          blocks_[p], seen[p], n, n_source,
          [first](std::size_t i) -> const SynapseRecord& { return first[i]; },
          [first, n] { release_pages(first, first + n); });
    });
  } else {
    // A stable counting sort of the synapses' indices by partition.
    std::vector<std::size_t> offset(n_parts + 1, 0);
    for (const auto& s : synapses) ++offset[parts.part_of(n_target, s.target) + 1];
    std::partial_sum(offset.begin(), offset.end(), offset.begin());
    std::vector<std::uint32_t> order(synapses.size());
    {
      std::vector<std::size_t> fill(offset.begin(), offset.end() - 1);
      for (std::size_t k = 0; k < synapses.size(); ++k) {
        order[fill[parts.part_of(n_target, synapses[k].target)]++] = static_cast<std::uint32_t>(k);
      }
    }
    tbb::parallel_for(0u, n_parts, [&](unsigned p) {
      seen[p].assign(static_cast<std::size_t>(max_delay) + 1, false);
      const std::uint32_t* idx = order.data() + offset[p];
      const SynapseRecord* rec = synapses.data();
      fill_block(
          blocks_[p], seen[p], offset[p + 1] - offset[p], n_source,
          [idx, rec](std::size_t i) -> const SynapseRecord& { return rec[idx[i]]; }, [] {});
    });
  }
  for (auto& b : blocks_) {
    b.consecutive.assign((b.groups.size() + 63) / 64, 0);
    for (std::size_t g = 0; g < b.groups.size(); ++g) {
      const DelayGroup& grp = b.groups[g];
      bool dense = grp.end > grp.begin;
      for (std::uint32_t k = grp.begin + 1; dense && k < grp.end; ++k)
        dense = b.target[k] == b.target[k - 1] + 1;  // multapses repeat a target: not dense
      if (dense) b.consecutive[g / 64] |= std::uint64_t{1} << (g % 64);
    }
  }
  for (std::size_t d = 1; d <= max_delay; ++d) {
    bool any = false;
    for (const auto& s : seen) any = any || (!s.empty() && s[d]);
    if (!any) continue;
    if (min_delay_ == 0) min_delay_ = static_cast<std::uint32_t>(d);
    max_delay_ = static_cast<std::uint32_t>(d);
    ++distinct_delays_;
  }
}
std::vector<SynapseRecord> Connectivity::canonical() const {
  std::vector<SynapseRecord> out;
  out.reserve(count_);
  visit_canonical([&](NeuronIndex src, unsigned part, std::uint32_t k, std::uint32_t delay) {
    const SynapseBlock& blk = blocks_[part];
    out.push_back({src, blk.target[k], blk.weight[k], delay});
  });
  return out;
}

std::vector<SynapseLocation> Connectivity::canonical_locations() const {
  std::vector<SynapseLocation> out;
  out.reserve(count_);
  visit_canonical([&](NeuronIndex, unsigned part, std::uint32_t k, std::uint32_t) {
    out.push_back({part, k});
  });
  return out;
}

std::size_t Connectivity::memory_bytes() const {
  std::size_t bytes = 0;
  for (const auto& b : blocks_) {
    bytes += b.row.size() * sizeof(std::uint32_t) + b.groups.size() * sizeof(DelayGroup) +
             b.target.size() * sizeof(NeuronIndex) + b.weight.size() * sizeof(float) +
             b.consecutive.size() * sizeof(std::uint64_t);
  }
  return bytes;
}

}  // namespace spikeline
