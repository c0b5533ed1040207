#include "router/router_config.h"

#include "common/log.h"

namespace rinha::router {

int RunPlaceholder() {
  RINHA_LOG_ERROR("%s", kNotImplemented);
  return 2;
}

}  // namespace rinha::router
