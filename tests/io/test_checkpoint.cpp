// Checkpoint files (io/checkpoint.hpp): every field type survives the trip
// through HDF5 bit for bit; a damaged, foreign or other-version file is
// refused with a message naming it; a failed write leaves the previous
// checkpoint as it was.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include "harness.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/io/checkpoint.hpp"

using namespace spikeline;
using namespace spikeline::io;
using spikeline::io::test::exit_code_with_file_limit;
using spikeline::io::test::run_python;
using spikeline::io::test::TempDir;

namespace {

struct Pair {  // a struct field: stored as bytes
  double value;
  std::int64_t step;
};

// Saves (or loads into) one field of every type.
struct State {
  std::vector<float> f32{1.5f, -0.0f, std::numeric_limits<float>::denorm_min()};
  std::vector<double> f64{std::nan(""), -1e300, 0.1};
  std::vector<std::int8_t> i8{-128, 127};
  std::vector<std::int16_t> i16{-32768, 7};
  std::vector<std::int32_t> i32{-5};
  std::vector<std::int64_t> i64{std::numeric_limits<std::int64_t>::min()};
  std::vector<std::uint8_t> u8{};
  std::vector<std::uint16_t> u16{65535};
  std::vector<std::uint32_t> u32{1, 2, 3};
  std::vector<std::uint64_t> u64{~std::uint64_t{0}};
  std::vector<Pair> pairs{{0.25, 7}, {-3.0, -9}};
  std::int64_t now = 1234;

  void walk(StateArchive& a) {
    StateArchive::Scope s(a, "model");
    a.field("f32", f32);
    a.field("f64", f64);
    a.field("i8", i8);
    a.field("i16", i16);
    a.field("i32", i32);
    a.field("i64", i64);
    a.field("u8", u8, true);
    a.field("u16", u16);
    a.field("nested/u32", u32);
    a.field("nested/u64", u64);
    a.field("pairs", pairs);
    a.value("now", now);
  }
};

bool same_bits(const State& x, const State& y) {
  auto eq = [](const auto& a, const auto& b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0);
  };
  return eq(x.f32, y.f32) && eq(x.f64, y.f64) && eq(x.i8, y.i8) && eq(x.i16, y.i16) &&
         eq(x.i32, y.i32) && eq(x.i64, y.i64) && eq(x.u8, y.u8) && eq(x.u16, y.u16) &&
         eq(x.u32, y.u32) && eq(x.u64, y.u64) && eq(x.pairs, y.pairs) && x.now == y.now;
}

MemoryArchive saved() {
  State s;
  MemoryArchive a;
  s.walk(a);
  return a;
}

// A state in which every field differs from State{}: a load that does
// nothing leaves it different.
State zeroed() {
  State z;
  for (auto& v : z.f32) v = 9.0f;
  for (auto& v : z.f64) v = 9.0;
  for (auto& v : z.i8) v = 9;
  for (auto& v : z.i16) v = 9;
  for (auto& v : z.i32) v = 9;
  for (auto& v : z.i64) v = 9;
  z.u8 = {1, 2, 3};  // resizable: becomes empty
  for (auto& v : z.u16) v = 9;
  for (auto& v : z.u32) v = 9;
  for (auto& v : z.u64) v = 9;
  z.pairs = {{9, 9}, {9, 9}};
  z.now = 0;
  return z;
}

}  // namespace

TEST_CASE("a checkpoint file holds every field bit for bit", "[checkpoint]") {
  TempDir dir;
  const auto path = dir.file("ck.h5");
  write_checkpoint(path, saved(), 123.4);
  MemoryArchive back = read_checkpoint(path);
  REQUIRE(back.loading());
  State restored = zeroed();
  restored.walk(back);
  CHECK(same_bits(restored, State{}));
  CHECK(checksum(back) == checksum(saved()));
  // h5py reads the numbers with their own types, and the header.
  CHECK(run_python(dir, R"(
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f.attrs["format"] == b"spikeline checkpoint" or f.attrs["format"] == "spikeline checkpoint"
assert f.attrs["format_version"] == 1 and f.attrs["simulated_ms"] == 123.4
s = f["state/model"]
assert s["i64"].dtype == np.int64 and s["i64"][0] == -2**63
assert s["nested/u32"].dtype == np.uint32 and list(s["nested/u32"][:]) == [1, 2, 3]
assert s["pairs"].dtype == np.uint8 and s["pairs"].attrs["element_size"] == 16
assert len(s["u8"]) == 0
)",
                   path) == 0);
  // No temporary file (or any other) is left beside it.
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
    if (e.path().extension() != ".py") files.push_back(e.path().filename().string());
  }
  CHECK(files == std::vector<std::string>{"ck.h5"});
  CHECK(!same_bits(zeroed(), State{}));
}

TEST_CASE("a damaged checkpoint is refused, naming the file", "[checkpoint][errors]") {
  TempDir dir;
  const auto path = dir.file("ck.h5");
  write_checkpoint(path, saved(), 1.0);
  SECTION("a flipped bit in a field") {
    REQUIRE(run_python(dir, R"(
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    off = f["state/model/f64"].id.get_offset()
with open(sys.argv[1], "r+b") as g:
    g.seek(off + 9); b = g.read(1); g.seek(off + 9); g.write(bytes([b[0] ^ 1]))
)",
                       path) == 0);
    CHECK_THROWS_WITH(read_checkpoint(path), Catch::Contains("checkpoint " + path) &&
                                                 Catch::Contains("checksum mismatch"));
  }
  SECTION("a missing field (edited file)") {
    REQUIRE(
        run_python(
            dir,
            "import sys, h5py\nwith h5py.File(sys.argv[1], 'r+') as f: del f['state/model/i8']\n",
            path) == 0);
    CHECK_THROWS_WITH(read_checkpoint(path), Catch::Contains("checksum mismatch"));
  }
  SECTION("truncated") {
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size / 2);
    CHECK_THROWS_AS(read_checkpoint(path), CheckpointError);
  }
  SECTION("not HDF5, or another HDF5 file") {
    std::ofstream(dir.file("text.h5")) << "[simulation]\n";
    CHECK_THROWS_WITH(read_checkpoint(dir.file("text.h5")), Catch::Contains("not an HDF5 file"));
    REQUIRE(
        run_python(dir,
                   "import sys, h5py\nh5py.File(sys.argv[1], 'w').create_dataset('x', data=[1])\n",
                   dir.file("other.h5")) == 0);
    CHECK_THROWS_WITH(read_checkpoint(dir.file("other.h5")),
                      Catch::Contains("not a spikeline checkpoint"));
  }
  SECTION("missing") {
    try {
      read_checkpoint(dir.file("none.h5"));
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::no_input);
    }
  }
}

TEST_CASE("a field of another type or size is refused with both named", "[checkpoint][errors]") {
  TempDir dir;
  write_checkpoint(dir.file("ck.h5"), saved(), 1.0);
  MemoryArchive back = read_checkpoint(dir.file("ck.h5"));
  std::vector<float> wrong_type(3);
  StateArchive::Scope s(back, "model");
  CHECK_THROWS_WITH(back.field("f64", wrong_type),
                    Catch::Contains("'model/f64' holds float64 of 8 bytes where float32 of 4"));
  std::vector<std::uint16_t> wrong_size(2);
  CHECK_THROWS_WITH(back.field("u16", wrong_size),
                    Catch::Contains("'model/u16' holds 1 values where this network has 2"));
  std::vector<double> none(1);
  CHECK_THROWS_WITH(back.field("absent", none), Catch::Contains("'model/absent' is missing"));
}

TEST_CASE("a failed checkpoint write leaves the previous one intact", "[checkpoint][errors]") {
  TempDir dir;
  const auto path = dir.file("ck.h5");
  write_checkpoint(path, saved(), 1.0);
  const auto before = std::filesystem::file_size(path);
  // A larger checkpoint written under a file size limit fails half-way, as
  // on a full disk (in a child: the limit is per process).
  MemoryArchive big = saved();
  big.add("model/big", {FieldType::u8, 1, std::vector<unsigned char>(4 << 20, 7)});
  CHECK(exit_code_with_file_limit<Error>(1 << 20, [&] { write_checkpoint(path, big, 2.0); }) ==
        static_cast<int>(ExitCode::io));
  CHECK(std::filesystem::file_size(path) == before);
  MemoryArchive back = read_checkpoint(path);
  State restored = zeroed();
  restored.walk(back);
  CHECK(same_bits(restored, State{}));
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path)) ++files;
  CHECK(files == 1);  // the temporary file is gone
  // A folder that does not exist: cannot create.
  try {
    write_checkpoint(dir.file("no/such/ck.h5"), saved(), 1.0);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::cant_create);
  }
  CHECK_THROWS_WITH(
      check_checkpoint_writable(dir.file("no/such/ck.h5")),
      Catch::Contains("cannot create checkpoint") && Catch::Contains("does not exist"));
  CHECK_NOTHROW(check_checkpoint_writable(path));
}
