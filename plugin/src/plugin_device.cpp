#include "plugin_device.hpp"

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/random.hpp"

namespace spikeline::plugin::detail {

namespace {

class PluginWave final : public CurrentWave {
 public:
  PluginWave(std::shared_ptr<const Device> device, const ParamMap& p, const TimeGrid& grid,
             const WaveContext& wave)
      : device_(std::move(device)),
        stimulus_(p.owner()),
        seed_(wave.seed),
        // The stream of the built-in noise_current, keyed by the stimulus:
        // two stimuli never share numbers, and noise_current written
        // against this interface draws what it drew before.
        stream_(stream_id(StreamKind::noise_current, wave.stimulus)) {
    const Device& d = *device_;
    params_ = one_value_params(d.params, p, d.required);
    choices_ = resolve_choices(d.choices, p);
    ctx_.base.struct_size = sizeof(spk_device_ctx);
    ctx_.base.stimulus = stimulus_.c_str();
    ctx_.base.dt = grid.dt();
    ctx_.base.n_params = static_cast<std::uint32_t>(params_.size());
    ctx_.base.params = params_.data();
    ctx_.base.n_choices = static_cast<std::uint32_t>(choices_.size());
    ctx_.base.choice = choices_.data();
    ctx_.base.normal = &draw<&RandomStream::normal>;
    ctx_.base.uniform = &draw<&RandomStream::uniform>;
    ctx_.self = this;
    void* constants = nullptr;
    constants_raw_ = aligned_zeroed(d.constants_size, constants);
    ctx_.base.constants = constants;
    if (d.prepare != nullptr) {
      refuse_unless_ok([&](char* e, std::size_t n) { return d.prepare(&ctx_.base, e, n); },
                       // A built-in's message names the stimulus and the item itself.
                       d.builtin ? std::string()
                                 : fmt::format("{}: {}: the parameters are refused", p.owner(),
                                               d.label("device", d.name)));
    }
  }

  void add(Step t, std::span<const NeuronIndex> neurons, double* current) const override {
    char error[1024];
    error[0] = '\0';
    spk_current_args a{};
    a.struct_size = sizeof(spk_current_args);
    a.step = t;
    static_assert(sizeof(NeuronIndex) == sizeof(std::uint32_t));
    a.neurons = neurons.data();
    a.count = static_cast<std::uint32_t>(neurons.size());
    a.current = current;
    a.error = error;
    a.error_size = sizeof error;
    if (device_->current(&ctx_.base, &a) != SPK_OK) {
      error[sizeof error - 1] = '\0';
      throw Error(
          ExitCode::software,
          fmt::format("{} ({}): current failed at step {} ({:.12g} ms): {}",
                      device_->label("device", device_->name), stimulus_, t,
                      static_cast<double>(t) * ctx_.base.dt, *error ? error : "(no message)"));
    }
  }

 private:
  // The context the plugin sees, and (after it, where the plugin never
  // looks) the wave it belongs to, for the random functions.
  struct Ctx {
    spk_device_ctx base{};
    const PluginWave* self = nullptr;
  };
  static const PluginWave& wave_of(const spk_device_ctx* c) {
    return *reinterpret_cast<const Ctx*>(c)->self;
  }
  // Draw k of (neuron, counter) for each neuron: the k-th number of a fresh
  // stream, so that draw 0 is the first normal noise_current always drew.
  template <double (RandomStream::*kDraw)()>
  static void draw(const spk_device_ctx* c, std::uint64_t counter, std::uint32_t k,
                   const std::uint32_t* neurons, std::uint32_t count, double* out) {
    const PluginWave& w = wave_of(c);
    for (std::uint32_t j = 0; j < count; ++j) {
      RandomStream r(w.seed_, w.stream_, neurons[j], counter);
      double x = (r.*kDraw)();
      for (std::uint32_t i = 0; i < k; ++i) x = (r.*kDraw)();
      out[j] = x;
    }
  }

  std::shared_ptr<const Device> device_;
  std::string stimulus_;
  std::uint64_t seed_;
  std::uint32_t stream_;
  std::vector<double> params_;
  std::vector<std::uint32_t> choices_;
  std::unique_ptr<std::byte[]> constants_raw_;
  Ctx ctx_;
};

}  // namespace

ModelInfo device_info(const std::shared_ptr<const Device>& d, const char* doc,
                      std::vector<ParamInfo> params) {
  ModelInfo info;
  info.name = d->name;
  info.kind = ModelKind::stimulus;
  info.summary = doc != nullptr ? doc : "";
  info.origin = d->origin();
  info.provenance = d->provenance();
  info.params = std::move(params);
  info.make_wave = [d](const ParamMap& p, const TimeGrid& grid,
                       const WaveContext& wave) -> std::shared_ptr<const CurrentWave> {
    return std::make_shared<PluginWave>(d, p, grid, wave);
  };
  return info;
}

}  // namespace spikeline::plugin::detail
