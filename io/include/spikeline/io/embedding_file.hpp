// Embeddings and the encoder's corpus statistics in HDF5 files, for EMBER's
// input encoder (encoding/population_code.hpp; docs/ember.md):
//
//   /embeddings  float64 (or any number) [n][d]: n embeddings of d entries
//   /texts       strings [n] (optional): the text each embedding is of
//   /mean, /sd   float64 [d]: the corpus statistics themselves
//
// A file as h5py writes it: f["embeddings"] = matrix. The encoding library
// computes and validates; this is only the door to the file, so that
// encoding/ stays free of I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spikeline/encoding/population_code.hpp"

namespace spikeline::io {

struct EmbeddingMatrix {
  std::size_t rows = 0;
  std::size_t dim = 0;
  std::vector<double> values;      // row-major, rows * dim
  std::vector<std::string> texts;  // /texts, one per row, when the file has them
};

// /embeddings of `path`, and /texts when present. Errors name the file:
// Error(no_input) if it cannot be opened, DataError if the dataset is
// missing, not two-dimensional, not numbers, or empty, or /texts is not
// one string per row.
EmbeddingMatrix read_embeddings(const std::string& path);

// The corpus statistics of `path`: /mean and /sd when the file has them,
// else computed from /embeddings (encoding::CorpusStats::from_embeddings).
// DataError naming the file for anything invalid (sizes that differ, a
// non-finite mean, an sd <= 0, a constant dimension).
encoding::CorpusStats read_corpus_stats(const std::string& path);

// Writes /mean and /sd to a new file `path` (replacing one of that name).
void write_corpus_stats(const std::string& path, const encoding::CorpusStats& stats);

}  // namespace spikeline::io
