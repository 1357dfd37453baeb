// Embeddings and corpus statistics in HDF5 (io/embedding_file.hpp), written
// by h5py as a user would.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/io/embedding_file.hpp"

using namespace spikeline;
using Catch::Matchers::Contains;
using io::test::TempDir;

TEST_CASE("embedding file: an h5py matrix and its statistics", "[embedding_file]") {
  TempDir dir;
  const std::string path = dir.file("emb.h5");
  // float32, as embedding models write them: 3 embeddings of 2.
  REQUIRE(io::test::run_python(dir, R"(
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f["embeddings"] = np.array([[1, 10], [3, 10], [5, 40]], dtype=np.float32)
)",
                               path) == 0);
  const io::EmbeddingMatrix m = io::read_embeddings(path);
  CHECK(m.rows == 3);
  CHECK(m.dim == 2);
  CHECK(m.values == std::vector<double>{1, 10, 3, 10, 5, 40});
  const encoding::CorpusStats s = io::read_corpus_stats(path);
  CHECK(s.mean == std::vector<double>{3, 20});
  CHECK(s.sd[1] == Approx(std::sqrt(200.0)).epsilon(1e-14));

  // Saved and read back bit for bit.
  const std::string saved = dir.file("stats.h5");
  io::write_corpus_stats(saved, s);
  const encoding::CorpusStats t = io::read_corpus_stats(saved);
  CHECK(t.mean == s.mean);
  CHECK(t.sd == s.sd);
}

TEST_CASE("embedding file: bad files name the file and what is wrong", "[embedding_file]") {
  TempDir dir;
  REQUIRE_THROWS_WITH(io::read_embeddings(dir.file("missing.h5")),
                      Contains("missing.h5: cannot open: No such file or directory"));
  const std::string path = dir.file("bad.h5");
  auto write = [&](const std::string& body) {
    REQUIRE(io::test::run_python(dir,
                                 "import sys, h5py, numpy as np\n"
                                 "with h5py.File(sys.argv[1], 'w') as f:\n" +
                                     body + "\n",
                                 path) == 0);
  };
  write("    f['other'] = np.zeros(3)");
  REQUIRE_THROWS_WITH(io::read_corpus_stats(path), Contains("bad.h5: no dataset /embeddings"));
  write("    f['embeddings'] = np.zeros(3)");
  REQUIRE_THROWS_WITH(io::read_embeddings(path),
                      Contains("bad.h5: /embeddings has 1 dimensions, expected 2"));
  write("    f['embeddings'] = np.array([['a', 'b'], ['c', 'd']], dtype='S1')");
  REQUIRE_THROWS_WITH(io::read_embeddings(path),
                      Contains("bad.h5: /embeddings is stored as string, not as numbers"));
  write("    f['embeddings'] = np.array([[1.0, 2.0], [1.0, 3.0]])");
  REQUIRE_THROWS_AS(io::read_corpus_stats(path), DataError);
  REQUIRE_THROWS_WITH(io::read_corpus_stats(path),
                      Contains("bad.h5: /embeddings: corpus statistics: dimension 0 is constant"));
  write("    f['mean'] = np.zeros(2)\n    f['sd'] = np.array([1.0, -1.0])");
  REQUIRE_THROWS_WITH(io::read_corpus_stats(path),
                      Contains("bad.h5: /mean and /sd: encoder.corpus: sd[1] = -1 is invalid"));
  write("    f['mean'] = np.zeros(2)");
  REQUIRE_THROWS_WITH(io::read_corpus_stats(path), Contains("bad.h5: no dataset /sd"));
  REQUIRE_THROWS_WITH(
      io::write_corpus_stats(dir.file("no/such/dir.h5"), encoding::CorpusStats{{0.0}, {1.0}}),
      Contains("dir.h5: cannot create"));
}
