#include "spikeline/learning/learning.hpp"

namespace spikeline::learning {
int interface_version() {
  return 0;
}
}  // namespace spikeline::learning
