// libFuzzer target: the SONATA edges reader and `inspect`, on HDF5 files
// that are well-formed HDF5 but bad SONATA. The input does not become the
// file's bytes (that would fuzz libhdf5's own parser, see
// fuzz_hdf5_bytes.cpp): it chooses what the file holds -- which datasets
// exist, their types (integers of every width and sign, floats, strings),
// ranks and lengths, their values (ids beyond the populations, NaN weights,
// negative or off-grid delays), the node_population attributes -- and the
// file is written with the HDF5 C API. Then the file goes through the whole
// explicit-projection path (config, validate, build, reads by target range
// through the target index) and through inspect.
// Every input must end in success or a spikeline::Error.
#include <hdf5.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/io/sonata_reader.hpp"
#include "spikeline/learning/builtin.hpp"
#include "spikeline/neurons/builtin.hpp"

namespace {

const char* const kNames[] = {"proj", "other", "", "a b", "proj2"};
const char* const kPopulations[] = {"src", "tgt", "", "nope", "srcx"};
const char* const kDatasets[] = {"source_node_id", "target_node_id",   "edge_type_id",
                                 "edge_group_id",  "edge_group_index", "0/syn_weight",
                                 "0/delay",        "1/syn_weight",     "0/weight"};

hid_t pick_type(spikeline::fuzz::Input& in) {
  static const hid_t types[] = {H5T_NATIVE_UINT64, H5T_NATIVE_INT64,  H5T_NATIVE_UINT32,
                                H5T_NATIVE_INT32,  H5T_NATIVE_UINT16, H5T_NATIVE_INT8,
                                H5T_NATIVE_FLOAT,  H5T_NATIVE_DOUBLE};
  return types[in.in_range<std::size_t>(0, std::size(types) - 1)];
}

// One dataset of `n` values of a fuzz-chosen type (or a string), rank 0, 1 or 2.
void write_dataset(spikeline::fuzz::Input& in, hid_t group, const std::string& name, hsize_t n) {
  const int rank = in.chance(0.9) ? 1 : in.in_range<int>(0, 2);
  const hsize_t dims[2] = {n, rank == 2 ? hsize_t{2} : hsize_t{1}};
  const hsize_t elements = rank == 0 ? 1 : rank == 1 ? n : 2 * n;
  const hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, nullptr);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  if (in.chance(0.05)) {
    const hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 4);
    const hid_t ds = H5Dcreate2(group, name.c_str(), str, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    std::string bytes = in.bytes(4 * elements);
    bytes.resize(4 * elements, 'x');
    if (ds >= 0) {
      H5Dwrite(ds, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
      H5Dclose(ds);
    }
    H5Tclose(str);
  } else {
    const hid_t type = pick_type(in);
    const hid_t ds = H5Dcreate2(group, name.c_str(), type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    const std::size_t width = H5Tget_size(type);
    std::vector<unsigned char> bytes(width * elements);
    // Mostly small ids and plausible values; sometimes raw bytes (huge ids,
    // NaN, infinities, negative numbers).
    const bool raw = in.flag();
    for (hsize_t i = 0; i < elements; ++i) {
      unsigned char* out = &bytes[i * width];
      if (raw) {
        for (std::size_t b = 0; b < width; ++b) out[b] = in.byte();
        continue;
      }
      const double v = in.in_range<int>(0, 12) * 0.5;
      unsigned char conv[sizeof(double)];  // converted in place: the larger of the two
      std::memcpy(conv, &v, sizeof v);
      H5Tconvert(H5T_NATIVE_DOUBLE, type, 1, conv, nullptr, H5P_DEFAULT);
      std::memcpy(out, conv, width);
    }
    if (ds >= 0) {
      H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
      if (in.flag()) {  // node_population, sometimes of the wrong type
        const hid_t aspace = H5Screate(H5S_SCALAR);
        if (in.chance(0.9)) {
          const std::string pop = kPopulations[in.in_range<std::size_t>(0, 4)];
          const hid_t str = H5Tcopy(H5T_C_S1);
          H5Tset_size(str, std::max<std::size_t>(pop.size(), 1));
          const hid_t a = H5Acreate2(ds, "node_population", str, aspace, H5P_DEFAULT, H5P_DEFAULT);
          std::string buf = pop;
          buf.resize(std::max<std::size_t>(pop.size(), 1), '\0');
          if (a >= 0) {
            H5Awrite(a, str, buf.data());
            H5Aclose(a);
          }
          H5Tclose(str);
        } else {
          const int value = 3;
          const hid_t a =
              H5Acreate2(ds, "node_population", H5T_NATIVE_INT, aspace, H5P_DEFAULT, H5P_DEFAULT);
          if (a >= 0) {
            H5Awrite(a, H5T_NATIVE_INT, &value);
            H5Aclose(a);
          }
        }
        H5Sclose(aspace);
      }
      H5Dclose(ds);
    }
  }
  H5Pclose(lcpl);
  H5Sclose(space);
}

// A target index dataset (rows x 2): signed or not, its values mostly
// plausible ranges (small numbers), sometimes anything.
void write_index(spikeline::fuzz::Input& in, hid_t group, const std::string& name, hsize_t rows) {
  const hsize_t dims[2] = {rows, 2};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const bool is_signed = in.flag();
  const hid_t type = is_signed ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64;
  std::vector<std::int64_t> values(2 * rows);
  for (auto& v : values) {
    v = in.chance(0.9)
            ? in.in_range<std::int64_t>(0, 45)
            : static_cast<std::int64_t>(in.in_range<std::uint64_t>(0, ~std::uint64_t{0}));
  }
  const hid_t ds = H5Dcreate2(group, name.c_str(), type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (ds >= 0) {
    H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(ds);
  }
  H5Pclose(lcpl);
  H5Sclose(space);
}

void write_file(spikeline::fuzz::Input& in, const std::string& path) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return;
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const int populations = in.in_range<int>(0, 2);
  for (int p = 0; p < populations; ++p) {
    const std::string name = std::string("edges/") + kNames[in.in_range<std::size_t>(0, 4)];
    const hid_t group = H5Gcreate2(file, name.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (group < 0) continue;
    const hsize_t n = in.in_range<hsize_t>(0, 40);
    for (const char* ds : kDatasets) {
      if (in.chance(0.85)) {
        // Mostly the common length; sometimes one off, or empty.
        const int skew = in.in_range<int>(-2, 2);
        const hsize_t len =
            in.chance(0.8) ? n : static_cast<hsize_t>(std::max<int>(0, static_cast<int>(n) + skew));
        write_dataset(in, group, ds, len);
      }
    }
    if (in.chance(0.5)) {  // the target index, read by target range
      write_index(in, group, "indices/target_to_source/node_id_to_range",
                  in.in_range<hsize_t>(0, 45));
      write_index(in, group, "indices/target_to_source/range_to_edge_id",
                  in.in_range<hsize_t>(0, 45));
    }
    H5Gclose(group);
  }
  H5Pclose(lcpl);
  H5Fclose(file);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  spikeline::fuzz::work_in_scratch_folder();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  spikeline::fuzz::Input in(data, size);
  const std::string path = "edges.h5";
  const int source_size = in.in_range<int>(1, 60);
  const int target_size = in.in_range<int>(1, 60);
  const std::string population = kNames[in.in_range<std::size_t>(0, 4)];
  const bool plastic = in.flag();
  write_file(in, path);
  const std::string config =
      fmt::format(R"(
[simulation]
dt = 0.1
duration = 1.0

[[population]]
name = "src"
model = "iaf_psc_delta"
size = {}

[[population]]
name = "tgt"
model = "iaf_psc_delta"
size = {}

[[projection]]
name = "proj"
source = "src"
target = "tgt"
rule = "explicit"
file = "{}"
edge_population = "{}"
{}
)",
                  source_size, target_size, path, population,
                  plastic ? R"(plasticity = { rule = "stdp", w_min = 0.0, w_max = 10.0 })" : "");
  try {
    const auto c = spikeline::io::parse_config(config, "fuzz.toml");
    spikeline::io::validate_config(c, spikeline::fuzz::builtin_registry());
    spikeline::io::build_network(c, spikeline::fuzz::builtin_registry());
  } catch (const spikeline::Error&) {
  }
  // What the ranks of a run read (the build reads nothing yet): two halves
  // of the targets, through the index when there is one, in blocks of 3.
  try {
    const spikeline::io::EdgesFile f(path, population, 3);
    const auto half = static_cast<std::uint64_t>(target_size / 2);
    f.read(0, half, [](const spikeline::io::EdgesBlock&) {});
    f.read(half, ~std::uint64_t{0}, [](const spikeline::io::EdgesBlock&) {});
  } catch (const spikeline::Error&) {
  }
  try {
    (void)spikeline::io::format_summary(spikeline::io::inspect(path));
  } catch (const spikeline::Error&) {
  }
  try {
    (void)spikeline::io::list_edge_populations(path);
  } catch (const spikeline::Error&) {
  }
  return 0;
}
