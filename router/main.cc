#include "router/router_config.h"

int main() { return rinha::router::RunPlaceholder(); }
