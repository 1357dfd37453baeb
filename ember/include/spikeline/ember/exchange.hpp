// The conversation as `spikeline ember` reads it: JSON lines, one exchange
// per line (blank lines and lines starting with '#' skipped).
//
//   {"user": "how do I reset my router?", "assistant": "hold the button 10 s", "reward": 1}
//   {"user": "label", "user_embedding": [0.12, ...], "assistant_embedding": [...]}
//
// | field                  | type               | meaning                                     |
// |------------------------|--------------------|---------------------------------------------|
// | `user`, `assistant`    | string, non-blank  | the message (its text: the label of actions)|
// | `user_embedding`,      | array of finite    | the message's embedding from the user's own |
// | `assistant_embedding`  | numbers            | model; without it the text is embedded      |
// |                        |                    | ([ember] embeddings table, else the n-gram  |
// |                        |                    | embedder)                                   |
// | `reward`               | finite number      | the dopamine pulse after the exchange       |
// |                        | in [-100, 100]     | ([ember] reward when absent)                |
// | `id`                   | string or integer  | echoed in the actions it leads to           |
//
// Each side needs its text or its embedding (or both). Any other field is an
// error, as a misspelt "reward" silently ignored would train the substrate
// on the wrong signal. Errors are DataError naming the line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spikeline::ember {

struct Message {
  std::string text;               // may be empty when an embedding is given
  std::vector<double> embedding;  // empty: embed the text
};

struct Exchange {
  std::size_t line = 0;  // 1-based, in its source
  std::string id;        // as given ("" if none)
  Message user, assistant;
  std::optional<double> reward;
};

// One line of JSON (without its newline). `where` names it in errors
// ("stdin line 12"). DataError for malformed JSON (with the position), a
// value that is not an object, an unknown field (with the valid ones), a
// wrong type, a blank text, an empty or non-finite embedding (naming the
// entry), a side with neither text nor embedding, a reward out of range.
Exchange parse_exchange(std::string_view json, const std::string& where);

// Whether a line holds nothing to read (blank, or a '#' comment).
bool is_skippable(std::string_view line);

// Embeddings of known texts (what a user's embedding model computed for
// the messages ahead of time), from a JSON-lines file of
//   {"text": "...", "embedding": [...]}
// or an HDF5 file (known by its signature) of /embeddings [n][d] and
// /texts [n], as h5py writes them. All embeddings have one size; a text
// listed twice, or empty, is an error.
class EmbeddingTable {
 public:
  EmbeddingTable() = default;
  // Error(no_input) when the file cannot be read; DataError naming the
  // file and line for anything malformed.
  static EmbeddingTable read(const std::string& path);
  // The embedding of `text`, or null.
  const std::vector<double>* find(std::string_view text) const;
  std::size_t size() const { return texts_.size(); }
  std::size_t dim() const { return dim_; }

 private:
  std::vector<std::string> texts_;  // sorted, with rows_ in the same order
  std::vector<std::vector<double>> rows_;
  std::size_t dim_ = 0;
};

}  // namespace spikeline::ember
