// The model tables (engine/model_table.hpp): a model written as its
// equations plus two tables gets its parameters read and checked, its
// listing, state access and checkpoint fields from them. The toy model here
// is written the way a plugin author would write one.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <memory>

#include "spikeline/engine/model_table.hpp"

using namespace spikeline;
using Catch::Contains;

namespace {

struct ToyParams {
  enum class Mode { fast, slow };
  double tau = 10.0;
  double gain = 0.5;
  double floor = -INFINITY;
  std::string source = "drive";
  Mode mode = Mode::slow;

  ToyParams() = default;
  explicit ToyParams(const ParamMap& p) { table().read(*this, p); }
  static const ParamTable<ToyParams>& table() {
    using P = Param<ToyParams>;
    static const ParamTable<ToyParams> t{
        P::number("tau", "ms", &ToyParams::tau, Range::positive, "time constant"),
        P::number("gain", "", &ToyParams::gain, Range::unit, "mixing (per step)"),
        P::number("floor", "mV", &ToyParams::floor, Range::not_nan, "lower bound"),
        P::text("source", &ToyParams::source, "the input's name"),
        P::choice("mode", &ToyParams::mode, {"fast", "slow"}, "integration"),
    };
    return t;
  }
};

class Toy final : public TabledPopulation<Toy> {
 public:
  explicit Toy(const ModelContext& ctx)
      : TabledPopulation(ctx.size),
        p_(ctx.params),
        x_(ctx.size, 1.0),
        s_(ctx.size, 0),
        counter_(ctx.size, 7) {}
  void update(Step, IndexRange, const InputView&, SpikeSink&) override {}
  static const StateTable<Toy>& state_table() {
    static const StateTable<Toy> t{
        "toy", {{"x", "mV", "the state", &Toy::x_}, {"s", "", "a flag", &Toy::s_}}};
    return t;
  }
  void checkpoint_extra(StateArchive& a) { a.field("counter", counter_); }
  const ToyParams& params() const { return p_; }

 private:
  ToyParams p_;
  StateArray x_;
  std::vector<std::uint8_t> s_;
  std::vector<std::int32_t> counter_;
};

ParamMap toy_params(std::initializer_list<std::pair<const char*, ParamValue>> list) {
  ParamMap p("population 'p' (toy)");
  for (const auto& [k, v] : list) p.set(k, v);
  return p;
}

}  // namespace

TEST_CASE("a parameter table reads, defaults and checks every parameter", "[model_table]") {
  const ToyParams d(toy_params({}));
  CHECK(d.tau == 10.0);
  CHECK(d.mode == ToyParams::Mode::slow);
  CHECK(d.source == "drive");

  const ToyParams p(toy_params({{"tau", 2.5},
                                {"floor", -INFINITY},
                                {"mode", std::string("fast")},
                                {"source", std::string("x")}}));
  CHECK(p.tau == 2.5);
  CHECK(std::isinf(p.floor));
  CHECK(p.mode == ToyParams::Mode::fast);
  CHECK(p.source == "x");

  REQUIRE_THROWS_WITH(ToyParams(toy_params({{"tau", 0.0}})),
                      Contains("population 'p' (toy) parameter tau = 0 ms") && Contains("> 0"));
  REQUIRE_THROWS_WITH(ToyParams(toy_params({{"tau", NAN}})), Contains("tau = nan ms"));
  REQUIRE_THROWS_WITH(ToyParams(toy_params({{"gain", 1.5}})),
                      Contains("gain = 1.5") && Contains("[0, 1]"));
  REQUIRE_THROWS_WITH(ToyParams(toy_params({{"floor", NAN}})), Contains("floor = nan mV"));
  REQUIRE_THROWS_WITH(ToyParams(toy_params({{"mode", std::string("fsat")}})),
                      Contains("mode = 'fsat' is invalid") && Contains("did you mean 'fast'") &&
                          Contains("fast, slow"));
  REQUIRE_THROWS_WITH(ToyParams(toy_params({{"source", std::string("")}})),
                      Contains("parameter source is empty"));
}

TEST_CASE("a parameter table lists units, defaults and ranges", "[model_table]") {
  const auto infos = ToyParams::table().infos();
  REQUIRE(infos.size() == 5);
  CHECK(infos[0].name == "tau");
  CHECK(infos[0].unit == "ms");
  CHECK(infos[0].default_value == 10.0);
  CHECK(infos[0].doc == "time constant (> 0)");
  CHECK(infos[1].doc == "mixing (in [0, 1], per step)");
  CHECK(infos[2].doc == "lower bound");
  CHECK(infos[3].default_text == "drive");
  CHECK(std::isnan(infos[4].default_value));
  CHECK(infos[4].default_text == "slow");
  CHECK(infos[4].doc == "integration: \"fast\" or \"slow\"");
}

TEST_CASE("a state table gives state access, flags and checkpoint fields", "[model_table]") {
  const TimeGrid grid(0.1);
  const ParamMap params = toy_params({});
  const ModelContext ctx{"p", 3, params, grid, 1, 0};
  Toy toy(ctx);
  Population& pop = toy;

  REQUIRE(pop.state_vars().size() == 2);
  CHECK(pop.state_vars()[0].name == "x");
  CHECK(pop.state_vars()[1].unit == "");
  CHECK(state_var_index(pop, "s", "p") == 1);

  pop.set_state(0, 2, -3.5);
  CHECK(pop.state(0, 2, 0) == -3.5);
  CHECK(pop.state(0, 1, 0) == 1.0);
  pop.set_state(1, 0, 1.0);
  CHECK(pop.state(1, 0, 0) == 1.0);
  REQUIRE_THROWS_WITH(pop.set_state(1, 1, 0.5),
                      Contains("toy state s of neuron 1 = 0.5") && Contains("0 or 1"));
  REQUIRE_THROWS_WITH(pop.state(2, 0, 0), Contains("toy: no state variable with index 2"));

  REQUIRE(pop.checkpointable());
  MemoryArchive a;
  pop.checkpoint(a);
  REQUIRE(a.fields().size() == 3);
  CHECK(a.fields()[0].first == "x");
  CHECK(a.fields()[1].first == "s");
  CHECK(a.fields()[2].first == "counter");  // the model's own, after the table's

  // Restored into a fresh model: the same state.
  Toy other(ctx);
  a.set_loading(true);
  other.checkpoint(a);
  CHECK(other.state(0, 2, 0) == -3.5);
  CHECK(other.state(1, 0, 0) == 1.0);
}

TEST_CASE("a tabled model's registry entry comes from its tables", "[model_table]") {
  const ModelInfo m = tabled_model<Toy, ToyParams>("toy", "a toy");
  CHECK(m.name == "toy");
  CHECK(m.kind == ModelKind::neuron);
  REQUIRE(m.params.size() == 5);
  REQUIRE(m.state_vars.size() == 2);
  CHECK(m.state_vars[1].doc == "a flag");
  const TimeGrid grid(0.1);
  const ParamMap params = toy_params({{"tau", 4.0}});
  const auto pop = m.make_population({"p", 2, params, grid, 1, 0});
  CHECK(dynamic_cast<Toy&>(*pop).params().tau == 4.0);
  Registry r;
  r.add(m);
  REQUIRE_THROWS_WITH(Registry::check_param_names(r.get("toy", "test"), toy_params({{"x", 1.0}})),
                      Contains("'x' is a state variable of toy") && Contains("initial"));
}

// The update loops load 64 bytes at a time (AVX-512): an array that starts
// off a cache line makes most of those loads straddle two lines, which
// cost COBA's loop up to 10% depending on where malloc put each array.
TEST_CASE("state arrays start on a cache line whatever the heap did before", "[model_table]") {
  std::vector<std::unique_ptr<char[]>> clutter;
  std::vector<StateArray> arrays;
  std::vector<AlignedVector<std::int32_t>> counters;
  for (std::size_t n = 1; n <= 300; n += 7) {
    clutter.emplace_back(new char[n % 48 + 1]);  // moves malloc's next block off a line
    arrays.emplace_back(n, 1.5);
    counters.emplace_back(n, 3);
    arrays.back().resize(n * 3);  // and a reallocation keeps it
  }
  for (const auto& a : arrays) CHECK(reinterpret_cast<std::uintptr_t>(a.data()) % kCacheLine == 0);
  for (const auto& c : counters)
    CHECK(reinterpret_cast<std::uintptr_t>(c.data()) % kCacheLine == 0);
  CHECK(arrays.back()[0] == 1.5);
  CHECK(arrays.back().back() == 0.0);
}
