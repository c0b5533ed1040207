# One interface target carrying the project's warning flags; every project target links it.
add_library(rinha_warnings INTERFACE)
target_compile_options(rinha_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wnull-dereference
  -Wimplicit-fallthrough -Wno-missing-field-initializers)
