// Checkpoint files: the whole state of a run, to resume it exactly.
//
// A checkpoint is an HDF5 file holding a StateArchive (state_archive.hpp):
//
//   /                 attrs format = "spikeline checkpoint", format_version (uint32),
//                     spikeline_version (string), checksum (uint64), simulated_ms (float64)
//   /state/<path>     one dataset per field, e.g. /state/simulator/populations/exc/V_m;
//                     plain numbers keep their type (h5py reads them); a struct is
//                     uint8 bytes with attr element_size
//
// The run's own fields (run.cpp) sit under /state/run: the resolved config
// (as UTF-8 bytes), the network fingerprint, the output file's path and the
// rows each recorder had written, the reward triggers' state.
//
// Writing is atomic: the file is written under a temporary name beside the
// target, flushed to disk (fsync) and renamed over it, and the directory is
// synced; a crash at any moment leaves either the previous checkpoint or the
// new one, never a mix. Reading checks the format, the version (a checkpoint
// is only valid for the spikeline version that wrote it: the models' state
// layout may change between versions) and the checksum over every field.
#pragma once

#include <string>
#include <string_view>

#include "spikeline/engine/state_archive.hpp"

namespace spikeline::io {

inline constexpr std::uint32_t kCheckpointFormatVersion = 1;

// Checks, before a run starts, that a checkpoint can be created at `path`
// (its folder exists and is writable, and the path is not a directory, a
// device or a FIFO: output_files.hpp): IoError(cant_create) naming the path
// and the reason, so that a run does not learn it hours later.
void check_checkpoint_writable(const std::string& path);

// Throws IoError (cant_create, io) when the file cannot be written; the
// previous file at `path`, if any, is then left as it was.
void write_checkpoint(const std::string& path, const MemoryArchive& state, double simulated_ms);

// A string as a checkpoint field (its bytes), both ways: saved from
// `text`, or loaded into it. The run's config and the EMBER session's
// texts are kept so.
void text_field(StateArchive& a, std::string_view name, std::string& text);

// The archive, ready to load (loading() is true). Throws Error(no_input)
// when the file is missing, CheckpointError (65) when it is not a
// checkpoint, is of another format or version, or fails its checksum.
MemoryArchive read_checkpoint(const std::string& path);

}  // namespace spikeline::io
