#include "toml_limits.hpp"

#include <vector>

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"

namespace spikeline::io::detail {

namespace {

// A single pass with an explicit stack of open inline tables and arrays, so
// that the scan itself never recurses. Depths: the root table is
// `base_depth`; a header [a.b] opens a table at base + 2, [[a.b]] an array
// element at base + 3; a key a.b = v in a container at depth d puts v at
// d + 2; the elements of an array at depth d lie at d + 1.
class Scanner {
 public:
  Scanner(std::string_view text, int base) : s_(text), base_(base) {}

  std::optional<TomlLimitViolation> run() {
    int table = base_;
    while (!error_ && i_ < s_.size()) {
      skip_blank(true);
      if (i_ >= s_.size()) break;
      const char c = s_[i_];
      if (c == '[') {
        table = header();
      } else if (c == '=' || c == ']' || c == '}' || c == ',') {
        skip_line();  // not TOML: toml++ says so
      } else {
        const std::size_t at = i_;
        const int depth = table + key();
        check_depth(depth, at);
        skip_blank(false);
        if (i_ < s_.size() && s_[i_] == '=') {
          ++i_;
          value(depth);
        }
        skip_line();
      }
    }
    return error_;
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }

  // Spaces and tabs; comments; and newlines when `newlines`.
  void skip_blank(bool newlines) {
    while (!at_end()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
        ++i_;
      } else if (c == '#') {
        while (!at_end() && s_[i_] != '\n') ++i_;
      } else {
        return;
      }
    }
  }
  void skip_line() {
    while (!at_end() && s_[i_] != '\n') {
      if (s_[i_] == '"' || s_[i_] == '\'') {
        string();  // a string may hold newlines
      } else {
        ++i_;
      }
    }
  }

  // A string starting at i_ (basic, literal, or multi-line either way);
  // returns the length of what it holds.
  std::size_t string() {
    const char q = s_[i_];
    const std::string_view triple = q == '"' ? "\"\"\"" : "'''";
    if (s_.substr(i_, 3) == triple) {
      const std::size_t begin = i_ + 3;
      std::size_t j = begin;
      while (j < s_.size() && s_.substr(j, 3) != triple) j += (q == '"' && s_[j] == '\\') ? 2 : 1;
      i_ = std::min(s_.size(), j + 3);
      // Up to two quotes right before the closing three belong to the string.
      while (i_ < s_.size() && s_[i_] == q && i_ < j + 5) ++i_;
      return std::min(j, s_.size()) - begin;
    }
    const std::size_t begin = ++i_;
    while (!at_end() && s_[i_] != q && s_[i_] != '\n') i_ += (q == '"' && s_[i_] == '\\') ? 2 : 1;
    const std::size_t length = std::min(i_, s_.size()) - begin;
    if (!at_end() && s_[i_] == q) ++i_;
    return length;
  }

  static bool bare_key_char(char c) {
    return !(c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '.' || c == '=' || c == '[' ||
             c == ']' || c == '{' || c == '}' || c == ',' || c == '#' || c == '"' || c == '\'');
  }

  // A dotted key at i_; returns its number of parts (at least 1).
  int key() {
    int parts = 0;
    while (!error_) {
      skip_blank(false);
      if (at_end()) break;
      const std::size_t at = i_;
      std::size_t length = 0;
      if (s_[i_] == '"' || s_[i_] == '\'') {
        length = string();
      } else {
        while (!at_end() && bare_key_char(s_[i_])) ++i_;
        length = i_ - at;
      }
      ++parts;
      if (length > kMaxTomlKeyLength) {
        fail(at, fmt::format("a key of {} characters{}: keys may have at most {} characters",
                             length, key_excerpt(s_.substr(at, length)), kMaxTomlKeyLength));
      }
      skip_blank(false);
      if (at_end() || s_[i_] != '.') break;
      ++i_;
    }
    return std::max(parts, 1);
  }

  // [a.b] or [[a.b]] at i_; returns the depth of the table it opens.
  int header() {
    const std::size_t at = i_;
    const bool array = s_.substr(i_, 2) == "[[";
    i_ += array ? 2 : 1;
    const int depth = base_ + key() + (array ? 1 : 0);
    check_depth(depth, at);
    skip_line();
    return depth;
  }

  // The value after `key =`, where the key's value lies at `depth`.
  void value(int depth) {
    struct Open {
      char kind;  // '[' or '{'
      int depth;  // of the container itself
    };
    std::vector<Open> open;
    bool want_key = false;  // inside an inline table, after '{' or ','
    int here = depth;       // depth of the value about to start
    while (!error_) {
      skip_blank(!open.empty());
      if (at_end()) return;
      const char c = s_[i_];
      if (want_key) {
        want_key = false;
        if (c == '}') {
          ++i_;
          open.pop_back();
        } else {
          const std::size_t at = i_;
          here = open.back().depth + key();
          check_depth(here, at);
          skip_blank(true);
          if (!at_end() && s_[i_] == '=') ++i_;
          continue;  // to the key's value
        }
      } else if (c == '[' || c == '{') {
        check_depth(here + (c == '[' ? 1 : 0), i_);
        open.push_back({c, here});
        ++i_;
        want_key = c == '{';
        here = here + 1;  // an array's elements
        continue;
      } else if (c == '"' || c == '\'') {
        string();
      } else if (c != ']' && c != '}' && c != ',') {
        // A number, a boolean, a date or a bare word (which toml++ refuses).
        while (!at_end() && s_[i_] != ',' && s_[i_] != ']' && s_[i_] != '}' && s_[i_] != '#' &&
               s_[i_] != '\n' && s_[i_] != '[' && s_[i_] != '{')
          ++i_;
      }
      // After a value: close containers, or go on to the next element.
      skip_blank(!open.empty());
      while (!at_end() && !open.empty() && (s_[i_] == ']' || s_[i_] == '}')) {
        ++i_;
        open.pop_back();
        skip_blank(!open.empty());
      }
      if (open.empty()) return;
      if (!at_end() && s_[i_] == ',') {
        ++i_;
        want_key = open.back().kind == '{';
        here = open.back().depth + 1;
      }
    }
  }

  void check_depth(int depth, std::size_t at) {
    if (depth > kMaxTomlDepth && !error_) {
      fail(at, fmt::format("the TOML nests {} levels deep here: at most {} levels are allowed "
                           "(each table-header part, dotted-key part, inline table and array is "
                           "one level)",
                           depth, kMaxTomlDepth));
    }
  }

  void fail(std::size_t at, std::string message) {
    if (error_) return;
    TomlLimitViolation v;
    v.line = 1;
    std::size_t line_start = 0;
    for (std::size_t k = 0; k < at && k < s_.size(); ++k) {
      if (s_[k] == '\n') {
        ++v.line;
        line_start = k + 1;
      }
    }
    v.column = at - line_start + 1;
    v.message = std::move(message);
    error_ = std::move(v);
  }

  std::string_view s_;
  int base_;
  std::size_t i_ = 0;
  std::optional<TomlLimitViolation> error_;
};

}  // namespace

std::optional<TomlLimitViolation> check_toml_limits(std::string_view text, int base_depth) {
  return Scanner(text, base_depth).run();
}

std::string key_excerpt(std::string_view key) {
  constexpr std::size_t kShown = 40;
  return fmt::format(" ('{}{}')", escaped(key.substr(0, kShown)), key.size() > kShown ? "..." : "");
}

}  // namespace spikeline::io::detail
