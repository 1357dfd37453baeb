// libFuzzer target: raw bytes as an HDF5 file, read by the edges reader and
// `inspect` (a user hands spikeline a damaged file). The parsing of the
// bytes is libhdf5's own (Debian's, not instrumented); what this target
// checks is that whatever libhdf5 reports, spikeline turns into an Error.
// Crashes inside libhdf5 itself are reported upstream, not fixed here: see
// docs/reliability.md for what was found.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_input.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/io/sonata_reader.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spikeline::fuzz::work_in_scratch_folder();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = "bytes.h5";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    for (const auto& name : spikeline::io::list_edge_populations(path)) {
      (void)spikeline::io::read_edges(path, name);
    }
  } catch (const spikeline::Error&) {
  }
  try {
    (void)spikeline::io::format_summary(spikeline::io::inspect(path));
  } catch (const spikeline::Error&) {
  }
  return 0;
}
