// The MPI communicator and the simulator over it, run under
// `mpirun -np 4` (tests/mpi/CMakeLists.txt). Every rank runs every test
// case; a collective that one rank skipped would hang, and the ctest
// TIMEOUT would say so.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "spikeline/engine/communicator.hpp"
#include "spikeline/engine/simulator.hpp"
#include "spikeline/engine/state_archive.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/io/sonata_reader.hpp"
#include "spikeline/learning/builtin.hpp"
#include "spikeline/mpi/communicator.hpp"
#include "spikeline/neurons/builtin.hpp"
#include "spikeline/synapses/connect.hpp"

using namespace spikeline;

namespace {

std::shared_ptr<Communicator> g_comm;

struct Collect : SimulationObserver {
  std::vector<SpikeRecord> spikes;
  std::vector<Step> windows;
  void on_spikes(std::span<const SpikeRecord> s) override {
    spikes.insert(spikes.end(), s.begin(), s.end());
  }
  void on_window(Step now) override { windows.push_back(now); }
};

// A small random network with two delays (window 2 steps) and a generator:
// built and run for 100 ms in one process or over `comm`; `after` sees the
// simulator at the end.
struct Outcome {
  std::vector<SpikeRecord> spikes;
  std::vector<Step> windows;
  std::uint64_t fingerprint = 0;
  std::size_t synapses = 0;
  Step window = 0;
};

// A rule's source that records which sources it was asked to draw.
struct Watched : SynapseSource {
  explicit Watched(std::shared_ptr<const SynapseSource> inner) : inner(std::move(inner)) {}
  bool by_target() const override { return inner->by_target(); }
  bool by_source() const override { return inner->by_source(); }
  void generate(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    whole = true;
    inner->generate(first, last, sink);
  }
  void generate_sources(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    ranges.emplace_back(first, last);
    inner->generate_sources(first, last, sink);
  }
  std::shared_ptr<const SynapseSource> inner;
  mutable bool whole = false;
  mutable std::vector<std::pair<NeuronIndex, NeuronIndex>> ranges;
};
std::shared_ptr<Watched> g_watched;  // set: wraps the network's fixed_outdegree projection

Outcome simulate(std::shared_ptr<Communicator> comm, unsigned partitions, int threads,
                 const std::function<void(Simulator&)>& after = {},
                 SimulationOptions::Overlap overlap = SimulationOptions::Overlap::automatic) {
  const char* text = R"(
[simulation]
dt = 0.1
duration = 100.0
seed = 11

[[population]]
name = "drive"
model = "poisson_generator"
size = 50
params = { rate = 40.0 }

[[population]]
name = "exc"
model = "iaf_psc_delta"
size = 203
params = { tau_m = 20.0, E_L = 0.0, V_th = 20.0, V_reset = 10.0, t_ref = 2.0 }

[[projection]]
name = "in"
source = "drive"
target = "exc"
rule = "fixed_probability"
p = 0.2
weight = 6.0
delay = 0.2

[[projection]]
name = "rec"
source = "exc"
target = "exc"
rule = "fixed_outdegree"
outdegree = 15
weight = { distribution = "uniform", low = 0.5, high = 2.0 }
delay = { distribution = "uniform", low = 0.2, high = 1.5 }
)";
  Registry registry;
  register_builtin_models(registry);
  register_builtin_rules(registry);
  synapses::register_builtin_connection_rules(registry);
  const io::Config c = io::parse_config(text, "<test>");
  io::BuiltNetwork built = io::build_network(c, registry);
  for (auto& proj : built.network.projections()) {
    if (g_watched && proj.drawn && proj.drawn->by_source()) {
      g_watched->inner = proj.drawn;
      proj.drawn = g_watched;
    }
  }
  SimulationOptions o;
  o.threads = threads;
  o.partitions = partitions;
  o.comm = std::move(comm);
  o.overlap = overlap;
  Simulator sim(std::move(built.network), o);
  Outcome out;
  out.fingerprint = sim.fingerprint();
  out.synapses = sim.synapse_count();
  out.window = sim.window();
  Collect collect;
  sim.run_until(1000, collect);
  out.spikes = std::move(collect.spikes);
  out.windows = std::move(collect.windows);
  if (after) after(sim);
  return out;
}

}  // namespace

TEST_CASE("the placement gives every partition to exactly one rank, in contiguous blocks") {
  for (unsigned p = 1; p <= 17; ++p) {
    for (int k = 1; k <= static_cast<int>(p); ++k) {
      unsigned next = 0;
      for (int r = 0; r < k; ++r) {
        const Placement pl = place(p, r, k);
        CHECK(pl.first == next);
        CHECK(pl.count() >= 1);
        for (unsigned q = pl.first; q < pl.end; ++q) CHECK(rank_of(q, p, k) == r);
        next = pl.end;
      }
      CHECK(next == p);
    }
  }
}

TEST_CASE("allgatherv hands every rank's records over in rank order") {
  Communicator& comm = *g_comm;
  REQUIRE(comm.size() == 4);
  // Rank r sends r records (rank 0 none) worth 100 r + i.
  std::vector<std::uint64_t> mine;
  for (int i = 0; i < comm.rank(); ++i) mine.push_back(100 * comm.rank() + i);
  std::vector<std::size_t> counts;
  const auto all = allgather_records(comm, std::span<const std::uint64_t>(mine), counts);
  CHECK(counts == std::vector<std::size_t>{0, 1, 2, 3});
  CHECK(all == std::vector<std::uint64_t>{100, 200, 201, 300, 301, 302});
  // Each rank's flags travel beside its count: every rank gets their or.
  std::uint64_t flags = comm.rank() == 2 ? 4 : 0;
  allgather_records(comm, std::span<const std::uint64_t>(mine), counts, &flags);
  CHECK(flags == 4);
  // Nothing anywhere: no records, and no second collective needed.
  const auto none = allgather_records(comm, std::span<const std::uint64_t>(), counts);
  CHECK(none.empty());
  CHECK(counts == std::vector<std::size_t>{0, 0, 0, 0});
}

TEST_CASE("gatherv brings every rank's records to rank 0 in rank order, and only there") {
  Communicator& comm = *g_comm;
  std::vector<std::uint64_t> mine;
  for (int i = 0; i < comm.rank(); ++i) mine.push_back(100 * comm.rank() + i);
  std::vector<std::size_t> counts{7};
  const auto all = gather_records(comm, std::span<const std::uint64_t>(mine), counts);
  if (comm.rank() == 0) {
    CHECK(counts == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(all == std::vector<std::uint64_t>{100, 200, 201, 300, 301, 302});
  } else {
    CHECK(counts.empty());
    CHECK(all.empty());
  }
}

TEST_CASE("broadcast gives every rank rank 0's bytes, whatever their size was") {
  Communicator& comm = *g_comm;
  std::vector<std::byte> bytes(comm.rank() == 0 ? 5 : 3 * comm.rank(), std::byte{0});
  if (comm.rank() == 0) {
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = std::byte(10 + i);
  }
  comm.broadcast(bytes);
  CHECK(bytes == std::vector<std::byte>{std::byte{10}, std::byte{11}, std::byte{12}, std::byte{13},
                                        std::byte{14}});
  std::vector<std::byte> none(comm.rank() == 0 ? 0 : 4);
  comm.broadcast(none);
  CHECK(none.empty());
}

TEST_CASE("agree throws the lowest key's failure on every rank; its owner keeps its type") {
  Communicator& comm = *g_comm;
  // Nobody failed: nothing is thrown.
  CHECK_NOTHROW(agree(comm, nullptr, 0));
  // Ranks 1 and 3 fail; rank 3's key is lower.
  struct Special : Error {
    Special() : Error(ExitCode::data, "rank 3's own failure") {}
  };
  std::exception_ptr failure;
  std::uint64_t key = 0;
  if (comm.rank() == 1) {
    failure = std::make_exception_ptr(Error(ExitCode::config, "rank 1's failure"));
    key = 9;
  } else if (comm.rank() == 3) {
    failure = std::make_exception_ptr(Special());
    key = 4;
  }
  try {
    agree(comm, failure, key);
    FAIL("agree returned although two ranks failed");
  } catch (const Special&) {
    CHECK(comm.rank() == 3);
  } catch (const Error& e) {
    CHECK(comm.rank() != 3);
    CHECK(e.code() == ExitCode::data);
    CHECK(std::string(e.what()) == "rank 3's own failure");
  }
  // Equal keys: the lowest rank's.
  failure =
      comm.rank() >= 2
          ? std::make_exception_ptr(Error(ExitCode::software, fmt::format("rank {}", comm.rank())))
          : nullptr;
  CHECK_THROWS_WITH(agree(comm, failure, 7), "rank 2");
}

TEST_CASE("allreduce takes the minimum, maximum and sum element by element") {
  Communicator& comm = *g_comm;
  const auto r = static_cast<std::uint64_t>(comm.rank());
  std::vector<std::uint64_t> lo{r + 5, 9 - r}, hi = lo, sum = lo;
  comm.allreduce_min(lo);
  comm.allreduce_max(hi);
  comm.allreduce_sum(sum);
  CHECK(lo == std::vector<std::uint64_t>{5, 6});
  CHECK(hi == std::vector<std::uint64_t>{8, 9});
  CHECK(sum == std::vector<std::uint64_t>{26, 30});
}

TEST_CASE("four ranks simulate the spikes, windows and fingerprint of one process") {
  const Outcome one = simulate(nullptr, 8, 1);
  // The network's own neurons spike (not only the generator).
  REQUIRE(std::count_if(one.spikes.begin(), one.spikes.end(),
                        [](const SpikeRecord& s) { return s.population == 1; }) > 100);
  CHECK(one.window == 2);
  using Overlap = SimulationOptions::Overlap;
  for (const auto& [threads, overlap] :
       {std::pair{1, Overlap::automatic}, {2, Overlap::automatic}, {1, Overlap::never}}) {
    INFO(threads << " threads, overlap " << (overlap == Overlap::automatic ? "on" : "off"));
    Overlap used = Overlap::never;
    const Outcome four = simulate(
        g_comm, 8, threads,
        [&](Simulator& sim) { used = sim.overlaps() ? Overlap::automatic : Overlap::never; },
        overlap);
    CHECK(used == overlap);
    CHECK(four.spikes == one.spikes);
    CHECK(four.windows == one.windows);
    CHECK(four.fingerprint == one.fingerprint);
    CHECK(four.synapses == one.synapses);
    CHECK(four.window == one.window);
  }
  // The partitions do not change the spikes (one per rank).
  CHECK(simulate(g_comm, 0, 1).spikes == one.spikes);
}

TEST_CASE("each rank draws only its quarter of a fixed_outdegree rule's sources") {
  g_watched = std::make_shared<Watched>(nullptr);
  const Outcome four = simulate(g_comm, 8, 1);
  const auto watched = std::move(g_watched);
  g_watched.reset();
  CHECK_FALSE(watched->whole);
  // 203 sources over 4 ranks: [r * 203 / 4, (r + 1) * 203 / 4).
  const auto r = static_cast<NeuronIndex>(g_comm->rank());
  REQUIRE(watched->ranges.size() == 1);
  CHECK(watched->ranges[0].first == r * 203 / 4);
  CHECK(watched->ranges[0].second == (r + 1) * 203 / 4);
  // And the network is the one process's.
  const Outcome one = simulate(nullptr, 8, 1);
  CHECK(four.fingerprint == one.fingerprint);
  CHECK(four.spikes == one.spikes);
}

namespace {

// drive -> exc from the SONATA file of make_edges.py (SPIKELINE_TEST_EDGES),
// read through `file` (delays the file's; weights the file's, or drawn
// from a distribution), over `comm`.
Outcome simulate_file(std::shared_ptr<Communicator> comm, std::shared_ptr<io::EdgesFile> file,
                      bool drawn_weights) {
  const std::string text = fmt::format(R"(
[simulation]
dt = 0.1
duration = 100.0
seed = 11

[[population]]
name = "drive"
model = "poisson_generator"
size = 50
params = {{ rate = 40.0 }}

[[population]]
name = "exc"
model = "iaf_psc_delta"
size = 203
params = {{ tau_m = 20.0, E_L = 0.0, V_th = 20.0, V_reset = 10.0, t_ref = 2.0 }}

[[projection]]
name = "file"
source = "drive"
target = "exc"
rule = "explicit"
file = "{}"
)",
                                       file->path());
  Registry registry;
  register_builtin_models(registry);
  register_builtin_rules(registry);
  synapses::register_builtin_connection_rules(registry);
  const io::Config c = io::parse_config(text, "<test>");
  io::BuiltNetwork built = io::build_network(c, registry);
  // The projection's source again, over the test's file (to count what it reads).
  synapses::ConnectionSpec spec = c.projections[0].spec;
  spec.edges.reader = io::edge_reader(spec.name, std::move(file));
  spec.edges.single_precision_delays = true;
  if (drawn_weights) {
    spec.edges.reader_weights = false;
    spec.weight = synapses::ValueSpec::uniform(2.0, 9.0);
  }
  const synapses::ConnectContext ctx{50, 203, false, built.network.grid(), 11, 0};
  built.network.projections()[0].drawn = synapses::make_source(spec, ctx);
  SimulationOptions o;
  o.partitions = 8;
  o.comm = std::move(comm);
  Simulator sim(std::move(built.network), o);
  Outcome out;
  out.fingerprint = sim.fingerprint();
  out.synapses = sim.synapse_count();
  Collect collect;
  sim.run_until(1000, collect);
  out.spikes = std::move(collect.spikes);
  return out;
}

}  // namespace

TEST_CASE("each rank reads only the edges onto its own neurons from an indexed SONATA file") {
  const char* path = std::getenv("SPIKELINE_TEST_EDGES");
  if (path == nullptr) {
    WARN("SPIKELINE_TEST_EDGES is not set (ctest's fixture writes the file): skipped");
    return;
  }
  // With the file's weights, and with weights drawn from each target's stream.
  const bool drawn = GENERATE(false, true);
  CAPTURE(drawn);
  auto mine = std::make_shared<io::EdgesFile>(path, "file");
  REQUIRE(mine->indexed());
  const Outcome four = simulate_file(g_comm, mine, drawn);
  // Rank r owns partitions [2r, 2r + 2) of 8: targets [2r * 203 / 8, (2r + 2) * 203 / 8).
  const auto r = static_cast<std::uint64_t>(g_comm->rank());
  const std::uint64_t first = 2 * r * 203 / 8, last = (2 * r + 2) * 203 / 8;
  std::uint64_t onto_mine = 0;
  const io::EdgesFile all(path, "file");
  all.read_all([&](const io::EdgesBlock& b) {
    for (const auto t : b.target) onto_mine += t >= first && t < last ? 1 : 0;
  });
  REQUIRE(all.size() == 3000);
  // Exactly the edges onto its targets were read, a quarter or so of the file.
  CHECK(mine->edges_read() == onto_mine);
  CHECK(onto_mine < 1000);
  std::uint64_t read = mine->edges_read();
  g_comm->allreduce_sum({&read, 1});
  CHECK(read == 3000);
  // And the network is one process's (which reads the whole file once).
  auto whole = std::make_shared<io::EdgesFile>(path, "file");
  const Outcome one = simulate_file(nullptr, whole, drawn);
  CHECK(whole->edges_read() == 3000);
  REQUIRE(one.synapses == 3000);
  CHECK(four.synapses == one.synapses);
  CHECK(four.fingerprint == one.fingerprint);
  CHECK(four.spikes == one.spikes);
  CHECK(std::count_if(one.spikes.begin(), one.spikes.end(),
                      [](const SpikeRecord& s) { return s.population == 1; }) > 100);
}

TEST_CASE("rank 0 merges the ranks' checkpoints into one process's, field for field") {
  MemoryArchive one;
  simulate(nullptr, 8, 1, [&](Simulator& sim) { sim.checkpoint(one); });
  std::optional<MemoryArchive> merged;
  std::size_t own_partitions = 0;
  simulate(g_comm, 8, 1, [&](Simulator& sim) {
    MemoryArchive mine;
    sim.checkpoint(mine);
    for (const auto& [path, f] : mine.fields()) {
      if (path.starts_with("simulator/partitions/") && path.ends_with("/in_flight/deliveries"))
        ++own_partitions;
    }
    merged = sim.gather_checkpoint(mine, true);
  });
  // Each rank saved its 2 partitions of 8; rank 0 alone holds the merge.
  CHECK(own_partitions == 2);
  if (g_comm->rank() != 0) {
    CHECK_FALSE(merged);
    return;
  }
  REQUIRE(merged);
  REQUIRE(merged->fields().size() == one.fields().size());
  for (std::size_t i = 0; i < one.fields().size(); ++i) {
    const auto& [path, f] = one.fields()[i];
    const auto& [merged_path, g] = merged->fields()[i];
    INFO(path);
    CHECK(merged_path == path);  // one process's order too
    CHECK(g.type == f.type);
    CHECK(g.elem_size == f.elem_size);
    CHECK(g.bytes == f.bytes);
  }
}

TEST_CASE("a checkpoint one rank failed to save is merged by nobody") {
  simulate(g_comm, 8, 1, [&](Simulator& sim) {
    MemoryArchive mine;
    sim.checkpoint(mine);
    CHECK_FALSE(sim.gather_checkpoint(mine, g_comm->rank() != 2));
  });
}

TEST_CASE("a field neither per partition nor per neuron that differs between ranks is named") {
  simulate(g_comm, 8, 1, [&](Simulator& sim) {
    MemoryArchive saved;
    sim.checkpoint(saved);
    // Rank 1's copy of a replicated field (the simulated time) is off by one.
    MemoryArchive mine;
    for (auto [path, f] : saved.fields()) {
      if (g_comm->rank() == 1 && path == "simulator/now") ++f.bytes[0];
      mine.add(path, f);
    }
    if (g_comm->rank() == 0) {
      CHECK_THROWS_WITH(sim.gather_checkpoint(mine, true),
                        Catch::Contains("'simulator/now' differs between MPI ranks 0 and 1"));
    } else {
      CHECK_FALSE(sim.gather_checkpoint(mine, true));
    }
  });
}

TEST_CASE("an archive travels as bytes and back; bytes cut short are refused") {
  MemoryArchive a;
  std::vector<float> v{1.5f, -2.0f};
  std::vector<std::uint8_t> text{'a', 'b'};
  a.field("x/v", v);
  a.field("y", text);
  const std::vector<std::byte> bytes = to_bytes(a);
  const MemoryArchive b = archive_from_bytes(bytes);
  REQUIRE(b.fields().size() == 2);
  CHECK(b.fields()[0].first == "x/v");
  CHECK(b.fields()[0].second.type == FieldType::f32);
  CHECK(b.fields()[0].second.bytes == a.fields()[0].second.bytes);
  CHECK(b.fields()[1].second.bytes == a.fields()[1].second.bytes);
  CHECK_THROWS_AS(archive_from_bytes(std::span<const std::byte>(bytes).first(bytes.size() - 1)),
                  CheckpointError);
}

TEST_CASE("fewer partitions than ranks is refused, naming both") {
  CHECK_THROWS_WITH(simulate(g_comm, 3, 1),
                    Catch::Contains("simulation.partitions = 3 is fewer than the 4 MPI ranks"));
}

int main(int argc, char** argv) {
  g_comm = mpi::make_communicator(argc, argv);
  int failed = Catch::Session().run(argc, argv);
  // Every rank's verdict: the test fails when any rank's did.
  std::uint64_t worst = failed != 0 ? 1 : 0;
  g_comm->allreduce_max({&worst, 1});
  g_comm.reset();  // MPI_Finalize
  return worst != 0 ? 1 : 0;
}
