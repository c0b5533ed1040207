#include "common/grpc_channel.h"

#include <string_view>

namespace rinha {

void AddNetworkKeepalive(const std::string& target, grpc::ChannelArguments* args) {
  if (std::string_view(target).substr(0, 5) == "unix:") return;
  args->SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kNetworkKeepaliveMs);
  args->SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kNetworkKeepaliveMs);
  args->SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args->SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
}

}  // namespace rinha
