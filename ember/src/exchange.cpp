#include "spikeline/ember/exchange.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spikeline/engine/error.hpp"
#include "spikeline/io/embedding_file.hpp"

namespace spikeline::ember {

namespace {

using json = nlohmann::json;

constexpr double kMaxReward = 100;

std::string type_name(const json& v) {
  return v.is_number()
             ? "a number"
             : fmt::format("{} {}", v.is_array() || v.is_object() ? "an" : "a", v.type_name());
}

// The JSON value of one line: DataError with nlohmann's position otherwise.
json parse_line(std::string_view text, const std::string& where) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1,
    // column 7: syntax error ...": keep the part after the id.
    std::string why = e.what();
    if (const auto p = why.find("] "); p != std::string::npos) why = why.substr(p + 2);
    throw DataError(fmt::format("{}: not JSON ({}): {}", where, why, quote_input(text)));
  } catch (const json::out_of_range& e) {
    // A number beyond a double's range ("1e999"): nlohmann refuses it.
    std::string why = e.what();
    if (const auto p = why.find("] "); p != std::string::npos) why = why.substr(p + 2);
    throw DataError(
        fmt::format("{}: a number out of range ({}): {}", where, why, quote_input(text)));
  }
}

std::string read_text(const json& v, const std::string& where, const char* field) {
  if (!v.is_string()) {
    throw DataError(fmt::format("{}: \"{}\" must be a string; got {}", where, field, type_name(v)));
  }
  std::string s = v.get<std::string>();
  if (s.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
    throw DataError(
        fmt::format("{}: \"{}\" is empty: a message needs a text (or give \"{}_embedding\")", where,
                    field, field));
  }
  return s;
}

std::vector<double> read_embedding(const json& v, const std::string& where, const char* field) {
  if (!v.is_array()) {
    throw DataError(
        fmt::format("{}: \"{}\" must be an array of numbers; got {}", where, field, type_name(v)));
  }
  if (v.empty()) throw DataError(fmt::format("{}: \"{}\" is empty", where, field));
  std::vector<double> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const json& x = v[i];
    if (!x.is_number()) {
      throw DataError(
          fmt::format("{}: \"{}\"[{}] must be a number; got {}", where, field, i, type_name(x)));
    }
    const double d = x.get<double>();
    if (!std::isfinite(d)) {
      throw DataError(fmt::format("{}: \"{}\"[{}] = {} is not finite", where, field, i, d));
    }
    out.push_back(d);
  }
  return out;
}

}  // namespace

bool is_skippable(std::string_view line) {
  const auto first = line.find_first_not_of(" \t\r\n\f\v");
  return first == std::string_view::npos || line[first] == '#';
}

Exchange parse_exchange(std::string_view text, const std::string& where) {
  const json v = parse_line(text, where);
  if (!v.is_object()) {
    throw DataError(fmt::format("{}: an exchange is a JSON object; got {}", where, type_name(v)));
  }
  static const std::vector<std::string> kFields = {
      "user", "assistant", "user_embedding", "assistant_embedding", "reward", "id"};
  Exchange e;
  for (const auto& [key, value] : v.items()) {
    if (std::find(kFields.begin(), kFields.end(), key) == kFields.end()) {
      throw DataError(fmt::format("{}: unknown field \"{}\"{}; valid fields: {}", where,
                                  quote_input(key, 40), did_you_mean(key, kFields),
                                  fmt::join(kFields, ", ")));
    }
    if (key == "user") {
      e.user.text = read_text(value, where, "user");
    } else if (key == "assistant") {
      e.assistant.text = read_text(value, where, "assistant");
    } else if (key == "user_embedding") {
      e.user.embedding = read_embedding(value, where, "user_embedding");
    } else if (key == "assistant_embedding") {
      e.assistant.embedding = read_embedding(value, where, "assistant_embedding");
    } else if (key == "reward") {
      if (!value.is_number()) {
        throw DataError(
            fmt::format("{}: \"reward\" must be a number; got {}", where, type_name(value)));
      }
      const double r = value.get<double>();
      if (!(std::abs(r) <= kMaxReward)) {
        throw DataError(fmt::format("{}: \"reward\" = {} is out of range: valid is -{} to {}",
                                    where, r, kMaxReward, kMaxReward));
      }
      e.reward = r;
    } else {  // id
      if (value.is_string()) {
        e.id = value.get<std::string>();
      } else if (value.is_number_integer()) {
        e.id = value.dump();
      } else {
        throw DataError(fmt::format("{}: \"id\" must be a string or an integer; got {}", where,
                                    type_name(value)));
      }
    }
  }
  for (const auto& [side, m] : {std::pair{"user", &e.user}, std::pair{"assistant", &e.assistant}}) {
    if (m->text.empty() && m->embedding.empty()) {
      throw DataError(fmt::format("{}: no {} message: give \"{}\" (a text) or \"{}_embedding\"",
                                  where, side, side, side));
    }
  }
  return e;
}

namespace {

// The rows of an HDF5 table: /embeddings [n][d] and /texts [n], as h5py
// writes them (f["embeddings"] = matrix; f["texts"] = list_of_str).
std::vector<std::pair<std::string, std::vector<double>>> read_hdf5_rows(const std::string& path) {
  io::EmbeddingMatrix m = io::read_embeddings(path);
  if (m.texts.empty()) {
    throw DataError(fmt::format(
        "embeddings {}: the file has /embeddings but no /texts: a table needs the text of each "
        "embedding",
        path));
  }
  std::vector<std::pair<std::string, std::vector<double>>> rows;
  for (std::size_t r = 0; r < m.rows; ++r) {
    const auto first = m.values.begin() + static_cast<std::ptrdiff_t>(r * m.dim);
    std::vector<double> e(first, first + static_cast<std::ptrdiff_t>(m.dim));
    for (std::size_t i = 0; i < e.size(); ++i) {
      if (!std::isfinite(e[i])) {
        throw DataError(
            fmt::format("embeddings {}: /embeddings[{}][{}] = {} is not finite", path, r, i, e[i]));
      }
    }
    rows.emplace_back(std::move(m.texts[r]), std::move(e));
  }
  return rows;
}

std::vector<std::pair<std::string, std::vector<double>>> read_jsonl_rows(const std::string& path,
                                                                         std::istream& in) {
  std::vector<std::pair<std::string, std::vector<double>>> rows;
  std::string line;
  std::size_t dim = 0;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (is_skippable(line)) continue;
    const std::string where = fmt::format("embeddings {} line {}", path, n);
    const json v = parse_line(line, where);
    if (!v.is_object() || !v.contains("text") || !v.contains("embedding") || v.size() != 2) {
      throw DataError(
          fmt::format("{}: each line is {{\"text\": ..., \"embedding\": [...]}}; got {}", where,
                      quote_input(line)));
    }
    std::string text = read_text(v["text"], where, "text");
    std::vector<double> e = read_embedding(v["embedding"], where, "embedding");
    if (dim == 0) dim = e.size();
    if (e.size() != dim) {
      throw DataError(fmt::format("{}: an embedding of {} entries where the first had {}", where,
                                  e.size(), dim));
    }
    rows.emplace_back(std::move(text), std::move(e));
  }
  if (in.bad()) throw Error(ExitCode::io, fmt::format("embeddings {}: read error", path));
  return rows;
}

}  // namespace

EmbeddingTable EmbeddingTable::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ExitCode::no_input, fmt::format("embeddings {}: cannot be read", path));
  // An HDF5 file by its signature (at offset 0, where h5py puts it), else
  // JSON lines.
  char signature[8] = {};
  in.read(signature, sizeof signature);
  const bool hdf5 = in.gcount() == 8 && std::string_view(signature, 8) == "\x89HDF\r\n\x1a\n";
  in.clear();
  in.seekg(0);
  auto rows = hdf5 ? read_hdf5_rows(path) : read_jsonl_rows(path, in);
  if (rows.empty()) throw DataError(fmt::format("embeddings {}: no embedding in the file", path));
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rows[a].first < rows[b].first; });
  EmbeddingTable t;
  t.dim_ = rows[0].second.size();
  for (const auto k : order) {
    if (rows[k].first.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
      throw DataError(fmt::format("embeddings {}: an empty text (row {})", path, k));
    }
    if (!t.texts_.empty() && t.texts_.back() == rows[k].first) {
      throw DataError(fmt::format("embeddings {}: the text \"{}\" is listed twice", path,
                                  quote_input(rows[k].first)));
    }
    t.texts_.push_back(std::move(rows[k].first));
    t.rows_.push_back(std::move(rows[k].second));
  }
  return t;
}

const std::vector<double>* EmbeddingTable::find(std::string_view text) const {
  const auto it = std::lower_bound(texts_.begin(), texts_.end(), text);
  if (it == texts_.end() || *it != text) return nullptr;
  return &rows_[static_cast<std::size_t>(it - texts_.begin())];
}

}  // namespace spikeline::ember
