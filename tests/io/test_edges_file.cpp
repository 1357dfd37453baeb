// EdgesFile: a SONATA edges population read by target range, through the
// file's target index or by scanning, a bounded block at a time
// (docs/mpi-design.md, section 2.2: what one MPI rank reads).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "harness.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/io/sonata_reader.hpp"

using namespace spikeline;
using namespace spikeline::io;
using spikeline::io::test::run_python;
using spikeline::io::test::TempDir;

namespace {

// 60 edges onto 10 targets in an order neither by source nor by target
// (so that a target's edges are several ranges), weights in two groups
// whose rows are not the edge ids; with the index libsonata writes, and
// copies without an index, with node_id_to_range (bmtk's name, 12 rows:
// two past the population) and with broken indexes.
const char* kMake = R"PY(
import sys, os, h5py, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
n = 60
src = rng.integers(0, 8, n).astype(np.uint64)
tgt = rng.integers(0, 10, n).astype(np.uint64)
gid = (np.arange(n) % 2).astype(np.uint32)
gidx = np.zeros(n, np.uint64)
for g in (0, 1):
    at = np.where(gid == g)[0]
    gidx[at] = np.arange(len(at))[::-1]   # rows in reverse edge order
def ranges(ids, nodes):
    node_rows, edge_rows = [], []
    for t in range(nodes):
        at = np.where(ids == t)[0]
        runs = []
        for e in at:
            if runs and runs[-1][1] == e: runs[-1][1] = e + 1
            else: runs.append([e, e + 1])
        node_rows.append((len(edge_rows), len(edge_rows) + len(runs)))
        edge_rows.extend(runs)
    return np.array(node_rows, np.uint64).reshape(-1, 2), np.array(edge_rows, np.uint64).reshape(-1, 2)
def write(name, index=None, node_name="node_id_to_ranges", targets=tgt):
    with h5py.File(os.path.join(d, name), "w") as f:
        g = f.create_group("edges/e2i")
        g["source_node_id"] = src; g["source_node_id"].attrs["node_population"] = "exc"
        g["target_node_id"] = targets; g["target_node_id"].attrs["node_population"] = "inh"
        g["edge_type_id"] = np.zeros(n, np.int64)
        g["edge_group_id"] = gid
        g["edge_group_index"] = gidx
        for k in (0, 1):
            at = np.where(gid == k)[0]
            order = np.argsort(gidx[at])
            g["%d/syn_weight" % k] = (0.5 + at[order]).astype(np.float32)   # weight = edge id + 0.5
            g["%d/delay" % k] = (1.0 + 0.1 * (at[order] % 5)).astype(np.float32)
        if index is not None:
            nodes, edges = index
            g["indices/target_to_source/" + node_name] = nodes
            g["indices/target_to_source/range_to_edge_id"] = edges
good = ranges(tgt, 10)
write("indexed.h5", good)
write("plain.h5")
write("bmtk.h5", (np.vstack([good[0], [[len(good[1])] * 2] * 2]).astype(np.uint64), good[1]),
      node_name="node_id_to_range")
nodes, edges = good[0].copy(), good[1].copy()
nodes[3] = [5, 2]
write("backwards.h5", (nodes, edges))
nodes, edges = good[0].copy(), good[1].copy()
nodes[4][1] = len(edges) + 3
write("past_end.h5", (nodes, edges))
nodes, edges = good[0].copy(), good[1].copy()
edges[0][1] = n + 1
write("edge_past_end.h5", (nodes, edges))
nodes, edges = good[0].copy(), good[1].copy()
e = edges[nodes[2][0]].copy()
edges[nodes[1][0]] = e
write("wrong_node.h5", (nodes, edges))
nodes = good[0].astype(np.int64)
nodes[6][0] = -100
write("signed.h5", (nodes, good[1]))
write("flat_index.h5", (good[0].reshape(-1), good[1]))
# Edge 17's target changed after the index was made: listed under its old node.
moved = tgt.copy()
moved[17] = (tgt[17] + 1) % 10
write("moved.h5", good, targets=moved)
# Node 5's ranges left out: an index that omits edges (trusted, so they are not read).
nodes = good[0].copy()
nodes[5] = [nodes[5][0], nodes[5][0]]
write("omits.h5", (nodes, good[1]))
# 30000 edges onto 20000 targets, by source: a target's edges lie far
# apart (read one at a time, not as the span they lie in).
n = 30000
src = np.sort(rng.integers(0, 8, n)).astype(np.uint64)
tgt = rng.integers(0, 20000, n).astype(np.uint64)
gid = np.zeros(n, np.uint32)
gidx = np.arange(n, dtype=np.uint64)
with h5py.File(os.path.join(d, "scattered.h5"), "w") as f:
    g = f.create_group("edges/e2i")
    g["source_node_id"] = src; g["source_node_id"].attrs["node_population"] = "exc"
    g["target_node_id"] = tgt; g["target_node_id"].attrs["node_population"] = "inh"
    g["0/syn_weight"] = (0.5 + np.arange(n)).astype(np.float32)
    g["0/delay"] = np.ones(n, np.float32)
    nodes, edges = ranges(tgt, 20000)
    g["indices/target_to_source/node_id_to_range"] = nodes
    g["indices/target_to_source/range_to_edge_id"] = edges
)PY";

struct Edges {
  std::vector<std::uint64_t> id, source, target;
  std::vector<float> weight, delay;
};

// The edges onto [first, last) (all of them for [0, ~0)); `blocks` counts
// the blocks and `largest` keeps the largest.
Edges read_range(const EdgesFile& f, std::uint64_t first, std::uint64_t last,
                 std::uint64_t* blocks = nullptr, std::size_t* largest = nullptr) {
  Edges e;
  const auto sink = [&](const EdgesBlock& b) {
    if (blocks) ++*blocks;
    if (largest) *largest = std::max(*largest, b.id.size());
    e.id.insert(e.id.end(), b.id.begin(), b.id.end());
    e.source.insert(e.source.end(), b.source.begin(), b.source.end());
    e.target.insert(e.target.end(), b.target.begin(), b.target.end());
    e.weight.insert(e.weight.end(), b.weight.begin(), b.weight.end());
    e.delay.insert(e.delay.end(), b.delay_ms.begin(), b.delay_ms.end());
  };
  if (first == 0 && last == ~std::uint64_t{0}) {
    f.read_all(sink);
  } else {
    f.read(first, last, sink);
  }
  return e;
}

template <class F>
std::string error_of(F&& f, ExitCode want = ExitCode::data) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.code() == want);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("EdgesFile reads the edges onto a target range in file order", "[io][edges]") {
  TempDir dir;
  REQUIRE(run_python(dir, kMake, dir.path.string()) == 0);
  const EdgesFile whole(dir.file("plain.h5"), "e2i");
  const Edges all = read_range(whole, 0, ~std::uint64_t{0});
  REQUIRE(all.id.size() == 60);
  for (std::size_t k = 0; k < all.id.size(); ++k) {
    CHECK(all.id[k] == k);
    // The rows of the groups are not the edge ids: the file says weight = id + 0.5.
    CHECK(all.weight[k] == static_cast<float>(k) + 0.5f);
    CHECK(all.delay[k] == static_cast<float>(1.0 + 0.1 * static_cast<double>(k % 5)));
  }
  CHECK(whole.edges_read() == 60);

  // Blocks of 7 edges: every range, read through the index (both names of
  // its first dataset) or by scanning, gives exactly the edges onto it, in
  // file order, and never more than a block at a time.
  for (const char* name : {"indexed.h5", "bmtk.h5", "plain.h5"}) {
    INFO(name);
    const EdgesFile f(dir.file(name), "e2i", 7);
    CHECK(f.indexed() == (std::string(name) != "plain.h5"));
    for (const auto& [first, last] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
             {0, 10}, {0, 3}, {3, 7}, {7, 10}, {4, 5}, {9, 100}, {10, 12}}) {
      INFO(first << " to " << last);
      Edges want;
      for (std::size_t k = 0; k < 60; ++k) {
        if (all.target[k] < first || all.target[k] >= last) continue;
        want.id.push_back(k);
        want.source.push_back(all.source[k]);
        want.target.push_back(all.target[k]);
        want.weight.push_back(all.weight[k]);
      }
      std::uint64_t blocks = 0;
      std::size_t largest = 0;
      const auto before = f.edges_read();
      const Edges got = read_range(f, first, last, &blocks, &largest);
      CHECK(got.id == want.id);
      CHECK(got.source == want.source);
      CHECK(got.target == want.target);
      CHECK(got.weight == want.weight);
      CHECK(largest <= 7);
      if (f.indexed()) CHECK(blocks == (want.id.size() + 6) / 7);
      // Through the index only the listed edges are read; a scan reads every target id.
      CHECK(f.edges_read() - before == (f.indexed() ? want.id.size() : 60));
    }
  }
  // Four ranks' ranges read the file once between them.
  const EdgesFile f(dir.file("indexed.h5"), "e2i");
  for (const auto& [first, last] :
       std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 2}, {2, 5}, {5, 7}, {7, 10}}) {
    read_range(f, first, last);
  }
  CHECK(f.edges_read() == 60);
}

TEST_CASE("EdgesFile reads a target's scattered edges through the index", "[io][edges]") {
  TempDir dir;
  REQUIRE(run_python(dir, kMake, dir.path.string()) == 0);
  const EdgesFile f(dir.file("scattered.h5"), "e2i", 20000);
  const Edges all = read_range(f, 0, ~std::uint64_t{0});
  REQUIRE(all.id.size() == 30000);
  for (const auto& [first, last] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
           {4, 5}, {0, 3}, {10, 20}, {0, 7000}, {0, 20000}}) {
    Edges want;
    for (std::size_t k = 0; k < all.id.size(); ++k) {
      if (all.target[k] < first || all.target[k] >= last) continue;
      want.id.push_back(k);
      want.weight.push_back(static_cast<float>(k) + 0.5f);
    }
    const auto before = f.edges_read();
    const Edges got = read_range(f, first, last);
    CHECK(got.id == want.id);
    CHECK(got.weight == want.weight);
    CHECK(f.edges_read() - before == want.id.size());
  }
}

TEST_CASE("An index that omits edges reads only the listed ones, whatever the range",
          "[io][edges]") {
  TempDir dir;
  REQUIRE(run_python(dir, kMake, dir.path.string()) == 0);
  const Edges all = read_range(EdgesFile(dir.file("plain.h5"), "e2i"), 0, ~std::uint64_t{0});
  const EdgesFile f(dir.file("omits.h5"), "e2i", 7);
  // The whole population at once (one process) and in two halves (two
  // ranks) give the same edges: those not onto node 5.
  Edges halves = read_range(f, 0, 5);
  const Edges upper = read_range(f, 5, 10);
  halves.id.insert(halves.id.end(), upper.id.begin(), upper.id.end());
  std::sort(halves.id.begin(), halves.id.end());
  const Edges whole = read_range(f, 0, 10);
  std::vector<std::uint64_t> want;
  for (std::size_t k = 0; k < all.id.size(); ++k) {
    if (all.target[k] != 5) want.push_back(k);
  }
  REQUIRE(want.size() < all.id.size());
  CHECK(whole.id == want);
  CHECK(halves.id == want);
}

TEST_CASE("A broken target index is a DataError naming the dataset and the value", "[io][edges]") {
  TempDir dir;
  REQUIRE(run_python(dir, kMake, dir.path.string()) == 0);
  const std::string index = "/edges/e2i/indices/target_to_source/";
  struct Case {
    const char* file;
    std::vector<std::string> mentions;
    std::uint64_t last = 10;  // read [0, last)
  };
  const std::vector<Case> cases = {
      {"backwards.h5", {index + "node_id_to_ranges[3] is [", "valid are 0 <= begin <= end"}},
      {"past_end.h5",
       {index + "node_id_to_ranges[4]", "(the rows of " + index + "range_to_edge_id)"}},
      {"edge_past_end.h5", {index + "range_to_edge_id[0] is [", ", 61]", "<= 60 (the edges)"}},
      // Node 1's first range is node 2's: read alone, its edges end
      // elsewhere; read with node 2's, they are listed twice.
      {"wrong_node.h5",
       {index + "range_to_edge_id lists edge", "for node 1", "target_node_id["},
       2},
      {"wrong_node.h5", {index + "range_to_edge_id lists edges [", "an edge is listed once"}},
      {"signed.h5", {index + "node_id_to_ranges[6] is [-", "must be >= 0"}},
      {"flat_index.h5", {index + "node_id_to_ranges", "1 dimensions", "(n, 2) integers"}},
      // Every node read at once (one process) goes through its own path.
      {"moved.h5", {index + "range_to_edge_id lists edge 17 for node", "target_node_id[17] is"}},
  };
  for (const auto& c : cases) {
    const std::string path = dir.file(c.file);
    const std::string message = error_of([&] {
      const EdgesFile f(path, "e2i");
      read_range(f, 0, c.last);
    });
    INFO(c.file << ": " << message);
    CHECK(message.find(path) != std::string::npos);
    for (const auto& m : c.mentions) CHECK(message.find(m) != std::string::npos);
  }
}
