// libFuzzer target: the config language, from TOML text to a validated
// network description. Every input must end in a spikeline::Error (which
// the CLI turns into a message and an exit code) or in success; anything
// else (a crash, a sanitizer report, another exception, a hang) is a bug.
//
//   scripts/fuzz.sh              # every target, a bounded time each (CI)
//   build-fuzz/tests/fuzz/fuzz_config tests/fuzz/corpus/config
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_input.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/learning/builtin.hpp"
#include "spikeline/neurons/builtin.hpp"

namespace {

// Builds each population's model (validate_config) only for small networks:
// the memory check refuses absurd sizes, but a legal 10^7 neurons would make
// one input cost seconds and the fuzzer would stall.
constexpr std::uint64_t kMaxNeuronsToBuild = 20000;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Relative file names in a config (edges, spike times) resolve in an
  // empty folder of our own.
  spikeline::fuzz::work_in_scratch_folder();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const spikeline::io::Config c = spikeline::io::parse_config(text, "fuzz.toml");
    spikeline::io::check_config(c, spikeline::fuzz::builtin_registry());
    std::uint64_t neurons = 0;
    for (const auto& p : c.populations) neurons += p.size;
    if (neurons <= kMaxNeuronsToBuild)
      spikeline::io::validate_config(c, spikeline::fuzz::builtin_registry());
  } catch (const spikeline::Error&) {
    // A refusal with a message and an exit code: what bad input must get.
  }
  return 0;
}
