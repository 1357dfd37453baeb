// Reading SONATA HDF5 files: edges as connectivity input, and a summary of
// any output file for `spikeline inspect`.
//
// Files are opened read-only; a file still marked as being written (a run in
// progress, or one that was killed: see sonata_writer.hpp) is opened in SWMR
// read mode instead, which shows everything the writer flushed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spikeline::io {

// One SONATA edges population, edge by edge.
struct EdgesData {
  std::string source_population;
  std::string target_population;
  std::vector<std::uint64_t> source;
  std::vector<std::uint64_t> target;
  std::vector<float> weight;    // syn_weight
  std::vector<float> delay_ms;  // delay
};

// Reads /edges/<edge_population>: source_node_id and target_node_id (integer,
// non-negative, with attribute node_population), and syn_weight and delay
// from the edge groups that edge_group_id / edge_group_index point to (or
// from group "0" edge by edge when those are absent).
// Throws Error(no_input) when the file does not exist or cannot be opened,
// DataError naming the file, the dataset and the problem otherwise (not
// HDF5, missing population (with the ones there are), missing dataset,
// non-numeric or float node ids, mismatched lengths, negative or non-finite
// delays, non-finite weights).
EdgesData read_edges(const std::string& path, const std::string& edge_population);

// A block of edges as EdgesFile reads them: edge k is id[k] of the file.
struct EdgesBlock {
  std::vector<std::uint64_t> id, source, target;
  std::vector<float> weight, delay_ms;
};

// /edges/<edge_population> read a bounded block at a time: every edge, or
// the edges onto a range of targets (what one process of a run of several
// needs), in file order either way.
//
// Onto a range of targets, through the file's target index when it has one
// (indices/target_to_source: node_id_to_range, or libsonata's
// node_id_to_ranges, and range_to_edge_id): only the listed edges are read.
// The index is trusted to list every edge once (as libsonata does: an edge
// it omits is not read); each edge read is checked to end on the node that
// lists it, and an index whose ranges run backwards, past the end of their
// dataset or over each other is a DataError naming the dataset and value.
// Without an index, target_node_id is scanned a block at a time and the
// rest is read for the edges kept: every process then reads every target id.
//
// Errors as for read_edges: the file's layout when constructed, the values
// (ids, groups, weights, delays) when read. Not safe to share between threads.
class EdgesFile {
 public:
  using Sink = std::function<void(const EdgesBlock&)>;
  // `block`: the most edges held at a time (tests make it small).
  EdgesFile(const std::string& path, const std::string& edge_population,
            std::uint64_t block = std::uint64_t{1} << 18);
  EdgesFile(EdgesFile&&) noexcept;
  EdgesFile& operator=(EdgesFile&&) noexcept;
  ~EdgesFile();

  const std::string& path() const;
  const std::string& source_population() const;
  const std::string& target_population() const;
  std::uint64_t size() const;  // edges
  bool indexed() const;        // the file has a target index

  // The edges with a target in [first, last), in file order.
  void read(std::uint64_t first, std::uint64_t last, const Sink& sink) const;
  // Every edge, in file order (the index is not used).
  void read_all(const Sink& sink) const;
  // How many edges' target ids were read so far: those the index listed,
  // or every edge scanned.
  std::uint64_t edges_read() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The names under /edges, sorted; empty when there is no /edges group.
std::vector<std::string> list_edge_populations(const std::string& path);

struct SpikePopulationSummary {
  std::string name;
  std::uint64_t spikes = 0;
  std::uint64_t nodes = 0;  // attribute node_count, else max node id + 1
  std::optional<double> t_first_ms, t_last_ms;
  std::optional<double> mean_rate_hz;  // when the simulated time is known
};

struct ReportSummary {
  std::string name;  // "" for /report/<population>, else /reports/<name>/<population>
  std::string population;
  std::vector<std::string> variables;
  std::uint64_t nodes = 0;
  std::uint64_t frames = 0;
  double start_ms = 0, step_ms = 0;
};

struct EdgesSummary {
  std::string name;
  std::string source_population, target_population;
  std::uint64_t count = 0;
};

struct WeightsSummary {
  std::string projection;
  std::uint64_t weights = 0;  // per snapshot
  std::uint64_t snapshots = 0;
};

struct FileSummary {
  std::string path;
  bool opened_swmr = false;  // the file was still marked as being written
  // From /provenance when present ("" / nullopt otherwise, e.g. for files
  // written by other tools).
  std::string status;  // running (or killed), complete, interrupted, failed
  std::string version;
  std::string command_line;
  std::optional<std::uint64_t> seed;
  std::optional<int> threads;
  std::optional<double> dt_ms, simulated_ms;
  std::vector<SpikePopulationSummary> spikes;
  std::vector<ReportSummary> reports;
  std::vector<EdgesSummary> edges;
  std::vector<WeightsSummary> weights;
  // Damaged or inconsistent metadata, each naming the dataset or attribute:
  // a /provenance dataset missing or of the wrong type or value (files with
  // a /provenance group, i.e. spikeline's), spike datasets of a closed file
  // of different lengths, a `sorting` attribute that is none of none /
  // by_id / by_time (or missing in a spikeline file), times out of order
  // under by_time, a node_count that is not an integer or below a node id,
  // edges without node_population or of different lengths.
  std::vector<std::string> problems;
  // What the file of a run that is still going or was killed lacks, as
  // expected: /edges not written, spike datasets longer than the last flush.
  std::vector<std::string> notes;
};

// Works on files left by killed runs. Errors as for read_edges; a path that
// is not a regular file (a directory, a FIFO, a device) is Error(no_input)
// before anything is opened.
FileSummary inspect(const std::string& path);

// A human-readable report: the provenance, then one table per section.
std::string format_summary(const FileSummary& summary);

}  // namespace spikeline::io
