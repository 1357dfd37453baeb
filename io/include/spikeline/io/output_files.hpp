// The files a run writes (its output, its checkpoints): the checks made
// before a run starts, and how a new file replaces what is at its path.
//
// A new file is never created at its path: it is created under a temporary
// name beside it (".NAME.tmp-XXXXXX", unique: mkstemp, with the permissions
// any new file gets) and renamed over the path once it is laid out. So what
// is at the path (an earlier run's results, a file a reader holds open) is
// left as it was until then, and a failure before then removes only the
// temporary file. A path that exists and is not a regular file (a device
// such as /dev/null, a FIFO, a directory) is refused, never replaced.
#pragma once

#include <string>
#include <vector>

namespace spikeline::io {

// Refuses, with IoError(cant_create) (73) naming `role` ("output file",
// "checkpoint") and the path: a path that exists (through symbolic links)
// and is not a regular file, and one beside which no file can be created
// (its folder is missing or not writable). Nothing is left behind.
void check_output_path(const std::string& path, const std::string& role);

// The file a path names: `path` itself, or where its symbolic links lead
// (so that writing through a link replaces the file it points to, not the
// link).
std::string link_target(const std::string& path);

// A new, empty temporary file beside `target`; returns its name. Throws
// IoError(cant_create) naming `role`, the target and why.
std::string make_temporary(const std::string& target, const std::string& role);

// Gives `temporary` the name `target` (rename(2): atomic, what was at
// `target` stays intact for whoever holds it open). Throws
// IoError(cant_create) naming `role`; `temporary` is then still there.
void replace_with(const std::string& temporary, const std::string& target, const std::string& role);

// Removes the temporary files that writers killed before they renamed them
// left beside `target`, except `keep`. Only files older than a minute: a
// writer working on the same target right now keeps its file.
void remove_stale_temporaries(const std::string& target, const std::string& keep);

// A file a run reads or writes, as the user named it, for the check that no
// two of them are one file.
struct FileRole {
  std::string role;  // e.g. "the output file", "--checkpoint", "edges file of projection 'x'"
  std::string path;
  bool command_line = false;  // named on the command line
};

// Refuses a file written (`outputs`) that is also another output or one of
// the `inputs`: compared as the files they are (symbolic links, "./a.h5"
// and "a.h5", hard links: one file). Throws UsageError (64) when both names
// come from the command line, else IoError(cant_create) (73); the message
// names both roles and the path. Empty paths and "-" (stdin) are skipped.
void check_distinct_files(const std::vector<FileRole>& outputs,
                          const std::vector<FileRole>& inputs);

}  // namespace spikeline::io
