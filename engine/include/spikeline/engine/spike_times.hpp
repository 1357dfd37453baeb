// Spike times as a config gives them, on the step grid: what spike_generator
// emits and what a [[clamp]] imposes. Here, not in a model, because the
// config loader (io) reads clamps without knowing any concrete model.
//
// `spike_times` is one list of times used by every neuron, or a list of
// lists, one per neuron (its length must then equal `size`);
// `spike_times_file` instead names a text file with one spike per line,
// "node_id time_ms" (0-based node_id; blank lines and text after '#' are
// ignored). Every time must be finite, on the grid (never rounded) and at
// least dt; a neuron's times must be sorted non-decreasingly.
// Errors in the list are ConfigErrors naming the element
// ("spike_times[2][0]"); errors in the file are DataErrors naming file and
// line; a file that cannot be opened is an error with exit code no_input.
#pragma once

#include <cstddef>
#include <vector>

#include "spikeline/engine/params.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

// One list of steps per neuron, or a single list shared by all neurons.
std::vector<std::vector<Step>> read_spike_times(const ParamMap& p, const TimeGrid& grid,
                                                std::size_t size);

}  // namespace spikeline
