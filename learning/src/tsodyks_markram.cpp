#include "spikeline/learning/tsodyks_markram.hpp"

#include <iterator>

namespace spikeline::learning {

namespace {
using Setup = plugin::RuleSetup<TsodyksMarkram>;
using C = TsodyksMarkram::Constants;

// Where the two tables sit in the rule's table (facil: none without
// facilitation); their total length.
std::uint32_t place_tables(const Setup& s, C& c) {
  std::uint32_t offset = 0;
  c.rec = place_decay(offset, s.dt(), s.param(TsodyksMarkram::tau_rec));
  c.facil = DecayTable{offset, 0, s.dt(), 1.0};
  if (s.param(TsodyksMarkram::tau_facil) > 0)
    c.facil = place_decay(offset, s.dt(), s.param(TsodyksMarkram::tau_facil));
  return offset;
}
}  // namespace

std::size_t TsodyksMarkram::table_size(const Setup& s) {
  C c{};
  return place_tables(s, c);
}

void TsodyksMarkram::prepare(Setup& s) {
  C& c = s.constants();
  c.U = s.param(U);
  c.facilitation = s.param(tau_facil) > 0;
  place_tables(s, c);
  fill_decay(s.table(), c.rec);
  if (c.facilitation) fill_decay(s.table(), c.facil);
}

std::span<const char* const> TsodyksMarkram::recorded(const Setup&) {
  return {kRecorded, std::size(kRecorded)};
}

void TsodyksMarkram::on_pre(plugin::Pre<TsodyksMarkram>& e) {
  const C& c = e.constants();
  const std::uint32_t g = e.group();
  const double scale = short_term_arrival(e.table(), c.rec, c.facil, c.facilitation, c.U,
                                          e.pre(u, g), e.pre(x, g), e.pre(arrival, g), e.step());
  // The stored weight (a float, kept as a double) times u x, as a float.
  for (std::uint32_t k = e.begin(); k < e.end(); ++k)
    e.delivered(k) = static_cast<float>(e.weight(k) * scale);
}

double TsodyksMarkram::value(const plugin::Value<TsodyksMarkram>& v, std::uint32_t var,
                             std::uint32_t k) {
  if (var == 0) return v.weight(k);
  // u and x of the group's latest arrival (at rest before any).
  const std::uint32_t g = v.group_of(k);
  const bool rest = v.pre(arrival, g) < 0;
  if (var == 1) return rest ? v.constants().U : v.pre(u, g);
  return rest ? 1.0 : v.pre(x, g);
}

}  // namespace spikeline::learning
