// The HDF5 output (SONATA layout) and the edges / inspect reader.
//
// Files are read back with h5py, as users read them: each check is a small
// Python script run with /usr/bin/python3 that exits non-zero on a mismatch.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/io/sonata_reader.hpp"
#include "spikeline/io/sonata_writer.hpp"

namespace fs = std::filesystem;
using namespace spikeline;
using namespace spikeline::io;
using spikeline::io::test::exit_code_with_file_limit;
using spikeline::io::test::run_python;
using spikeline::io::test::TempDir;

namespace {

OutputLayout full_layout(const std::string& path) {
  OutputLayout layout;
  layout.path = path;
  layout.spikes = {{"exc", 8}, {"inh", 2}};
  layout.reports = {{"exc", {"v", "g_ex"}, {"mV", "nS"}, {1, 3, 5}, 0.0, 0.5, ""}};
  layout.edges = {{"exc_to_inh", "exc", "inh", 4}};
  layout.weight_snapshots = {{"exc_to_inh", "exc_to_inh", 4, {}, {}}};
  layout.config_text = "[run]\nduration_ms = 10.0\n";
  layout.command_line = "spikeline run net.toml";
  layout.version = "0.1.0";
  layout.seed = 1234;
  layout.threads = 2;
  layout.dt_ms = 0.1;
  return layout;
}

// Spike i of population "exc": time 0.25 * i ms, node i % 8.
std::vector<double> exc_times(std::size_t from, std::size_t n) {
  std::vector<double> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = 0.25 * static_cast<double>(from + i);
  return t;
}
std::vector<std::uint64_t> exc_nodes(std::size_t from, std::size_t n) {
  std::vector<std::uint64_t> id(n);
  for (std::size_t i = 0; i < n; ++i) id[i] = (from + i) % 8;
  return id;
}

template <class F>
ExitCode code_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    INFO(e.what());
    return e.code();
  }
  return ExitCode::ok;
}

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char* kFullCheck = R"PY(
import sys, json
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")   # a finished file opens without swmr=True
def check(cond, what):
    if not cond:
        print("MISMATCH:", what, file=sys.stderr); sys.exit(1)
check(f.attrs["magic"] == 0x0A7A and f.attrs["magic"].dtype == np.uint32, "magic")
check(list(f.attrs["version"]) == [0, 1] and f.attrs["version"].dtype == np.uint32, "version")

exc = f["spikes/exc"]
sorting = exc.attrs["sorting"]
check(h5py.check_enum_dtype(exc.attrs.get_id("sorting").dtype) == {"none": 0, "by_id": 1, "by_time": 2}, "sorting enum")
check(sorting == 2, "sorting by_time")
check(exc.attrs["node_count"] == 8, "node_count")
check(exc["timestamps"].dtype == np.float64 and exc["node_ids"].dtype == np.uint64, "spike dtypes")
check(exc["timestamps"].attrs["units"] == b"ms" or exc["timestamps"].attrs["units"] == "ms", "units ms")
n = 100000
check(exc["timestamps"].shape == (n,), "exc count %r" % (exc["timestamps"].shape,))
check(np.array_equal(exc["timestamps"][:], 0.25 * np.arange(n)), "exc times")
check(np.array_equal(exc["node_ids"][:], np.arange(n) % 8), "exc nodes")
check(exc["timestamps"].chunks is not None and exc["timestamps"].maxshape == (None,), "chunked, unlimited")
inh = f["spikes/inh"]
check(np.array_equal(inh["timestamps"][:], [1.5, 2.5]) and np.array_equal(inh["node_ids"][:], [1, 0]), "inh")

r = f["report/exc"]
data = r["data"]
check(data.dtype == np.float32 and data.shape == (20, 6), "report shape %r" % (data.shape,))
expect = np.array([[100 * fr + c for c in range(6)] for fr in range(20)], dtype=np.float32)
check(np.array_equal(data[:], expect), "report values")
check(data.attrs["units"] in (b"mixed", "mixed"), "mixed units")
check([v.decode() if isinstance(v, bytes) else v for v in data.attrs["variables"]] == ["v", "g_ex"], "variables")
m = r["mapping"]
check(m["node_ids"].dtype == np.uint64 and list(m["node_ids"][:]) == [1, 3, 5], "mapping node_ids")
check(m["index_pointers"].dtype == np.uint64 and list(m["index_pointers"][:]) == [0, 2, 4, 6], "index_pointers")
check(m["element_ids"].dtype == np.uint32 and list(m["element_ids"][:]) == [0, 1, 0, 1, 0, 1], "element_ids")
check(m["time"].dtype == np.float64 and list(m["time"][:]) == [0.0, 10.0, 0.5], "time %r" % (m["time"][:],))
check(m["time"].attrs["units"] in (b"ms", "ms"), "time units")

w = f["weights/exc_to_inh"]
check(w["data"].dtype == np.float32 and w["data"].shape == (2, 4), "snapshot shape")
check(np.array_equal(w["data"][:], [[0.5, 0.5, 0.5, 0.5], [0.25, 0.5, 0.75, 1.0]]), "snapshot values")
check(list(w["time"][:]) == [0.0, 10.0], "snapshot times")

e = f["edges/exc_to_inh"]
check(e["source_node_id"].dtype == np.uint64 and list(e["source_node_id"][:]) == [0, 1, 2, 3], "source")
check(e["target_node_id"].dtype == np.uint64 and list(e["target_node_id"][:]) == [1, 0, 1, 0], "target")
check(e["source_node_id"].attrs["node_population"] in (b"exc", "exc"), "source population")
check(e["target_node_id"].attrs["node_population"] in (b"inh", "inh"), "target population")
check(e["edge_type_id"].dtype == np.int64 and list(e["edge_type_id"][:]) == [0] * 4, "edge_type_id")
check(e["edge_group_id"].dtype == np.uint32 and list(e["edge_group_id"][:]) == [0] * 4, "edge_group_id")
check(e["edge_group_index"].dtype == np.uint64 and list(e["edge_group_index"][:]) == [0, 1, 2, 3], "edge_group_index")
check(e["0/syn_weight"].dtype == np.float32 and np.allclose(e["0/syn_weight"][:], [0.25, 0.5, 0.75, 1.0]), "syn_weight")
check(e["0/delay"].dtype == np.float32 and np.allclose(e["0/delay"][:], [1.0, 1.5, 2.0, 2.5]), "delay")

p = f["provenance"]
check(p["status"][()] == b"complete", "status %r" % (p["status"][()],))
check(p["config"][()].decode() == "[run]\nduration_ms = 10.0\n", "config")
check(p["command_line"][()] == b"spikeline run net.toml" and p["version"][()] == b"0.1.0", "command, version")
check(p["seed"][()] == 1234 and p["threads"][()] == 2 and p["dt_ms"][()] == 0.1, "seed, threads, dt")
check(p["simulated_ms"][()] == 10.0, "simulated_ms")
check(json.loads(p["summary"][0].decode()) == {"spikes": 100002}, "summary %r" % (p["summary"][0][:80],))
check(p["summary"].id.get_storage_size() < 65536, "the summary capacity is compressed away")
)PY";

}  // namespace

TEST_CASE("SonataWriter writes the SONATA layout that h5py reads back", "[io][sonata]") {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  {
    SonataWriter writer(full_layout(path));
    // exc: 100000 spikes in uneven batches (crossing chunk boundaries).
    for (std::size_t at = 0; at < 100000;) {
      const std::size_t n = std::min<std::size_t>(7919, 100000 - at);
      writer.append_spikes(0, exc_times(at, n), exc_nodes(at, n));
      at += n;
      if (at == 47514) writer.flush();  // a flush mid-way must not disturb the layout
    }
    const std::vector<double> inh_t{1.5, 2.5};
    const std::vector<std::uint64_t> inh_id{1, 0};
    writer.append_spikes(1, inh_t, inh_id);
    // 20 frames of 3 nodes x 2 variables; value 100 * frame + column.
    for (int frame = 0; frame < 20; ++frame) {
      std::vector<float> values(6);
      for (int c = 0; c < 6; ++c) values[c] = static_cast<float>(100 * frame + c);
      writer.append_frames(0, values);
    }
    writer.append_weight_snapshot(0, 0.0, std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f});
    writer.append_weight_snapshot(0, 10.0, std::vector<float>{0.25f, 0.5f, 0.75f, 1.0f});
    writer.write_edges(
        0, std::vector<std::uint64_t>{0, 1, 2, 3}, std::vector<std::uint64_t>{1, 0, 1, 0},
        std::vector<float>{1.0f, 1.5f, 2.0f, 2.5f}, std::vector<float>{0.25f, 0.5f, 0.75f, 1.0f});
    writer.set_simulated_time(10.0);
    writer.finish(RunStatus::complete, R"({"spikes": 100002})");
  }
  CHECK(run_python(dir, kFullCheck, path) == 0);

  SECTION("read_edges loads the final weights back as connectivity") {
    CHECK(list_edge_populations(path) == std::vector<std::string>{"exc_to_inh"});
    const EdgesData e = read_edges(path, "exc_to_inh");
    CHECK(e.source_population == "exc");
    CHECK(e.target_population == "inh");
    CHECK(e.source == std::vector<std::uint64_t>{0, 1, 2, 3});
    CHECK(e.target == std::vector<std::uint64_t>{1, 0, 1, 0});
    CHECK(e.weight == std::vector<float>{0.25f, 0.5f, 0.75f, 1.0f});
    CHECK(e.delay_ms == std::vector<float>{1.0f, 1.5f, 2.0f, 2.5f});
  }

  SECTION("inspect summarises the file") {
    const FileSummary s = inspect(path);
    CHECK_FALSE(s.opened_swmr);
    CHECK(s.status == "complete");
    CHECK(s.version == "0.1.0");
    CHECK(s.seed == std::optional<std::uint64_t>{1234});
    CHECK(s.threads == std::optional<int>{2});
    REQUIRE(s.spikes.size() == 2);
    CHECK(s.spikes[0].name == "exc");
    CHECK(s.spikes[0].spikes == 100000);
    CHECK(s.spikes[0].nodes == 8);
    CHECK(s.spikes[0].t_first_ms == std::optional<double>{0.0});
    CHECK(s.spikes[0].t_last_ms == std::optional<double>{0.25 * 99999});
    // 100000 spikes / 8 nodes / 10 ms = 1.25 MHz: a silly rate, exact arithmetic.
    REQUIRE(s.spikes[0].mean_rate_hz);
    CHECK(*s.spikes[0].mean_rate_hz == Approx(100000.0 / 8 / 0.01));
    REQUIRE(s.reports.size() == 1);
    CHECK(s.reports[0].frames == 20);
    CHECK(s.reports[0].nodes == 3);
    CHECK(s.reports[0].variables == std::vector<std::string>{"v", "g_ex"});
    REQUIRE(s.edges.size() == 1);
    CHECK(s.edges[0].count == 4);
    CHECK(s.edges[0].source_population == "exc");
    REQUIRE(s.weights.size() == 1);
    CHECK(s.weights[0].snapshots == 2);
    CHECK(s.problems.empty());
    const std::string text = format_summary(s);
    INFO(text);
    CHECK(text.find("complete") != std::string::npos);
    CHECK(text.find("exc_to_inh") != std::string::npos);
    CHECK(text.find("100000") != std::string::npos);
  }
}

TEST_CASE("A writer destroyed without finish() marks the file failed", "[io][sonata]") {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  {
    OutputLayout layout;
    layout.path = path;
    layout.spikes = {{"p", 3}};
    SonataWriter writer(layout);
    writer.append_spikes(0, std::vector<double>{1.0, 2.0}, std::vector<std::uint64_t>{2, 0});
  }
  const FileSummary s = inspect(path);
  CHECK(s.status == "failed");
  REQUIRE(s.spikes.size() == 1);
  CHECK(s.spikes[0].spikes == 2);
  CHECK(s.spikes[0].t_last_ms == std::optional<double>{2.0});
}

TEST_CASE("A file left by a killed writer keeps every flushed spike", "[io][sonata][swmr]") {
  TempDir dir;
  const std::string path = dir.file("killed.h5");
  constexpr std::size_t flushed = 150000;  // spans several chunks, ends mid-chunk
  constexpr std::size_t more = 200000;     // written to HDF5 in part, never flushed

  int to_parent[2], to_child[2];
  REQUIRE(::pipe(to_parent) == 0);
  REQUIRE(::pipe(to_child) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child must never return into Catch2: it ends by SIGKILL or _exit.
    try {
      OutputLayout layout = full_layout(path);
      SonataWriter writer(layout);
      writer.append_spikes(0, exc_times(0, flushed), exc_nodes(0, flushed));
      writer.append_frames(0, std::vector<float>(6 * 3, 1.0f));
      writer.set_simulated_time(5.0);
      writer.flush();
      char c = 'f';
      if (::write(to_parent[1], &c, 1) != 1) ::_exit(3);
      if (::read(to_child[0], &c, 1) != 1) ::_exit(4);  // the parent read the live file
      for (std::size_t at = flushed; at < flushed + more; at += 1000) {
        writer.append_spikes(0, exc_times(at, 1000), exc_nodes(at, 1000));
      }
      ::raise(SIGKILL);
    } catch (...) {
    }
    ::_exit(2);
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);
  char c = 0;
  REQUIRE(::read(to_parent[0], &c, 1) == 1);

  // While the writer is alive: SWMR readers see what was flushed.
  const char* live_check = R"PY(
import sys, h5py, numpy as np
n = int(sys.argv[2])
with h5py.File(sys.argv[1], "r", swmr=True) as f:
    t = f["spikes/exc/timestamps"][:]
    ids = f["spikes/exc/node_ids"][:]
    if len(t) != n or not np.array_equal(t, 0.25 * np.arange(n)) or not np.array_equal(ids, np.arange(n) % 8):
        print("live reader saw", len(t), "spikes", file=sys.stderr); sys.exit(1)
    if f["provenance/status"][()] != b"running":
        sys.exit(2)
)PY";
  CHECK(run_python(dir, live_check, path + " " + std::to_string(flushed)) == 0);
  const FileSummary live = inspect(path);
  CHECK(live.opened_swmr);
  CHECK(live.status == "running");

  REQUIRE(::write(to_child[1], &c, 1) == 1);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  ::close(to_parent[0]);
  ::close(to_child[1]);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  // After the kill: a plain open is refused (the file is still marked as
  // being written), an SWMR open works and has every flushed spike, right.
  const char* killed_check = R"PY(
import sys, h5py, numpy as np
n = int(sys.argv[2])
try:
    h5py.File(sys.argv[1], "r").close()
    plain = True
except OSError as e:
    plain = False
    print("plain open refused, as documented:", str(e).splitlines()[0], file=sys.stderr)
with h5py.File(sys.argv[1], "r", swmr=True) as f:
    t = f["spikes/exc/timestamps"][:]
    ids = f["spikes/exc/node_ids"][:]
    if len(t) < n or len(ids) < n:
        print("only", len(t), len(ids), "spikes", file=sys.stderr); sys.exit(1)
    if not np.array_equal(t[:n], 0.25 * np.arange(n)) or not np.array_equal(ids[:n], np.arange(n) % 8):
        print("wrong values", file=sys.stderr); sys.exit(1)
    if f["provenance/status"][()] != b"running":
        sys.exit(2)
    if list(f["report/exc/mapping/time"][:]) != [0.0, 1.5, 0.5] or f["report/exc/data"].shape != (3, 6):
        print("report", f["report/exc/mapping/time"][:], f["report/exc/data"].shape, file=sys.stderr); sys.exit(3)
    print("after kill:", len(t), "spikes readable", file=sys.stderr)
# The documented alternative: clear the flags once, then any reader opens it.
import shutil, subprocess
if shutil.which("h5clear"):
    copy = sys.argv[1] + ".cleared.h5"
    shutil.copy(sys.argv[1], copy)
    subprocess.run(["h5clear", "-s", copy], check=True)
    with h5py.File(copy, "r") as f:
        if len(f["spikes/exc/timestamps"]) < n:
            sys.exit(4)
)PY";
  CHECK(run_python(dir, killed_check, path + " " + std::to_string(flushed)) == 0);

  const FileSummary s = inspect(path);
  CHECK(s.opened_swmr);
  CHECK(s.status == "running");
  REQUIRE(s.spikes.size() == 2);
  CHECK(s.spikes[0].spikes >= flushed);
  CHECK(s.simulated_ms == std::optional<double>{5.0});
  CHECK(format_summary(s).find("killed") != std::string::npos);
}

TEST_CASE("Edges are written with SONATA's indices, which the edges reader uses",
          "[io][sonata][edges]") {
  TempDir dir;
  const std::string path = dir.file("indexed.h5");
  // 40 edges by source (5 sources x 8), onto 6 targets in an order that makes
  // several runs per target, some of two edges; written in blocks of 7.
  const std::uint64_t n = 40;
  std::vector<std::uint64_t> src(n), tgt(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    src[i] = i / 8;
    tgt[i] = (i / 2 * 5 + i / 16) % 6;
  }
  {
    OutputLayout layout;
    layout.path = path;
    layout.edges = {{"e", "a", "b", n, false, 7, 6}};  // sources 5 and 6: none from them
    layout.version = "test";
    SonataWriter writer(layout);
    for (std::uint64_t a = 0; a < n; a += 7) {
      const std::uint64_t m = std::min<std::uint64_t>(7, n - a);
      const std::vector<float> delay(m, 1.0f), weight(m, 0.5f);
      writer.write_edges(0, a, std::span(src).subspan(a, m), std::span(tgt).subspan(a, m), delay,
                         weight);
    }
    writer.finish(RunStatus::complete, "");
  }
  // Each node's rows list exactly its edges, in runs of consecutive edges.
  const std::string check = R"PY(
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    g = f["edges/e"]
    for name, ids, nodes in (("source_to_target", g["source_node_id"][:], 7),
                             ("target_to_source", g["target_node_id"][:], 6)):
        nr = g["indices/%s/node_id_to_ranges" % name][:]
        rr = g["indices/%s/range_to_edge_id" % name][:]
        assert nr.shape == (nodes, 2) and rr.shape[1] == 2, (name, nr.shape, rr.shape)
        for node in range(nodes):
            b, e = (int(v) for v in nr[node])
            listed = [k for r in rr[b:e] for k in range(int(r[0]), int(r[1]))]
            assert listed == list(np.where(ids == node)[0]), (name, node, listed)
            for r in rr[b:e]:
                assert r[1] > r[0]
            for x, y in zip(rr[b:e], rr[b + 1:e]):
                assert y[0] > x[1], (name, node, "two runs that touch")
        if name == "source_to_target":
            assert len(rr) == 5, rr
print("ok")
)PY";
  REQUIRE(run_python(dir, check, path) == 0);
  // The reader goes through the index and reads exactly the edges onto a range.
  const EdgesFile f(path, "e");
  CHECK(f.indexed());
  std::vector<std::uint64_t> got;
  f.read(2, 4, [&](const EdgesBlock& b) { got.insert(got.end(), b.id.begin(), b.id.end()); });
  std::vector<std::uint64_t> want;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (tgt[i] >= 2 && tgt[i] < 4) want.push_back(i);
  }
  CHECK(got == want);
  CHECK(f.edges_read() == want.size());
}

TEST_CASE("A table and rewritten edge weights are readable under SWMR as they go",
          "[io][sonata][swmr]") {
  // What the trainer needs: its log appended a row at a time and its latest
  // weights written over the previous ones, each flushed while the file is
  // open for SWMR writing, in the layout a finished file keeps.
  TempDir dir;
  const std::string path = dir.file("train.h5");
  constexpr std::size_t n = 200000;  // several compressed chunks of 65536 edges
  OutputLayout layout;
  layout.path = path;
  layout.edges = {{"rec", "wm", "wm", n, true}};
  layout.tables = {{"training", {"step", "loss"}}};
  SonataWriter writer(layout);
  std::vector<std::uint64_t> ids(n);
  std::vector<float> delay(n, 1.0f), weight(n);
  for (std::size_t i = 0; i < n; ++i) {
    ids[i] = i;
    weight[i] = static_cast<float>(i);
  }
  writer.write_edges(0, ids, ids, delay, weight);
  auto rows = [&](std::size_t from, std::size_t to) {
    for (std::size_t r = from; r < to; ++r) {
      const double row[2] = {static_cast<double>(r), 0.5 * static_cast<double>(r)};
      writer.append_row(0, row);
    }
  };
  const char* live_check = R"PY(
import sys, h5py, numpy as np
rows, scale, status = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].encode()
with h5py.File(sys.argv[1], "r", swmr=True) as f:
    step, loss = f["training/step"][:], f["training/loss"][:]
    if step.dtype != np.float64 or not np.array_equal(step, np.arange(rows)) or not np.array_equal(loss, 0.5 * np.arange(rows)):
        print("log of", len(step), "rows", file=sys.stderr); sys.exit(1)
    if f["training/step"].chunks != (1024,) or f["training/step"].maxshape != (None,):
        print("chunks", f["training/step"].chunks, file=sys.stderr); sys.exit(2)
    w = f["edges/rec/0/syn_weight"][:]
    if not np.array_equal(w, scale * np.arange(len(w), dtype=np.float32)):
        print("weights", w[:4], file=sys.stderr); sys.exit(3)
    if not np.array_equal(f["edges/rec/source_node_id"][:], np.arange(len(w))):
        sys.exit(4)
    if f["provenance/status"][()] != status:
        sys.exit(5)
)PY";
  rows(0, 1500);  // crosses a chunk of the table
  writer.flush();
  CHECK(run_python(dir, live_check, path + " 1500 1 running") == 0);
  CHECK(writer.position().table_rows == std::vector<std::uint64_t>{1500});

  // New weights, in two slices, and more rows.
  for (std::size_t i = 0; i < n; ++i) weight[i] = 2.0f * static_cast<float>(i);
  writer.rewrite_edge_weights(0, 0, std::span<const float>(weight).first(70000));
  writer.rewrite_edge_weights(0, 70000, std::span<const float>(weight).subspan(70000));
  rows(1500, 1600);
  writer.flush();
  CHECK(run_python(dir, live_check, path + " 1600 2 running") == 0);
  // In place: a rewrite takes no new file space.
  const auto size = fs::file_size(path);
  writer.rewrite_edge_weights(0, 0, weight);
  writer.flush();
  CHECK(fs::file_size(path) == size);

  rows(1600, 1601);
  writer.finish(RunStatus::complete, "{}");
  CHECK(run_python(dir, live_check, path + " 1601 2 complete") == 0);
  const EdgesData e = read_edges(path, "rec");
  REQUIRE(e.weight.size() == n);
  CHECK(e.weight[n - 1] == 2.0f * static_cast<float>(n - 1));
}

TEST_CASE("Output that cannot be created is an IoError with cant_create", "[io][sonata]") {
  TempDir dir;
  OutputLayout layout;
  layout.spikes = {{"p", 1}};

  layout.path = dir.file("no_such_dir/out.h5");
  CHECK(code_of([&] { SonataWriter w(layout); }) == ExitCode::cant_create);
  const std::string missing = message_of([&] { SonataWriter w(layout); });
  CHECK(missing.find(layout.path) != std::string::npos);
  CHECK(missing.find("does not exist") != std::string::npos);

  layout.path = dir.path.string();  // a directory
  CHECK(code_of([&] { SonataWriter w(layout); }) == ExitCode::cant_create);
  CHECK(message_of([&] { SonataWriter w(layout); }).find("is a directory, not a regular file") !=
        std::string::npos);
  REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0600) == 0);
  layout.path = dir.file("fifo");
  CHECK(message_of([&] { SonataWriter w(layout); }).find("is a FIFO") != std::string::npos);
  CHECK(fs::is_fifo(dir.file("fifo")));

  std::ofstream(dir.file("plain_file")) << "x";
  layout.path = dir.file("plain_file/out.h5");
  CHECK(message_of([&] { SonataWriter w(layout); }).find("is not a directory") !=
        std::string::npos);

  if (::geteuid() != 0) {  // root may write anywhere
    fs::create_directories(dir.path / "locked");
    fs::permissions(dir.path / "locked", fs::perms::owner_read | fs::perms::owner_exec);
    layout.path = dir.file("locked/out.h5");
    const std::string denied = message_of([&] { SonataWriter w(layout); });
    CHECK(code_of([&] { SonataWriter w(layout); }) == ExitCode::cant_create);
    CHECK(denied.find("Permission denied") != std::string::npos);
    fs::permissions(dir.path / "locked", fs::perms::owner_all);
  }
}

TEST_CASE("A new file replaces what is at its path only once it is laid out", "[io][sonata]") {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  std::ofstream(path) << "an earlier run's results";
  const auto listing = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir.path)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  };
  // A file too small to be laid out (writes fail as on a full disk): the
  // earlier file is intact, no temporary file is left.
  CHECK(exit_code_with_file_limit<Error>(4096, [&] { SonataWriter w(full_layout(path)); }) ==
        static_cast<int>(ExitCode::cant_create));
  CHECK(fs::file_size(path) == 24);
  CHECK(listing() == std::vector<std::string>{"out.h5"});
  // A reader holding the earlier file keeps reading it; the path is the new file.
  std::ifstream reader(path);
  {
    SonataWriter w(full_layout(path));
    CHECK(inspect(path).status == "running");
    CHECK(listing() == std::vector<std::string>{"out.h5"});
    w.finish(RunStatus::complete, "{}");
  }
  std::string held;
  std::getline(reader, held);
  CHECK(held == "an earlier run's results");
  CHECK(inspect(path).status == "complete");
}

TEST_CASE("A bad output layout is a ConfigError naming the item", "[io][sonata]") {
  TempDir dir;
  OutputLayout layout;
  layout.path = dir.file("out.h5");
  // Two reports with one path: two unnamed ones of a population, or two of
  // one name and population.
  layout.reports = {{"exc", {"v"}, {"mV"}, {0}, 0.0, 1.0, ""},
                    {"exc", {"g"}, {"nS"}, {0}, 0.0, 1.0, ""}};
  CHECK(code_of([&] { SonataWriter w(layout); }) == ExitCode::config);
  CHECK(message_of([&] {
          SonataWriter w(layout);
        }).find("two reports would both be written to /report/exc") != std::string::npos);
  layout.reports = {{"exc", {"v"}, {"mV"}, {0}, 0.0, 1.0, "fast"},
                    {"exc", {"g"}, {"nS"}, {0}, 0.0, 1.0, "fast"}};
  CHECK(message_of([&] {
          SonataWriter w(layout);
        }).find("two reports would both be written to /reports/fast/exc") != std::string::npos);
  layout.reports = {{"exc", {"v"}, {"mV"}, {0}, 0.0, 1.0, "a/b"}};
  CHECK(message_of([&] { SonataWriter w(layout); }).find("report name 'a/b'") != std::string::npos);
  CHECK(!fs::exists(layout.path));

  layout.reports = {{"exc", {"v", "g"}, {"mV"}, {0}, 0.0, 1.0, ""}};
  CHECK(message_of([&] {
          SonataWriter w(layout);
        }).find("report /report/exc has 2 variables but 1 units") != std::string::npos);
  layout.reports = {{"exc", {"v"}, {"mV"}, {0}, 0.0, std::nan(""), "slow"}};
  CHECK(message_of([&] {
          SonataWriter w(layout);
        }).find("report /reports/slow/exc: step nan ms must be finite and > 0") !=
        std::string::npos);
  layout.reports.clear();
  layout.tables = {{"reports", {"loss"}}};  // the named reports' group
  CHECK(message_of([&] { SonataWriter w(layout); }).find("table 'reports'") != std::string::npos);
  layout.tables.clear();
  layout.reports.clear();
  layout.spikes = {{"a/b", 1}};
  CHECK(code_of([&] { SonataWriter w(layout); }) == ExitCode::config);
  layout.spikes.clear();
  layout.tables = {{"edges", {"loss"}}};  // one of the writer's own groups
  CHECK(message_of([&] { SonataWriter w(layout); }).find("table 'edges'") != std::string::npos);
  layout.tables = {{"training", {"loss", "loss"}}};
  CHECK(message_of([&] { SonataWriter w(layout); }).find("column 'loss' appears twice") !=
        std::string::npos);
  layout.tables = {{"training", {}}};
  CHECK(message_of([&] { SonataWriter w(layout); }).find("no columns") != std::string::npos);
}

TEST_CASE("Bad edges files give errors that name the problem", "[io][sonata][edges]") {
  TempDir dir;
  // Each file differs from a valid SONATA edges file in one way.
  const char* make = R"PY(
import sys, os, h5py, numpy as np
d = sys.argv[1]
def edges(name, src=np.array([0, 1], np.uint64), tgt=np.array([1, 0], np.uint64),
          w=np.array([0.5, 0.25], np.float32), delay=np.array([1.0, 2.0], np.float32),
          pop="e2i", groups=True):
    with h5py.File(os.path.join(d, name), "w") as f:
        g = f.create_group("edges/" + pop)
        if src is not None:
            g["source_node_id"] = src; g["source_node_id"].attrs["node_population"] = "exc"
        g["target_node_id"] = tgt; g["target_node_id"].attrs["node_population"] = "inh"
        if groups:
            n = len(tgt)
            g["edge_type_id"] = np.zeros(n, np.int64)
            g["edge_group_id"] = np.zeros(n, np.int64)
            g["edge_group_index"] = np.arange(n, dtype=np.uint64)
        if w is not None: g["0/syn_weight"] = w
        if delay is not None: g["0/delay"] = delay
edges("good.h5")
edges("good_no_groups.h5", groups=False, src=np.array([3, 4], np.int64))
edges("float_ids.h5", src=np.array([0.0, 1.0]))
edges("mismatch.h5", tgt=np.array([1, 0, 2], np.uint64), groups=False)
edges("no_delay.h5", delay=None)
edges("no_source.h5", src=None)
edges("negative_id.h5", src=np.array([0, -1], np.int64))
edges("nan_delay.h5", delay=np.array([1.0, np.nan], np.float32))
with h5py.File(os.path.join(d, "no_attr.h5"), "w") as f:
    f["edges/e2i/source_node_id"] = np.array([0], np.uint64)
    f["edges/e2i/target_node_id"] = np.array([0], np.uint64)
with open(os.path.join(d, "text.h5"), "w") as f:
    f.write("source,target\n0,1\n")
)PY";
  REQUIRE(run_python(dir, make, dir.path.string()) == 0);

  const EdgesData good = read_edges(dir.file("good.h5"), "e2i");
  CHECK(good.source == std::vector<std::uint64_t>{0, 1});
  CHECK(good.weight == std::vector<float>{0.5f, 0.25f});
  const EdgesData plain = read_edges(dir.file("good_no_groups.h5"), "e2i");
  CHECK(plain.source == std::vector<std::uint64_t>{3, 4});
  CHECK(plain.delay_ms == std::vector<float>{1.0f, 2.0f});

  struct Case {
    const char* file;
    const char* population;
    ExitCode code;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {"float_ids.h5",
       "e2i",
       ExitCode::data,
       {"/edges/e2i/source_node_id", "floating-point", "integers"}},
      {"mismatch.h5", "e2i", ExitCode::data, {"target_node_id has 3"}},
      {"no_delay.h5", "e2i", ExitCode::data, {"/edges/e2i/0/delay", "missing"}},
      {"no_source.h5", "e2i", ExitCode::data, {"/edges/e2i/source_node_id", "missing"}},
      {"negative_id.h5", "e2i", ExitCode::data, {"source_node_id[1] is -1"}},
      {"nan_delay.h5", "e2i", ExitCode::data, {"delay of edge 1"}},
      {"no_attr.h5", "e2i", ExitCode::data, {"node_population"}},
      {"good.h5", "e2j", ExitCode::data, {"'e2j'", "did you mean 'e2i'"}},
      {"text.h5", "e2i", ExitCode::data, {"not an HDF5 file"}},
      {"missing.h5", "e2i", ExitCode::no_input, {"no such file"}},
  };
  for (const Case& c : cases) {
    const std::string path = dir.file(c.file);
    const std::string message = message_of([&] { read_edges(path, c.population); });
    INFO(c.file << ": " << message);
    CHECK(code_of([&] { read_edges(path, c.population); }) == c.code);
    CHECK(message.find(path) != std::string::npos);
    for (const auto& m : c.mentions) CHECK(message.find(m) != std::string::npos);
  }
  CHECK(code_of([&] { inspect(dir.file("missing.h5")); }) == ExitCode::no_input);
  CHECK(code_of([&] { inspect(dir.file("text.h5")); }) == ExitCode::data);
}

TEST_CASE("A write that fails mid-run is an IoError with code io", "[io][sonata]") {
  TempDir dir;
  const std::string path = dir.file("full.h5");
  // Writes fail as on a full disk; the error's code is the child's exit status.
  CHECK(exit_code_with_file_limit<Error>(256 * 1024, [&] {
          SonataWriter writer(full_layout(path));
          for (std::size_t at = 0; at < 1000000; at += 10000) {
            writer.append_spikes(0, exc_times(at, 10000), exc_nodes(at, 10000));
          }
          writer.flush();
        }) == static_cast<int>(ExitCode::io));
}

TEST_CASE("A reopened file is cut back to the checkpoint and says so", "[io][sonata][checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("resume.h5");
  OutputLayout layout = full_layout(path);
  layout.run_id = "run-1";
  OutputPosition at;
  {
    SonataWriter w(layout);
    w.append_spikes(0, exc_times(0, 300), exc_nodes(0, 300));
    w.set_simulated_time(5.0);
    w.flush();
    at = w.position();
    // The run went on past the checkpoint, then was killed (no finish()).
    w.append_spikes(0, exc_times(300, 200), exc_nodes(300, 200));
    w.set_simulated_time(12.0);
    w.flush();
    w.finish(RunStatus::complete, R"({"status":"complete"})");
  }
  CHECK(at.simulated_ms == 5.0);
  CHECK(at.spikes == std::vector<std::uint64_t>{300, 0});
  const auto before = fs::file_size(path);

  // Refused without a change: another run's id, and a missing file.
  OutputPosition other = at;
  other.run_id = "run-2";
  CHECK(code_of([&] { SonataWriter w(layout, other, "x"); }) == ExitCode::data);
  CHECK(message_of([&] {
          SonataWriter w(layout, other, "x");
        }).find("written by run run-1, the checkpoint belongs to run run-2") != std::string::npos);
  CHECK(fs::file_size(path) == before);
  OutputLayout missing = layout;
  missing.path = dir.file("missing.h5");
  CHECK(code_of([&] { SonataWriter w(missing, at, "x"); }) == ExitCode::no_input);

  {
    SonataWriter w(layout, at, "5 ck.h5 spikeline resume ck.h5");
    // Before anything is appended, the file already claims no more than it holds.
    CHECK(run_python(dir, R"(
import sys, h5py
f = h5py.File(sys.argv[1], "r", swmr=True)
p = f["provenance"]
assert p["simulated_ms"][()] == 5.0, p["simulated_ms"][()]
assert p["status"][()].rstrip(b"\0") == b"running"
assert p["summary"][0].rstrip(b"\0") == b"", "the old summary is still there"
assert len(f["spikes/exc/timestamps"]) == 300 and len(f["spikes/exc/node_ids"]) == 300
assert p["resumed"][()].rstrip(b"\0") == b"5 ck.h5 spikeline resume ck.h5\n"
)",
                     path) == 0);
    w.append_spikes(0, exc_times(300, 10), exc_nodes(300, 10));
    w.set_simulated_time(6.0);
    at = w.position();
    w.flush();
  }  // killed again: the destructor marks it failed
  {
    SonataWriter w(layout, at, "6 ck.h5 again");
    w.finish(RunStatus::complete, "{}");
  }
  CHECK(run_python(dir, R"(
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
t = f["spikes/exc/timestamps"][:]
assert len(t) == 310 and np.all(np.diff(t) >= 0)
assert f["provenance/resumed"][()].rstrip(b"\0") == b"5 ck.h5 spikeline resume ck.h5\n6 ck.h5 again\n"
assert f["provenance/status"][()].rstrip(b"\0") == b"complete"
)",
                   path) == 0);
}

TEST_CASE(
    "Several reports of one population: /report/<population> and /reports/<name>/<population>",
    "[io][sonata][checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("reports.h5");
  OutputLayout layout;
  layout.path = path;
  layout.run_id = "run-r";
  layout.dt_ms = 0.5;
  layout.reports = {{"exc", {"v", "g"}, {"mV", "nS"}, {0, 1}, 0.0, 1.0, ""},
                    {"exc", {"g"}, {"nS"}, {2}, 0.5, 2.0, "slow"},
                    {"inh", {"v"}, {"mV"}, {0}, 1.0, 1.0, "slow"},
                    {"exc", {"v"}, {"mV"}, {1}, 3.0, 0.5, "fast"}};
  // Report k, frame i, column c holds 1000 k + 10 i + c.
  auto frames = [](std::size_t k, std::size_t first, std::size_t n, std::size_t columns) {
    std::vector<float> out;
    for (std::size_t i = first; i < first + n; ++i) {
      for (std::size_t c = 0; c < columns; ++c)
        out.push_back(static_cast<float>(1000 * k + 10 * i + c));
    }
    return out;
  };
  const std::size_t columns[] = {4, 1, 1, 1};
  OutputPosition at;
  {
    SonataWriter w(layout);
    for (std::size_t k = 0; k < 4; ++k) w.append_frames(k, frames(k, 0, k + 2, columns[k]));
    w.set_simulated_time(5.0);
    w.flush();
    at = w.position();
    // Past the checkpoint: one more frame each, then the run stops.
    for (std::size_t k = 0; k < 4; ++k) w.append_frames(k, frames(k, k + 2, 1, columns[k]));
    w.flush();
    w.finish(RunStatus::complete, "{}");
  }
  CHECK(at.frames == std::vector<std::uint64_t>{2, 3, 4, 5});
  {
    // Resumed from the checkpoint: each report cut back to its own frame
    // count, then continued.
    SonataWriter w(layout, at, "5 ck.h5 resume");
    for (std::size_t k = 0; k < 4; ++k) w.append_frames(k, frames(k, k + 2, 2, columns[k]));
    w.finish(RunStatus::complete, "{}");
  }
  CHECK(run_python(dir, R"PY(
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert sorted(f["report"]) == ["exc"], list(f["report"])
assert sorted(f["reports"]) == ["fast", "slow"], list(f["reports"])
assert sorted(f["reports/slow"]) == ["exc", "inh"], list(f["reports/slow"])
assert sorted(f["reports/fast"]) == ["exc"]
def expect(group, k, n, columns, start, step, nodes, variables):
    g = f[group]
    want = np.array([[1000 * k + 10 * i + c for c in range(columns)] for i in range(n)], dtype=np.float32)
    assert np.array_equal(g["data"][:], want), (group, g["data"][:])
    assert list(g["mapping/time"][:]) == [start, start + n * step, step], (group, g["mapping/time"][:])
    assert list(g["mapping/node_ids"][:]) == nodes, group
    assert [v.decode() for v in g["data"].attrs["variables"]] == variables, group
expect("report/exc", 0, 4, 4, 0.0, 1.0, [0, 1], ["v", "g"])
expect("reports/slow/exc", 1, 5, 1, 0.5, 2.0, [2], ["g"])
expect("reports/slow/inh", 2, 6, 1, 1.0, 1.0, [0], ["v"])
expect("reports/fast/exc", 3, 7, 1, 3.0, 0.5, [1], ["v"])
)PY",
                   path) == 0);
  const FileSummary s = inspect(path);
  INFO(format_summary(s));
  CHECK(s.problems.empty());
  REQUIRE(s.reports.size() == 4);
  CHECK((s.reports[0].name == "" && s.reports[0].population == "exc" && s.reports[0].frames == 4));
  CHECK((s.reports[1].name == "fast" && s.reports[1].population == "exc" &&
         s.reports[1].frames == 7 && s.reports[1].start_ms == 3.0 && s.reports[1].step_ms == 0.5));
  CHECK((s.reports[2].name == "slow" && s.reports[2].population == "exc" &&
         s.reports[2].frames == 5 && s.reports[2].variables == std::vector<std::string>{"g"}));
  CHECK((s.reports[3].name == "slow" && s.reports[3].population == "inh" &&
         s.reports[3].frames == 6));
  const std::string text = format_summary(s);
  INFO(text);
  CHECK(text.find("  report  population  nodes  variables  frames  start (ms)  step (ms)\n") !=
        std::string::npos);
  CHECK(text.find("  -       exc             2  v,g             4           0          1\n") !=
        std::string::npos);
  CHECK(text.find("  fast    exc             1  v               7           3        0.5\n") !=
        std::string::npos);
}
