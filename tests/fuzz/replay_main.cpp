// Runs inputs through a fuzz target without libFuzzer, with any compiler:
// the committed corpus (and every input that once crashed, kept in it as
// regression-*) is replayed by the ordinary test suite and by the sanitizer
// builds. Usage: replay_<target> FILE_OR_DIR...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path p = fs::absolute(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file()) inputs.push_back(e.path());
    } else {
      inputs.push_back(p);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  const fs::path home = fs::current_path();
  LLVMFuzzerInitialize(&argc, &argv);  // may move to a scratch folder
  const fs::path scratch = fs::current_path();
  for (const auto& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  fs::current_path(home);
  if (scratch != home) fs::remove_all(scratch);
  std::printf("%zu inputs replayed, none crashed\n", inputs.size());
  return inputs.empty() ? 1 : 0;
}
