// A neuromodulator (dopamine): a global concentration that jumps at reward
// pulses and decays exponentially between them,
//
//   dD/dt = -D / tau + sum_k amount_k delta(t - t_k).
//
// The pulses are a schedule: they are added (from a config, a condition
// evaluated between windows, or outside input) for steps the simulation has
// not reached, and read by the plasticity rules of every partition. Because
// pulses are only added between windows and only in the future, every
// partition sees the same concentration at every step, whatever the threads.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "spikeline/engine/state_archive.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

class Neuromodulator {
 public:
  // One pulse and the concentration just after it, in one record so that
  // a plugin's learning rule reads the schedule as it is (plugin ABI 1.4:
  // spk_pulse has this layout; plugin/src/plugin_rule.cpp checks it).
  struct Pulse {
    Step step;
    double amount;
    double level_after;  // D just after the pulse (pulses at the same step summed)
  };

  // tau in ms (> 0), dt in ms; `name` for messages.
  Neuromodulator(std::string name, double tau_ms, double dt_ms);

  const std::string& name() const { return name_; }
  double tau() const { return tau_; }
  double dt() const { return dt_; }

  // Schedules a pulse, in any order (kept sorted by step). Only pulses the
  // simulation has not reached may be added: Simulator::add_reward checks.
  void add(Step step, double amount);

  // The concentration at step t, pulses at steps <= t included.
  double at(Step t) const;

  // The pulses, in step order.
  const std::vector<Pulse>& pulses() const { return pulses_; }
  // The concentration just after pulse n (pulses at the same step summed).
  double level_after(std::size_t n) const { return pulses_[n].level_after; }
  // Index of the first pulse with step > t.
  std::size_t first_after(Step t) const;

  // Saves or restores the schedule (see state_archive.hpp).
  void checkpoint(StateArchive& a);

 private:
  std::string name_;
  double tau_;
  double dt_;
  // In step order; level_after is the running sum, so at() needs no loop.
  std::vector<Pulse> pulses_;
};

}  // namespace spikeline
