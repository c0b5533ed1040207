#include "edge/edge_config.h"

int main() { return rinha::edge::RunPlaceholder(); }
