// Learning rules live here (STDP, reward-modulated STDP, surrogate-gradient
// BPTT; issues 4 and 5). The library exists now so that the dependency order
//   io -> learning -> synapses -> engine
// is fixed from the start.
#pragma once

namespace spikeline::learning {
// The version of the learning-rule plugin interface; bumped when it changes.
int interface_version();
}  // namespace spikeline::learning
