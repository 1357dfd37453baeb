#include "spikeline/encoding/population_code.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/random.hpp"

namespace spikeline::encoding {

namespace {

// Parameters are named as a config would write them (docs/ember.md).
std::string item(const char* name) {
  return fmt::format("encoder.{}", name);
}

// A dimension whose z-score cannot exist: finite sd > 0 is the only valid case.
bool valid_sd(double sd) {
  return std::isfinite(sd) && sd > 0;
}

}  // namespace

CorpusStats CorpusStats::from_embeddings(std::span<const double> data, std::size_t dim) {
  if (dim == 0 || data.size() % dim != 0) {
    throw DataError(fmt::format(
        "corpus statistics: {} numbers do not make embeddings of dimension {}: the count must "
        "be a non-zero multiple of the dimension",
        data.size(), dim));
  }
  const std::size_t count = data.size() / dim;
  if (count < 2) {
    throw DataError(fmt::format(
        "corpus statistics: {} embedding(s) given: a standard deviation needs at least 2", count));
  }
  CorpusStats s{std::vector<double>(dim, 0.0), std::vector<double>(dim, 0.0)};
  for (std::size_t r = 0; r < count; ++r) {
    for (std::size_t i = 0; i < dim; ++i) {
      const double x = data[r * dim + i];
      if (!std::isfinite(x)) {
        throw DataError(fmt::format(
            "corpus statistics: embedding {} has {} at dimension {}: entries must be finite", r, x,
            i));
      }
      s.mean[i] += x;
    }
  }
  for (double& m : s.mean) m /= static_cast<double>(count);
  // Two passes (mean, then squared deviations): no cancellation for
  // entries far from zero.
  for (std::size_t r = 0; r < count; ++r) {
    for (std::size_t i = 0; i < dim; ++i) {
      const double dx = data[r * dim + i] - s.mean[i];
      s.sd[i] += dx * dx;
    }
  }
  for (std::size_t i = 0; i < dim; ++i) {
    s.sd[i] = std::sqrt(s.sd[i] / static_cast<double>(count));
    if (!valid_sd(s.sd[i])) {
      throw DataError(fmt::format(
          "corpus statistics: dimension {} is constant ({}) across the {} embeddings: its "
          "standard deviation is 0 and no z-score exists",
          i, s.mean[i], count));
    }
  }
  return s;
}

void CorpusStats::validate() const {
  if (mean.empty() || mean.size() != sd.size()) {
    throw ConfigError(
        fmt::format("{}: {} means and {} standard deviations: they must be as many, and at least 1",
                    item("corpus"), mean.size(), sd.size()));
  }
  for (std::size_t i = 0; i < mean.size(); ++i) {
    if (!std::isfinite(mean[i])) {
      throw ConfigError(fmt::format("{}: mean[{}] = {} is invalid: it must be finite",
                                    item("corpus"), i, mean[i]));
    }
    if (!valid_sd(sd[i])) {
      throw ConfigError(fmt::format("{}: sd[{}] = {} is invalid: it must be finite and > 0",
                                    item("corpus"), i, sd[i]));
    }
  }
}

PopulationCodeParams PopulationCodeParams::plain() {
  return {};
}

PopulationCodeParams PopulationCodeParams::improved() {
  PopulationCodeParams p;
  p.tails = Tails::both;
  p.graded = true;
  p.spikes = 16;
  return p;
}

PopulationCodeParams PopulationCodeParams::from(const ParamMap& t, double dt,
                                                std::uint64_t sensory_size) {
  t.check_keys(
      {"k", "neurons_per_dim", "window", "tails", "spikes_per_z", "spikes", "seed", "corpus"});
  PopulationCodeParams c = improved();
  c.k = t.whole("k", static_cast<double>(c.k), 1, 1e6);
  c.neurons_per_dim = t.whole("neurons_per_dim", static_cast<double>(c.neurons_per_dim), 1, 1e6);
  c.window_ms = t.steps_ms("window", c.window_ms, dt, true);
  c.dt_ms = dt;
  c.sensory_size = sensory_size;
  c.tails = t.choice("tails", "both", {"both", "upper"}) == "both" ? Tails::both : Tails::upper;
  // spikes_per_z = 0: the plain code's count (`spikes` per neuron).
  c.spikes_per_z = t.number_in("spikes_per_z", c.spikes_per_z, 0, 1e3);
  c.graded = c.spikes_per_z > 0;
  if (!c.graded) c.spikes_per_z = 1;  // unused; keeps validate() quiet
  c.spikes = static_cast<std::uint32_t>(t.whole("spikes", c.spikes, 1, 1e6));
  c.seed = t.whole("seed", 0, 0, 9007199254740992.0);
  c.validate();
  return c;
}

std::uint64_t PopulationCodeParams::window_steps() const {
  return static_cast<std::uint64_t>(std::llround(window_ms / dt_ms));
}

void PopulationCodeParams::validate() const {
  if (k < 1) throw ConfigError(fmt::format("{} = {} is invalid: it must be >= 1", item("k"), k));
  if (neurons_per_dim < 1) {
    throw ConfigError(fmt::format("{} = {} is invalid: it must be >= 1", item("neurons_per_dim"),
                                  neurons_per_dim));
  }
  if (sensory_size < 2 || sensory_size > 0xffffffffu) {
    throw ConfigError(fmt::format("{} = {} is invalid: it must be in [2, 4294967295]",
                                  item("sensory_size"), sensory_size));
  }
  // Overflow-safe: k * m <= sensory_size / 2 without forming the product.
  if (k > sensory_size / 2 / neurons_per_dim) {
    throw ConfigError(fmt::format(
        "{} = {} with {} = {} drive more neurons than fit: k * neurons_per_dim must be at most "
        "half of {} = {} (so at most {})",
        item("k"), k, item("neurons_per_dim"), neurons_per_dim, item("sensory_size"), sensory_size,
        sensory_size / 2));
  }
  if (!(std::isfinite(dt_ms) && dt_ms > 0)) {
    throw ConfigError(
        fmt::format("{} = {} ms is invalid: it must be finite and > 0", item("dt_ms"), dt_ms));
  }
  if (!(std::isfinite(window_ms) && window_ms >= dt_ms && window_ms / dt_ms <= 1e9)) {
    throw ConfigError(fmt::format(
        "{} = {} ms is invalid: it must be finite and in [dt_ms, 1e9 dt_ms] = [{}, {}] ms",
        item("window_ms"), window_ms, dt_ms, 1e9 * dt_ms));
  }
  const double steps = window_ms / dt_ms;
  if (std::abs(steps - std::round(steps)) > 1e-9 * steps) {
    throw ConfigError(fmt::format(
        "{} = {} ms is invalid: it must be a whole number of steps of dt_ms = {} ms (it is {})",
        item("window_ms"), window_ms, dt_ms, steps));
  }
  if (spikes < 1 || spikes > window_steps()) {
    throw ConfigError(fmt::format(
        "{} = {} is invalid: it must be in [1, {}] (the window's steps: at most one spike per "
        "neuron and step)",
        item("spikes"), spikes, window_steps()));
  }
  if (!(std::isfinite(spikes_per_z) && spikes_per_z > 0)) {
    throw ConfigError(fmt::format("{} = {} is invalid: it must be finite and > 0",
                                  item("spikes_per_z"), spikes_per_z));
  }
  if (corpus) corpus->validate();
}

PopulationCode::PopulationCode(PopulationCodeParams params) : params_(std::move(params)) {
  params_.validate();
}

Volley PopulationCode::encode(std::span<const double> e) const {
  const auto& p = params_;
  const std::size_t d = e.size();
  if (d == 0) throw DataError("embedding is empty: it must have at least 1 entry");
  // A code 2 i + 1 must fit the stream's 32-bit entity.
  if (d > (std::size_t{1} << 31)) {
    throw DataError(
        fmt::format("embedding has {} dimensions: at most 2147483648 are supported", d));
  }
  if (p.corpus && p.corpus->dim() != d) {
    throw DataError(fmt::format(
        "embedding has {} dimensions: the corpus statistics have {}, and it must match them", d,
        p.corpus->dim()));
  }
  for (std::size_t i = 0; i < d; ++i) {
    if (!std::isfinite(e[i])) {
      throw DataError(
          fmt::format("embedding[{}] = {} is invalid: every entry must be finite", i, e[i]));
    }
  }
  if (p.k > d) {
    throw DataError(
        fmt::format("{} = {} exceeds the embedding's {} dimensions: k must be in [1, {}]",
                    item("k"), p.k, d, d));
  }

  std::vector<double> z(d);
  if (p.corpus) {
    for (std::size_t i = 0; i < d; ++i) z[i] = (e[i] - p.corpus->mean[i]) / p.corpus->sd[i];
  } else {
    const double mean = std::accumulate(e.begin(), e.end(), 0.0) / static_cast<double>(d);
    double ss = 0;
    for (double x : e) ss += (x - mean) * (x - mean);
    const double sd = std::sqrt(ss / static_cast<double>(d));
    if (!valid_sd(sd)) {
      throw DataError(fmt::format(
          "embedding is constant ({} in all {} entries): without corpus statistics its z-score "
          "is over its own entries, which needs a standard deviation > 0",
          e[0], d));
    }
    for (std::size_t i = 0; i < d; ++i) z[i] = (e[i] - mean) / sd;
  }

  // The k largest scores, ties to the lower index: a total order, so the
  // choice cannot depend on the sort algorithm.
  const bool both = p.tails == PopulationCodeParams::Tails::both;
  auto score = [&](std::uint32_t i) { return both ? std::abs(z[i]) : z[i]; };
  std::vector<std::uint32_t> order(d);
  std::iota(order.begin(), order.end(), 0u);
  auto before = [&](std::uint32_t a, std::uint32_t b) {
    const double sa = score(a), sb = score(b);
    return sa > sb || (sa == sb && a < b);
  };
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(p.k - 1), order.end(),
                   before);
  order.resize(p.k);

  Volley v;
  v.kept.reserve(p.k);
  for (std::uint32_t i : order) v.kept.push_back({i, z[i], both && z[i] < 0});
  auto code = [](const KeptDimension& kd) {
    return 2 * std::uint64_t{kd.index} + (kd.negative ? 1 : 0);
  };
  std::sort(v.kept.begin(), v.kept.end(),
            [&](const auto& a, const auto& b) { return code(a) < code(b); });

  // Neurons per code, collisions resolved by the code's next draw.
  const std::size_t driven = p.k * p.neurons_per_dim;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> neuron_count;
  neuron_count.reserve(driven);
  std::vector<std::uint32_t> taken;  // sorted, for the collision test
  taken.reserve(driven);
  const std::uint32_t block_stream = stream_id(StreamKind::encoding, 0);
  for (const auto& kd : v.kept) {
    const std::uint32_t count =
        p.graded ? static_cast<std::uint32_t>(std::clamp<double>(
                       std::round(p.spikes_per_z * std::abs(kd.z)), 1.0, p.spikes))
                 : p.spikes;
    RandomStream draws(p.seed, block_stream, static_cast<std::uint32_t>(code(kd)));
    for (std::size_t j = 0; j < p.neurons_per_dim; ++j) {
      for (;;) {
        const auto n = static_cast<std::uint32_t>(draws.below(p.sensory_size));
        const auto at = std::lower_bound(taken.begin(), taken.end(), n);
        if (at != taken.end() && *at == n) continue;
        taken.insert(at, n);
        neuron_count.emplace_back(n, count);
        break;
      }
    }
  }
  std::sort(neuron_count.begin(), neuron_count.end());
  v.neurons.reserve(driven);
  v.counts.reserve(driven);
  for (const auto& [n, c] : neuron_count) {
    v.neurons.push_back(n);
    v.counts.push_back(c);
  }

  // Spike steps: n spikes evenly spread over the window with the neuron's
  // own phase, so that a volley is not one synchronous wave.
  const std::uint64_t steps = p.window_steps();
  const std::uint32_t phase_stream = stream_id(StreamKind::encoding, 1);
  for (std::size_t i = 0; i < v.neurons.size(); ++i) {
    const double u = RandomStream(p.seed, phase_stream, v.neurons[i]).uniform();
    const std::uint32_t n = v.counts[i];
    for (std::uint32_t j = 0; j < n; ++j) {
      // (j + u) / n < 1, so the step is below `steps`; consecutive ones
      // differ by at least steps / n >= 1.
      const auto step = static_cast<std::uint64_t>((j + u) * static_cast<double>(steps) / n);
      v.spikes.push_back({std::min(step, steps - 1), v.neurons[i]});
    }
  }
  std::sort(v.spikes.begin(), v.spikes.end(), [](const Spike& a, const Spike& b) {
    return a.step < b.step || (a.step == b.step && a.neuron < b.neuron);
  });
  return v;
}

}  // namespace spikeline::encoding
