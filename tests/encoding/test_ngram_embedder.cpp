// The built-in n-gram embedder (encoding/ngram_embedder.hpp).
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "spikeline/encoding/ngram_embedder.hpp"
#include "spikeline/encoding/retention.hpp"
#include "spikeline/engine/error.hpp"

using namespace spikeline::encoding;
using Catch::Matchers::Contains;

TEST_CASE("embedder: identical texts give identical unit vectors", "[encoding]") {
  const NgramEmbedder e({});
  const auto a = e.embed("The cat sat on the mat.");
  REQUIRE(a.size() == 384);
  CHECK(e.embed("The cat sat on the mat.") == a);
  // Case and runs of whitespace do not count.
  CHECK(e.embed("  the CAT sat\ton the\n\nmat. ") == a);
  double ss = 0;
  for (double x : a) ss += x * x;
  CHECK(ss == Approx(1.0).epsilon(1e-14));
  // The seed is a different hashing: another vector.
  CHECK(NgramEmbedder({.seed = 1}).embed("The cat sat on the mat.") != a);
  CHECK(NgramEmbedder({.dim = 64}).embed("x").size() == 64);
}

TEST_CASE("embedder: a paraphrase is closer than an unrelated text", "[encoding]") {
  const NgramEmbedder e({});
  const auto base = e.embed("Could you remind me to water the tomato plants tomorrow morning?");
  const auto para = e.embed("Remind me tomorrow morning to water my tomato plants, please.");
  const auto other = e.embed("The quarterly revenue report shows a four percent decline.");
  const double near = cosine(base, para), far = cosine(base, other);
  INFO("paraphrase " << near << ", unrelated " << far);
  CHECK(near > 0.5);
  CHECK(far < 0.2);
  CHECK(near > far + 0.4);
}

TEST_CASE("embedder: bad input and parameters are refused", "[encoding]") {
  const NgramEmbedder e({});
  REQUIRE_THROWS_AS(e.embed(""), spikeline::DataError);
  REQUIRE_THROWS_WITH(e.embed(" \t\n"),
                      Contains("has no character other than whitespace: there is nothing to "
                               "embed"));
  REQUIRE_THROWS_WITH(NgramEmbedder({.dim = 0}),
                      "embedder.dim = 0 is invalid: it must be in [1, 1000000]");
  REQUIRE_THROWS_WITH(NgramEmbedder({.min_n = 0}),
                      "embedder.min_n = 0 is invalid: it must be >= 1");
  REQUIRE_THROWS_WITH(NgramEmbedder({.min_n = 4, .max_n = 3}),
                      "embedder.max_n = 3 is invalid: it must be in [min_n, 32] = [4, 32]");
}
