#include "spikeline/io/output_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "spikeline/engine/error.hpp"

namespace spikeline::io {

namespace fs = std::filesystem;

namespace {

fs::path folder_of(const fs::path& target) {
  return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

// The temporary files of `target` are ".NAME.tmp-XXXXXX" beside it.
std::string temporary_prefix(const fs::path& target) {
  return (folder_of(target) / fmt::format(".{}.tmp-", target.filename().string())).string();
}

// Why no file can be created beside `target` (errno `err` of the attempt).
std::string why_not_created(const fs::path& target, int err) {
  std::error_code ec;
  const fs::path folder = fs::absolute(folder_of(target), ec).lexically_normal();
  if (!fs::exists(folder, ec)) return fmt::format("directory '{}' does not exist", folder.string());
  if (!fs::is_directory(folder, ec)) return fmt::format("'{}' is not a directory", folder.string());
  return std::strerror(err);
}

const char* kind_of(fs::file_type type) {
  switch (type) {
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::fifo:
      return "a FIFO (named pipe)";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}

// One file under two names: the same inode when both exist, else the same
// path once made absolute, normal and free of symbolic links.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  if (fs::exists(a, ea) && fs::exists(b, eb)) {
    std::error_code ec;
    return fs::equivalent(a, b, ec);
  }
  auto resolved = [](const std::string& p) {
    std::error_code ec;
    fs::path r = fs::weakly_canonical(fs::absolute(p, ec), ec);
    return ec ? fs::absolute(p, ec).lexically_normal() : r;
  };
  return resolved(a) == resolved(b);
}

}  // namespace

std::string link_target(const std::string& path) {
  std::error_code ec;
  if (!fs::is_symlink(path, ec)) return path;
  const fs::path resolved = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path : resolved.string();
}

std::string make_temporary(const std::string& target, const std::string& role) {
  std::string name = temporary_prefix(target) + "XXXXXX";
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    const int err = errno;
    throw IoError(ExitCode::cant_create,
                  fmt::format("cannot create {} '{}': {} (creating {} beside it)", role, target,
                              why_not_created(target, err), name));
  }
  // mkstemp makes it private (0600); the file gets the permissions any new
  // file would (0666 less the umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  ::close(fd);
  return name;
}

void check_output_path(const std::string& path, const std::string& role) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    throw IoError(ExitCode::cant_create,
                  fmt::format("{} '{}' is {}, not a regular file: give the name of a file to "
                              "create or replace",
                              role, path, kind_of(st.type())));
  }
  const std::string probe = make_temporary(path, role);
  ::unlink(probe.c_str());
}

void replace_with(const std::string& temporary, const std::string& target,
                  const std::string& role) {
  std::error_code ec;
  fs::rename(temporary, target, ec);
  if (ec) {
    throw IoError(ExitCode::cant_create, fmt::format("cannot create {} '{}': renaming {} to it: {}",
                                                     role, target, temporary, ec.message()));
  }
}

void remove_stale_temporaries(const std::string& target, const std::string& keep) {
  const std::string prefix = fs::path(temporary_prefix(target)).filename().string();
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& e : fs::directory_iterator(folder_of(target), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || e.path().string() == keep) continue;
    std::error_code ec2;
    if (now - fs::last_write_time(e.path(), ec2) > std::chrono::minutes(1))
      fs::remove(e.path(), ec2);
  }
}

void check_distinct_files(const std::vector<FileRole>& outputs,
                          const std::vector<FileRole>& inputs) {
  auto skip = [](const FileRole& f) { return f.path.empty() || f.path == "-"; };
  auto refuse = [](const FileRole& out, const FileRole& other, const char* why) {
    const std::string text =
        fmt::format("{} '{}' and {} '{}' are the same file: they must be different files ({})",
                    out.role, out.path, other.role, other.path, why);
    if (out.command_line && other.command_line) throw UsageError(text);
    throw IoError(ExitCode::cant_create, text);
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (skip(outputs[i])) continue;
    for (std::size_t j = i + 1; j < outputs.size(); ++j) {
      if (!skip(outputs[j]) && same_file(outputs[i].path, outputs[j].path))
        refuse(outputs[i], outputs[j], "one would overwrite the other");
    }
    for (const auto& in : inputs) {
      if (!skip(in) && same_file(outputs[i].path, in.path))
        refuse(outputs[i], in, "a run must not write over its own input");
    }
  }
}

}  // namespace spikeline::io
