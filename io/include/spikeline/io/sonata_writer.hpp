// Simulation output as one HDF5 file in the SONATA layout, written so that a
// killed run still leaves a readable file.
//
// Layout (every name below is fixed; <...> comes from the OutputLayout):
//
//   /                          attrs magic = 0x0A7A (uint32), version = [0, 1] (uint32)
//   /spikes/<population>/      attr sorting (enum over uint8: none=0, by_id=1, by_time=2) = by_time
//                              attr node_count (uint64): the population size
//       timestamps             float64 [n], attr units = "ms"
//       node_ids               uint64 [n]
//   /report/<population>/      a SONATA frame report (an unnamed one; at most one per population)
//   /reports/<name>/<population>/  a named frame report, laid out as /report/<population>
//       data                   float32 [frames x columns], attrs units ("mixed" when the
//                              variables differ), variables and variable_units (one per element)
//       mapping/node_ids       uint64 [nodes]
//       mapping/index_pointers uint64 [nodes + 1]: node k owns columns [ip[k], ip[k+1])
//       mapping/element_ids    uint32 [columns]: the variable index of each column
//       mapping/time           float64 [start, stop, step], attr units = "ms"; stop is
//                              start + frames * step as of the last flush()
//   /weights/<name>/           one per weight record (name defaults to the projection), attr
//   projection
//       data                   float32 [samples x synapses]: the weights
//       <variable>             float32 [samples x synapses]: other variables (e.g. eligibility)
//       time                   float64 [samples], attr units = "ms"
//       edge_ids               uint64 [synapses]: ids in /edges/<projection> (only for chosen
//       synapses)
//   /neuromodulators/<name>/
//       data                   float64 [samples]: the concentration
//       time                   float64 [samples], attr units = "ms"
//   /edges/<name>/             a SONATA edges population (final weights; loadable as input)
//       source_node_id         uint64, attr node_population
//       target_node_id         uint64, attr node_population
//       edge_type_id           int64, all 0
//       edge_group_id          uint32, all 0
//       edge_group_index       uint64, 0..n-1
//       0/syn_weight           float32
//       0/delay                float32, attr units = "ms"
//       indices/source_to_target/node_id_to_ranges  uint64 [sources x 2]: rows [begin, end)
//       indices/source_to_target/range_to_edge_id   uint64 [runs x 2]: edges [begin, end)
//       indices/target_to_source/...                the same by target (when the layout
//                                                   gives the populations' sizes)
//   /<table>/                  one group per table: a log appended a row at a time
//       <column>               float64 [rows]
//   /provenance/
//       config, command_line, version       fixed-length UTF-8 strings (scalar)
//       seed (uint64), threads (int32), dt_ms (float64)
//       simulated_ms           float64: simulated time reached, as of the last flush()
//       status                 fixed-length string: "running" until finish(), then
//                              "complete", "interrupted" or "failed"
//       summary                [1] fixed-length string (at most kMaxSummaryBytes), set by finish()
//       run_id                 fixed-length string: tells this run's file from any other's
//       resumed                fixed-length string, only in a resumed run's file: one line
//                              per resume, "<ms> <checkpoint> <command line>"
//
// Crash safety: the file uses the latest format and enters SWMR-write mode
// once every object exists, so a process killed at any point leaves a file in
// which everything up to the last flush() is readable. While the run goes on,
// and after it was killed, the file is still marked as open for writing:
// open it with h5py.File(path, "r", swmr=True) (a plain "r" open is refused
// with "file is already open for write"), or run `h5clear -s path` once.
// The reader (sonata_reader.hpp) falls back to SWMR reading by itself. A
// finished file opens normally. /provenance/status tells a finished file
// ("complete", ...) from a killed one ("running").
//
// Resuming (checkpoint.hpp): a checkpoint records the writer's position()
// after a flush; resuming reopens the same file, cuts every dataset back to
// that position (a run that went on past the checkpoint, or was killed, may
// have written more) and appends from there, so the resumed file holds the
// same data as one written by a run that never stopped.
//
// Not thread-safe: one thread owns a writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/connectivity.hpp"

namespace spikeline::io {

struct SpikePopulationLayout {
  std::string name;
  std::uint64_t size = 0;  // number of nodes
};

// Where a frame report goes: /report/<population> when `name` is empty (at
// most one per population), else /reports/<name>/<population>.
std::string report_path(const std::string& name, const std::string& population);

// A frame report: one frame every step_ms, columns node-major, variable-minor,
// at report_path(name, population). No two reports share a path.
struct ReportLayout {
  std::string population;
  std::vector<std::string> variables;
  std::vector<std::string> units;  // one per variable
  std::vector<std::uint64_t> node_ids;
  double start_ms = 0;
  double step_ms = 0;
  std::string name;  // "" : unnamed
  std::string path() const { return report_path(name, population); }
};

struct EdgesLayout {
  std::string name;
  std::string source_population;
  std::string target_population;
  std::uint64_t count = 0;
  // The weights will be written again (rewrite_edge_weights): syn_weight is
  // then stored uncompressed, in one block allocated up front, so that each
  // rewrite overwrites it in place. A compressed chunk rewritten takes new
  // file space (the old is not reused: the file grew by the whole weights at
  // each rewrite) and costs a compression each time.
  bool rewritable = false;
  // The populations' sizes: with both, the edges get SONATA's indices
  // (indices/source_to_target and target_to_source: node_id_to_ranges and
  // range_to_edge_id, as libsonata writes them), built from the ids once
  // the last edge is written. 0: no index.
  std::uint64_t source_count = 0;
  std::uint64_t target_count = 0;
};

// Samples of synapses of a projection: all of them (snapshots) or chosen
// ones (trajectories), the weight and optionally other variables of the
// plasticity rule.
struct WeightSnapshotLayout {
  std::string name;                     // group /weights/<name>
  std::string projection;               // stored as an attribute
  std::uint64_t count = 0;              // synapses per sample
  std::vector<std::uint64_t> edge_ids;  // the chosen synapses; empty: all, in edges order
  std::vector<std::string> variables;   // besides the weight ("data"), e.g. "eligibility"
};

// Samples of a neuromodulator's concentration.
struct ModulatorLayout {
  std::string name;
};

// A log of float64 columns, appended a row at a time (the trainer's
// /training: step, loss, ...). Its group must not be one of the writer's own
// (spikes, report, reports, weights, neuromodulators, edges, provenance).
struct TableLayout {
  std::string group;
  std::vector<std::string> columns;
};

struct OutputLayout {
  std::string path;
  std::vector<SpikePopulationLayout> spikes;
  std::vector<ReportLayout> reports;
  std::vector<EdgesLayout> edges;
  std::vector<WeightSnapshotLayout> weight_snapshots;
  std::vector<ModulatorLayout> modulators;
  std::vector<TableLayout> tables;
  // Provenance.
  std::string config_text;  // the resolved configuration (TOML)
  std::string command_line;
  std::string version;
  std::uint64_t seed = 0;
  int threads = 1;
  double dt_ms = 0;
  std::string run_id;  // stored in /provenance/run_id
};

// How much of each dataset is in the file: rows per spike population,
// frames per report, samples per weight record and per neuromodulator.
struct OutputPosition {
  std::string run_id;
  double simulated_ms = 0;  // the time all of it covers
  std::vector<std::uint64_t> spikes, frames, weight_samples, modulator_samples, table_rows;
};

enum class RunStatus { complete, interrupted, failed };

// "complete", "interrupted", "failed".
const char* to_string(RunStatus status);

class SonataWriter;
// Edges written by write_edges at a time, and the bytes of its buffers (ids,
// delays, weights: 24 bytes an edge) plus HDF5's buffers for compressing a
// chunk: what writing the final weights needs beside the synapse tables,
// whatever the projection's size (part of the memory estimate, build.cpp).
inline constexpr std::size_t kEdgesPerWrite = std::size_t{1} << 20;
inline constexpr std::size_t kEdgeWriteBytes = kEdgesPerWrite * 24 + (std::size_t{2} << 20);
// Writes every synapse of `connectivity` (in canonical order, its weights as
// they are now) as edges population `edges`, kEdgesPerWrite at a time.
void write_edges(SonataWriter& writer, std::size_t edges, const Connectivity& connectivity,
                 const TimeGrid& grid);
// Writes the weights of every synapse of `connectivity` again (the same
// synapses, in the same order, as write_edges wrote them), in place.
void rewrite_edge_weights(SonataWriter& writer, std::size_t edges,
                          const Connectivity& connectivity);

class SonataWriter {
 public:
  static constexpr std::size_t kMaxSummaryBytes = 1 << 20;

  // Creates the file and all its datasets under a temporary name beside
  // layout.path, enters SWMR-write mode, then renames it over layout.path
  // (output_files.hpp): the caller creates the writer once the run is known
  // to start, and whatever was at the path is replaced only then (a reader
  // holding the old file keeps reading it). Throws ConfigError for a bad
  // layout (duplicate or unusable names, two reports with one path,
  // units not matching variables, bad step) and IoError(cant_create) when
  // the path is not a regular file (a device, a FIFO, a directory) or the
  // file cannot be created; nothing at the path has changed then.
  explicit SonataWriter(const OutputLayout& layout);
  // Reopens the file at layout.path, written by the run `at.run_id` with
  // this layout, to continue it from `at` (what it held when a checkpoint
  // was taken): each dataset is cut back to `at`, /provenance/simulated_ms
  // is at.simulated_ms, the summary is cleared, /provenance/status is
  // "running" again and `resumed_line` is added to /provenance/resumed; all
  // of that is flushed before the constructor returns. A file left by a
  // killed run is fine. Throws DataError (65) when the file is not that
  // run's output or holds less than `at`, Error(no_input) when it is
  // missing (nothing is changed then), IoError(io) when it cannot be
  // written.
  SonataWriter(const OutputLayout& layout, const OutputPosition& at,
               const std::string& resumed_line);
  SonataWriter(const SonataWriter&) = delete;
  SonataWriter& operator=(const SonataWriter&) = delete;
  SonataWriter(SonataWriter&&) noexcept;
  SonataWriter& operator=(SonataWriter&&) noexcept;
  // Without finish(): writes what is buffered, sets the status to "failed"
  // and closes, ignoring errors.
  ~SonataWriter();

  // The arguments index the layout's vectors. Appends are buffered and go to
  // the file in whole chunks; flush() makes them durable. A length mismatch
  // is a programming error (Error with ExitCode::software); a failed write
  // throws IoError(io).
  void append_spikes(std::size_t population, std::span<const double> times_ms,
                     std::span<const std::uint64_t> node_ids);
  // n_frames x n_columns values, row-major.
  void append_frames(std::size_t report, std::span<const float> frames);
  // One sample: the weights, then each extra variable, `count` values each.
  void append_weight_snapshot(std::size_t snapshot, double time_ms, std::span<const float> values);
  void append_modulator_sample(std::size_t modulator, double time_ms, double value);
  // Edges [first, first + n) of an edges population, written in order
  // (first = the number written so far), until all `count` are; or all of
  // them at once.
  void write_edges(std::size_t edges, std::uint64_t first, std::span<const std::uint64_t> source,
                   std::span<const std::uint64_t> target, std::span<const float> delay_ms,
                   std::span<const float> weight);
  void write_edges(std::size_t edges, std::span<const std::uint64_t> source,
                   std::span<const std::uint64_t> target, std::span<const float> delay_ms,
                   std::span<const float> weight);
  // Once all edges of a `rewritable` population are written: the weights of
  // edges [first, first + n) again, in place (a trainer's latest weights,
  // under SWMR). Durable at the next flush(); a process killed while they are
  // being written may leave some of the previous weights beside the new.
  void rewrite_edge_weights(std::size_t edges, std::uint64_t first, std::span<const float> weight);
  // One row of a table: a value per column, buffered until flush().
  void append_row(std::size_t table, std::span<const double> row);

  // The simulated time reached; stored in /provenance/simulated_ms at the
  // next flush() or finish() (inspect uses it for firing rates).
  void set_simulated_time(double time_ms);

  // Writes everything buffered and flushes the file: a reader, or a file
  // left by a killed process, then has all of it. /provenance/simulated_ms
  // is written after the data is on disk, so it never claims more.
  void flush();

  // A write or flush failed (an IoError was thrown, e.g. the disk is full):
  // from then on appends and flushes do nothing, and finish() only marks
  // the file "failed" and closes it, without throwing again. The file holds
  // what the last successful flush committed.
  bool failed() const;

  // Writes the summary (JSON text) and the status, flushes and closes. An
  // over-long summary (> kMaxSummaryBytes) is not stored: the file is still
  // finished and closed, then Error(software) is thrown.
  void finish(RunStatus status, const std::string& summary_json);

  const std::string& path() const;
  // What the file holds; equal to what was appended once flush() returns.
  OutputPosition position() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spikeline::io
