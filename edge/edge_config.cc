#include "edge/edge_config.h"

#include "common/log.h"

namespace rinha::edge {

int RunPlaceholder() {
  RINHA_LOG_ERROR("%s", kNotImplemented);
  return 2;
}

}  // namespace rinha::edge
