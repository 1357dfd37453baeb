// Bounds on how deep a TOML text nests and how long its keys are, checked
// before toml++ sees the text. Private to io/src.
//
// toml++ builds, prints and frees nested tables by recursion. Its own limit
// (TOML_MAX_NESTED_VALUES = 256) covers inline tables and arrays only: a
// table header or a dotted key 40,000 levels deep ([a.a.a....], a.a.a... = 1)
// overflowed the stack (SIGSEGV) instead of being an error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace spikeline::io::detail {

// The deepest value a spikeline config holds lies 5 levels down
// ([[population]] is an array of tables: population, the entry, initial,
// V_m, distribution): 64 leaves ample room, and a recursion 64 deep is
// nothing for any stack.
inline constexpr int kMaxTomlDepth = 64;
// Keys are names a person types (the longest spikeline key has 21
// characters); 1024 leaves room for any quoted name and keeps messages that
// quote a key readable.
inline constexpr std::size_t kMaxTomlKeyLength = 1024;

struct TomlLimitViolation {
  std::size_t line = 0, column = 0;  // 1-based, where the offending key or bracket starts
  std::string message;               // without the position
};

// Scans `text` lexically (strings, comments, headers, keys, inline tables
// and arrays) and returns the first place where a value lies deeper than
// kMaxTomlDepth levels, or a key is longer than kMaxTomlKeyLength, or
// nothing. Each table-header part, dotted-key part, inline table and array
// counts one level; `base_depth` is the depth of the text's root (a --set
// value's key path). Malformed text is scanned on as well as can be; its
// syntax is for toml++ to judge.
std::optional<TomlLimitViolation> check_toml_limits(std::string_view text, int base_depth = 0);

// " ('first 40 characters...')" of a long key, escaped for a message.
std::string key_excerpt(std::string_view key);

}  // namespace spikeline::io::detail
