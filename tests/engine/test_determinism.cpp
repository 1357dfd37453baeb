// The same network and seed give bit-identical spikes whatever the number of
// threads and of partitions, on every run; the lazy (event-driven) and
// stepped paths of a model agree.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "harness.hpp"
#include "spikeline/engine/random.hpp"

using namespace spikeline;
using namespace spikeline::test;

namespace {

struct Variant {
  int threads;
  unsigned partitions;
  bool force_stepped = false;
  bool late_current = false;  // a step current into 'cond' at step 2000
  SimulationOptions::SourceBitmaps bitmaps = SimulationOptions::SourceBitmaps::automatic;
  std::uint32_t longer = 0;  // added to every delay (the window is 1 + longer steps)
  Step window_steps = 0;
  SimulationOptions::Overlap overlap = SimulationOptions::Overlap::automatic;
  bool probe = false;  // V_m of three 'cond' neurons every 2 steps from step 3
};

// A COBA-like conductance network, a sparse delta network with delays from
// 0.1 to 5 ms, and Poisson input: every engine path at once.
std::unique_ptr<Simulator> make_mixed(const Variant& v, std::uint64_t seed,
                                      std::vector<UpdateMode>* modes = nullptr) {
  Network net(TimeGrid(0.1), seed);
  const auto poisson = add(net, "poisson", "poisson_generator", 300, params({{"rate", 40.0}}));
  const auto delta = add(
      net, "delta", "iaf_psc_delta", 2000,
      params({{"E_L", 0.0}, {"V_reset", 10.0}, {"V_th", 20.0}, {"tau_m", 20.0}, {"t_ref", 2.0}}));
  const auto cond = add(net, "cond", "iaf_cond_exp", 400,
                        params({{"C_m", 200.0},
                                {"g_L", 10.0},
                                {"E_L", -60.0},
                                {"V_reset", -60.0},
                                {"V_th", -50.0},
                                {"t_ref", 5.0},
                                {"E_ex", 0.0},
                                {"E_in", -80.0},
                                {"tau_syn_ex", 5.0},
                                {"tau_syn_in", 10.0}}));
  auto& cpop = *net.populations()[cond].population;
  for (NeuronIndex i = 0; i < 400; ++i) {
    RandomStream r(seed, 99, i);
    cpop.set_state(0, i, r.normal(-65, 5));
    cpop.set_state(1, i, r.normal(40, 15));
    cpop.set_state(2, i, r.normal(200, 120));
  }
  RandomStream rng(seed, 1234, 0);
  std::vector<SynapseRecord> in, rec, cc, cd;
  for (NeuronIndex j = 0; j < 2000; ++j) {
    for (int k = 0; k < 3; ++k)
      in.push_back({static_cast<NeuronIndex>(rng.below(300)), j, 12.0f,
                    1 + static_cast<std::uint32_t>(rng.below(20))});
    for (int k = 0; k < 10; ++k) {
      rec.push_back({static_cast<NeuronIndex>(rng.below(2000)), j, k < 8 ? 2.5f : -3.0f,
                     10 + static_cast<std::uint32_t>(rng.below(41))});
    }
  }
  for (NeuronIndex j = 0; j < 400; ++j) {
    for (NeuronIndex i = 0; i < 400; ++i) {
      if (rng.uniform() < 0.05) cc.push_back({i, j, i < 320 ? 6.0f : -67.0f, 1});
    }
    cd.push_back({static_cast<NeuronIndex>(rng.below(2000)), j, 3.0f, 7});
  }
  for (auto* list : {&in, &rec, &cc, &cd}) {
    for (auto& syn : *list) syn.delay += v.longer;
  }
  net.add_projection("in", poisson, delta, in);
  net.add_projection("rec", delta, delta, rec);
  net.add_projection("cc", cond, cond, cc);
  net.add_projection("dc", delta, cond, cd);
  if (v.force_stepped) {
    // A zero current changes nothing in the dynamics but rules out the lazy path.
    net.add_stimulus({"zero", delta, {}, {{0, 0.0}}, {}});
  }
  if (v.probe) net.add_probe({cond, {0}, {1, 150, 399}, 3, 2});
  if (v.late_current) net.add_stimulus({"step", cond, {1, 5, 9}, {{2000, 300.0}}, {}});
  SimulationOptions opt;
  opt.threads = v.threads;
  opt.partitions = v.partitions;
  opt.source_bitmaps = v.bitmaps;
  opt.window_steps = v.window_steps;
  opt.overlap = v.overlap;
  auto sim = std::make_unique<Simulator>(std::move(net), opt);
  if (modes) {
    for (std::size_t q = 0; q < 3; ++q) modes->push_back(sim->mode(q));
  }
  return sim;
}

std::vector<SpikeRecord> run_mixed(const Variant& v, std::uint64_t seed, Step steps,
                                   std::vector<UpdateMode>* modes = nullptr) {
  auto sim = make_mixed(v, seed, modes);
  Collector c;
  sim->run_until(steps, c);
  return c.spikes;
}

}  // namespace

TEST_CASE("identical spikes at 1, 2 and 4 threads and any partitioning", "[determinism]") {
  const auto reference = run_mixed({1, 1}, 42, 3000);
  std::size_t per_pop[3] = {0, 0, 0};
  for (const auto& s : reference) ++per_pop[s.population];
  INFO("spikes per population: " << per_pop[0] << " " << per_pop[1] << " " << per_pop[2]);
  REQUIRE(per_pop[0] > 1000);  // the test is only meaningful with activity everywhere
  REQUIRE(per_pop[1] > 1000);
  REQUIRE(per_pop[2] > 1000);
  for (const Variant v :
       {Variant{1, 4}, Variant{2, 4}, Variant{4, 4}, Variant{2, 7}, Variant{4, 16}}) {
    INFO("threads " << v.threads << ", partitions " << v.partitions);
    const auto spikes = run_mixed(v, 42, 3000);
    CHECK(spikes.size() == reference.size());
    CHECK(hash(spikes) == hash(reference));
  }
  CHECK(hash(run_mixed({2, 4}, 42, 3000)) == hash(reference));  // a repeated run
  CHECK(hash(run_mixed({1, 1}, 43, 3000)) != hash(reference));  // another seed differs
}

// 70,000 delta neurons: one partition holds all of them, beyond 16-bit
// offsets (32-bit targets), two hold 35,000 each (16-bit offsets).
std::vector<SpikeRecord> run_wide(unsigned partitions, bool stepped) {
  constexpr NeuronIndex kN = 70000;
  Network net(TimeGrid(0.1), 8);
  const auto poisson = add(net, "poisson", "poisson_generator", 500, params({{"rate", 40.0}}));
  const auto delta = add(
      net, "delta", "iaf_psc_delta", kN,
      params({{"E_L", 0.0}, {"V_reset", 10.0}, {"V_th", 20.0}, {"tau_m", 20.0}, {"t_ref", 2.0}}));
  RandomStream rng(8, 1, 0);
  std::vector<SynapseRecord> in, rec;
  for (NeuronIndex j = 0; j < kN; ++j) {
    for (int k = 0; k < 3; ++k)
      in.push_back({static_cast<NeuronIndex>(rng.below(500)), j, 12.0f,
                    1 + static_cast<std::uint32_t>(rng.below(20))});
    for (int k = 0; k < 4; ++k) {
      rec.push_back({static_cast<NeuronIndex>(rng.below(kN)), j, k < 3 ? 2.5f : -3.0f,
                     10 + static_cast<std::uint32_t>(rng.below(41))});
    }
  }
  net.add_projection("in", poisson, delta, in);
  net.add_projection("rec", delta, delta, rec);
  if (stepped) net.add_stimulus({"zero", delta, {}, {{0, 0.0}}, {}});
  SimulationOptions opt;
  opt.threads = 1;
  opt.partitions = partitions;
  Simulator sim(std::move(net), opt);
  REQUIRE(sim.mode(delta) == (stepped ? UpdateMode::stepped : UpdateMode::event_driven));
  Collector c;
  sim.run_until(600, c);
  return c.spikes;
}

TEST_CASE("16-bit and 32-bit target storage deliver the same spikes",
          "[determinism][connectivity]") {
  const auto wide = run_wide(1, true);
  std::size_t recurrent = 0;
  for (const auto& s : wide) recurrent += s.population == 1 ? 1 : 0;
  INFO("delta spikes: " << recurrent);
  REQUIRE(recurrent > 10000);
  CHECK(hash(run_wide(2, true)) == hash(wide));
  // The event-driven path reads targets one at a time: the same spikes too.
  CHECK(hash(run_wide(1, false)) == hash(wide));
  CHECK(hash(run_wide(2, false)) == hash(wide));
}

TEST_CASE("identical spikes with the source bitmaps on and off", "[determinism][source_bitmap]") {
  // At 16 and 64 partitions most of 'dc's rows (400 synapses from 2,000
  // sources) and many of 'rec's are empty in each partition: filing skips
  // them on a bit. Spikes must not notice.
  using Mode = SimulationOptions::SourceBitmaps;
  const auto reference = run_mixed({1, 1, false, false, Mode::never}, 42, 3000);
  std::size_t kept = 0, dense = 0;  // blocks with and without a bitmap (automatic)
  for (const unsigned partitions : {16u, 64u}) {
    for (const int threads : {1, 2}) {
      for (const Mode mode : {Mode::never, Mode::always, Mode::automatic}) {
        INFO("partitions " << partitions << ", threads " << threads << ", mode "
                           << static_cast<int>(mode));
        auto sim = make_mixed({threads, partitions, false, false, mode}, 42);
        if (mode == Mode::automatic) {
          for (std::size_t k = 0; k < 4; ++k) {
            for (unsigned p = 0; p < partitions; ++p)
              (sim->source_bitmap(k, p).empty() ? dense : kept) += 1;
          }
        }
        Collector c;
        sim->run_until(3000, c);
        CHECK(c.spikes.size() == reference.size());
        CHECK(hash(c.spikes) == hash(reference));
      }
    }
  }
  // Both kinds of block are in the automatic runs.
  CHECK(kept > 0);
  CHECK(dense > 0);
}

TEST_CASE("identical spikes for any window length, with and without overlap",
          "[determinism][overlap]") {
  // Delays of 0.5 ms and more: W = 5 steps. Windows of 1 to 5 steps, and
  // with overlap (K = 1, `always`) each window as two epochs (from 2 steps
  // on) whose spikes are filed an epoch late: the spikes must not notice.
  using Overlap = SimulationOptions::Overlap;
  Variant base{1, 4};
  base.longer = 4;
  base.overlap = Overlap::never;
  base.probe = true;
  Collector reference_run;
  make_mixed(base, 42)->run_until(1500, reference_run);
  const auto& reference = reference_run.spikes;
  REQUIRE(all_frames(reference_run).size() == 3 * 749);
  std::size_t per_pop[3] = {0, 0, 0};
  for (const auto& s : reference) ++per_pop[s.population];
  REQUIRE(per_pop[1] > 500);
  REQUIRE(per_pop[2] > 500);
  for (const int threads : {1, 2}) {
    for (const Step window : {1, 2, 3, 4, 5}) {
      for (const Overlap overlap : {Overlap::never, Overlap::always}) {
        INFO("threads " << threads << ", window " << window << ", overlap "
                        << (overlap == Overlap::always));
        Variant v = base;
        v.threads = threads;
        v.window_steps = window;
        v.overlap = overlap;
        auto sim = make_mixed(v, 42);
        CHECK(sim->window() == 5);
        CHECK(sim->overlaps() == (overlap == Overlap::always && window >= 2));
        Collector c;
        // In pieces, as a session runs between its flushes.
        sim->run_until(701, c);
        sim->run_until(1500, c);
        CHECK(c.spikes.size() == reference.size());
        CHECK(hash(c.spikes) == hash(reference));
        CHECK(all_frames(c) == all_frames(reference_run));
      }
    }
  }
  base.window_steps = 6;
  CHECK_THROWS_WITH(make_mixed(base, 42),
                    "window_steps = 6 is outside [0, 5]: a window spans at most the shortest "
                    "delay, 5 steps (0: that)");
}

TEST_CASE("projections laid out concurrently report the first one's error", "[errors]") {
  // Three projections, the second and third invalid (a source out of range,
  // then a delay of zero): at any thread count the error is the second's,
  // as in a serial build, however the layouts are scheduled.
  for (const int threads : {1, 2, 4}) {
    for (int repeat = 0; repeat < 5; ++repeat) {
      Network net(TimeGrid(0.1), 3);
      const auto a = add(net, "a", "iaf_psc_delta", 100, params({}));
      std::vector<SynapseRecord> good, bad_source, bad_delay;
      for (NeuronIndex j = 0; j < 100; ++j) {
        for (NeuronIndex i = 0; i < 100; i += 3) good.push_back({i, j, 1.0f, 1});
      }
      bad_source = good;
      bad_source.push_back({100, 7, 1.0f, 2});
      bad_delay = good;
      bad_delay.push_back({1, 8, 1.0f, 0});
      net.add_projection("good", a, a, good);
      net.add_projection("bad_source", a, a, bad_source);
      net.add_projection("bad_delay", a, a, bad_delay);
      SimulationOptions opt;
      opt.threads = threads;
      INFO("threads " << threads);
      CHECK_THROWS_WITH(Simulator(std::move(net), opt),
                        Catch::Contains("synapse 100 -> 7 (delay 2 steps) is invalid"));
    }
  }
}

TEST_CASE("the event-driven and stepped paths give the same spikes", "[determinism][lazy]") {
  std::vector<UpdateMode> lazy_modes, stepped_modes;
  const auto lazy = run_mixed({1, 4}, 5, 3000, &lazy_modes);
  const auto stepped = run_mixed({1, 4, true}, 5, 3000, &stepped_modes);
  REQUIRE(lazy_modes[1] == UpdateMode::event_driven);
  REQUIRE(stepped_modes[1] == UpdateMode::stepped);
  CHECK(lazy_modes[0] == UpdateMode::scheduled);
  CHECK(lazy.size() == stepped.size());
  CHECK(hash(lazy) == hash(stepped));
}

TEST_CASE("a run checkpointed and restored gives the same spikes as one never stopped",
          "[determinism][checkpoint]") {
  // A step current that changes after the checkpoint keeps a current event
  // queued across it; Poisson emissions and spikes in flight (delays up to
  // 5 ms) cross it too. One simulator at a time: each sets oneTBB's
  // process-wide thread limit.
  auto with_stimulus = [](const Variant& v) {
    return make_mixed({v.threads, v.partitions, true, true}, 7);
  };
  Collector reference;
  with_stimulus({1, 4})->run_until(3000, reference);
  {
    Collector without;  // the late current is felt
    make_mixed({1, 4, true, false}, 7)->run_until(3000, without);
    REQUIRE(hash(without.spikes) != hash(reference.spikes));
  }

  for (const int threads : {1, 2, 3}) {
    INFO("threads before " << threads << ", after " << 4 - threads);
    auto first = with_stimulus({threads, 4});
    Collector c;
    first->run_until(1237, c);  // not a window boundary of the whole run
    MemoryArchive archive;
    first->checkpoint(archive);
    first.reset();  // nothing of the first simulator survives but the archive

    auto second = with_stimulus({4 - threads, 4});
    archive.set_loading(true);
    second->checkpoint(archive);
    CHECK(second->now() == 1237);
    second->run_until(3000, c);
    CHECK(c.spikes.size() == reference.spikes.size());
    CHECK(hash(c.spikes) == hash(reference.spikes));
  }
}

TEST_CASE("a run stopped by an observer's error keeps its spikes in flight", "[checkpoint]") {
  // A window's spikes are filed into the delay lines when the next window
  // starts; a run that an observer (or a guard) stops after a window must
  // still leave them filed, so that a checkpoint taken then continues
  // exactly. Stopped at step 1237, spikes in flight for up to 5 ms.
  struct Stopper : Collector {
    Step at;
    explicit Stopper(Step s) : at(s) {}
    void on_window(Step now) override {
      if (now == at) throw std::runtime_error("stop here");
    }
  };
  Collector reference;
  make_mixed({1, 4}, 11)->run_until(3000, reference);
  for (const int threads : {1, 2}) {
    INFO(threads << " threads");
    auto first = make_mixed({threads, 4}, 11);
    Stopper c(1237);
    CHECK_THROWS_WITH(first->run_until(3000, c), "stop here");
    REQUIRE(first->now() == 1237);
    MemoryArchive archive;
    first->checkpoint(archive);
    first.reset();  // one simulator at a time (see above)
    auto second = make_mixed({threads, 4}, 11);
    archive.set_loading(true);
    second->checkpoint(archive);
    second->run_until(3000, c);
    CHECK(hash(c.spikes) == hash(reference.spikes));
  }
}

TEST_CASE("a checkpoint refuses another partitioning and another network", "[checkpoint][errors]") {
  auto sim = make_mixed({1, 4}, 7);
  Collector c;
  sim->run_until(100, c);
  MemoryArchive archive;
  sim->checkpoint(archive);
  archive.set_loading(true);
  {
    auto other = make_mixed({1, 5}, 7);
    CHECK_THROWS_WITH(other->checkpoint(archive),
                      Catch::Contains("written with 4 partitions, this simulation has 5") &&
                          Catch::Contains("--partitions 4"));
  }
  {
    auto other = make_mixed({1, 4}, 8);  // another seed: other synapses, same sizes
    CHECK(other->fingerprint() != sim->fingerprint());
    CHECK(make_mixed({2, 4}, 7)->fingerprint() == sim->fingerprint());
  }
  {
    // A field of another size names the field and both sizes.
    MemoryArchive wrong;
    for (const auto& [path, f] : archive.fields()) {
      auto g = f;
      if (path == "simulator/populations/cond/V_m") g.bytes.resize(g.bytes.size() - 8);
      wrong.add(path, g);
    }
    wrong.set_loading(true);
    auto other = make_mixed({1, 4}, 7);
    CHECK_THROWS_WITH(other->checkpoint(wrong),
                      Catch::Contains("'simulator/populations/cond/V_m' holds 399 values where "
                                      "this network has 400"));
    CHECK(checksum(wrong) != checksum(archive));
  }
}
