// Discrimination retention of the EMBER population codes on the spec's
// standard synthetic set (C = 40, P = 8, paraphrase noise 1.5) at
// d = 64, 384, 768, 1536, several seeds: the plain code of the spec
// (k = min(64, d / 8), m = 8, upper tail, one spike per neuron), the
// improved one (k = 64 at every d, m = 8, both tails, graded counts), and the
// improved one with k = min(128, d). Writes OUT/ember_retention.json and .md.
//
//   ember_retention [--seeds 1 2 3 4 5] [--out bench/results]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "spikeline/encoding/population_code.hpp"
#include "spikeline/encoding/retention.hpp"

using namespace spikeline::encoding;

namespace {

struct Code {
  std::string name;
  std::string what;
  PopulationCodeParams (*params)(std::size_t d);
};

const Code kCodes[] = {
    {"plain", "plain: upper tail, k = min(64, d/8), m = 8, 1 spike",
     [](std::size_t d) {
       auto p = PopulationCodeParams::plain();
       p.k = std::min<std::size_t>(64, d / 8);
       return p;
     }},
    {"improved", "improved: both tails, graded (4 spikes per unit |z|, at most 16), k = 64, m = 8",
     [](std::size_t) { return PopulationCodeParams::improved(); }},
    {"improved_k128", "improved, k = min(128, d)",
     [](std::size_t d) {
       auto p = PopulationCodeParams::improved();
       p.k = std::min<std::size_t>(128, d);
       return p;
     }},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::uint64_t> seeds;
  std::string out = "bench/results";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else if (a == "--seeds") {
      while (i + 1 < argc && argv[i + 1][0] != '-') seeds.push_back(std::stoull(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: ember_retention [--seeds S...] [--out DIR]\n");
      return 64;
    }
  }
  if (seeds.empty()) seeds = {1, 2, 3, 4, 5};
  const std::size_t dims[] = {64, 384, 768, 1536};

  std::string json = "{\n  \"set\": {\"concepts\": 40, \"paraphrases\": 8, \"noise\": 1.5},\n";
  json += "  \"seeds\": [";
  for (std::size_t s = 0; s < seeds.size(); ++s)
    json += fmt::format("{}{}", s ? ", " : "", seeds[s]);
  json += "],\n  \"results\": [\n";
  std::string md =
      "# EMBER encoder: discrimination retention\n\n"
      "`bench/ember_retention.cpp` (build target `ember_retention`). The spec's standard "
      "synthetic set (40 concepts x 8 paraphrases, centres N(0, I_d), paraphrase = centre + 1.5 "
      "N(0, I_d)), z over each vector's own entries, sensory layer 50,000. Retention = "
      "(AUC_spikes - 0.5) / (AUC_embeddings - 0.5); AUC over all 1,120 within- and 49,920 "
      "between-concept pairs; weighted Jaccard of spike counts on the volleys, cosine on the "
      "embeddings.\n\n";
  md += fmt::format("Seeds: {}. Mean (min - max) over seeds.\n\n", fmt::join(seeds, ", "));
  md += "| code | d | k | driven neurons | AUC embeddings | AUC spikes | retention |\n";
  md += "|---|---|---|---|---|---|---|\n";
  bool first = true;
  double worst_improved = 1e9;
  for (const auto& code : kCodes) {
    for (std::size_t d : dims) {
      std::vector<Retention> rs;
      PopulationCodeParams params = code.params(d);
      for (std::uint64_t seed : seeds) {
        const LabelledSet set = synthetic_set(d, seed);
        params.seed = seed;
        rs.push_back(retention(set, PopulationCode(params)));
      }
      auto stat = [&](double Retention::*f) {
        double lo = 1e9, hi = -1e9, sum = 0;
        for (const auto& r : rs) {
          lo = std::min(lo, r.*f);
          hi = std::max(hi, r.*f);
          sum += r.*f;
        }
        return std::array<double, 3>{sum / static_cast<double>(rs.size()), lo, hi};
      };
      const auto ae = stat(&Retention::auc_embeddings), as = stat(&Retention::auc_spikes),
                 rt = stat(&Retention::retention);
      if (code.name == "improved") worst_improved = std::min(worst_improved, rt[1]);
      json += fmt::format("{}    {{\"code\": \"{}\", \"d\": {}, \"k\": {}, \"m\": {}, ",
                          first ? "" : ",\n", code.name, d, params.k, params.neurons_per_dim);
      first = false;
      json += "\"retention\": [";
      for (std::size_t s = 0; s < rs.size(); ++s) {
        json += fmt::format("{}{:.4f}", s ? ", " : "", rs[s].retention);
      }
      json += "], \"auc_embeddings\": [";
      for (std::size_t s = 0; s < rs.size(); ++s) {
        json += fmt::format("{}{:.5f}", s ? ", " : "", rs[s].auc_embeddings);
      }
      json += "], \"auc_spikes\": [";
      for (std::size_t s = 0; s < rs.size(); ++s) {
        json += fmt::format("{}{:.5f}", s ? ", " : "", rs[s].auc_spikes);
      }
      json += "]}";
      md += fmt::format("| {} | {} | {} | {} | {:.4f} | {:.4f} | **{:.3f}** ({:.3f} - {:.3f}) |\n",
                        code.what, d, params.k, params.k * params.neurons_per_dim, ae[0], as[0],
                        rt[0], rt[1], rt[2]);
      std::printf("%-14s d=%-5zu k=%-4zu retention mean %.3f min %.3f max %.3f\n",
                  code.name.c_str(), d, params.k, rt[0], rt[1], rt[2]);
    }
  }
  json += fmt::format("\n  ],\n  \"improved_min_retention\": {:.4f},\n  \"bar\": 0.9,\n",
                      worst_improved);
  json += fmt::format("  \"bar_met\": {}\n}}\n", worst_improved >= 0.9 ? "true" : "false");
  md += fmt::format(
      "\nThe issue's bar, retention >= 0.9 at every d for the improved code (k = 64): lowest "
      "over d and seeds {:.3f}, {}. The paper reports 0.822 across dimensionalities; the spec "
      "measured about 0.50 (d = 64) and 0.90-0.95 (d >= 384) for the plain code.\n",
      worst_improved, worst_improved >= 0.9 ? "met" : "NOT met");
  std::ofstream(out + "/ember_retention.json") << json;
  std::ofstream(out + "/ember_retention.md") << md;
  return 0;
}
