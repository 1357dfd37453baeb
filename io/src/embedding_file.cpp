#include "spikeline/io/embedding_file.hpp"

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"
#include "spikeline/io/dataset_file.hpp"

namespace spikeline::io {

namespace {

EmbeddingMatrix read_matrix(const DatasetFile& file) {
  std::vector<std::uint64_t> dims;
  EmbeddingMatrix m;
  m.values = file.read_doubles("embeddings", 2, dims);
  m.rows = dims[0];
  m.dim = dims[1];
  if (m.rows == 0 || m.dim == 0) {
    throw DataError(
        fmt::format("{}: /embeddings is {} x {}: it must hold at least one embedding "
                    "of at least one entry",
                    file.path(), m.rows, m.dim));
  }
  return m;
}

}  // namespace

EmbeddingMatrix read_embeddings(const std::string& path) {
  const DatasetFile file(path, DatasetFile::Mode::read);
  EmbeddingMatrix m = read_matrix(file);
  if (file.has("texts")) {
    m.texts = file.read_strings("texts");
    if (m.texts.size() != m.rows) {
      throw DataError(fmt::format("{}: /texts holds {} strings for {} embeddings", path,
                                  m.texts.size(), m.rows));
    }
  }
  return m;
}

encoding::CorpusStats read_corpus_stats(const std::string& path) {
  const DatasetFile file(path, DatasetFile::Mode::read);
  if (!file.has("mean") && !file.has("sd")) {
    const EmbeddingMatrix m = read_matrix(file);
    try {
      return encoding::CorpusStats::from_embeddings(m.values, m.dim);
    } catch (const Error& e) {
      throw DataError(fmt::format("{}: /embeddings: {}", path, e.what()));
    }
  }
  // Both or neither: one alone is a file cut short, not a matrix to use.
  std::vector<std::uint64_t> dims;
  encoding::CorpusStats stats;
  stats.mean = file.read_doubles("mean", 1, dims);
  stats.sd = file.read_doubles("sd", 1, dims);
  try {
    stats.validate();
  } catch (const Error& e) {
    throw DataError(fmt::format("{}: /mean and /sd: {}", path, e.what()));
  }
  return stats;
}

void write_corpus_stats(const std::string& path, const encoding::CorpusStats& stats) {
  stats.validate();
  DatasetFile file(path, DatasetFile::Mode::create);
  file.write("mean", stats.mean);
  file.write("sd", stats.sd);
  file.close();
}

}  // namespace spikeline::io
