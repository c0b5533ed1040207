#include "common/batch_stream.h"

namespace rinha {

absl::Duration StreamReconnectBackoff(absl::Duration initial, absl::Duration max, int failures) {
  if (failures <= 0) return absl::ZeroDuration();
  absl::Duration delay = initial;
  for (int i = 1; i < failures && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

}  // namespace rinha
