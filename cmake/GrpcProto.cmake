# rinha_grpc_proto_library(NAME <target> PROTO_DIR <dir> PROTOS <stem>...)
#
# A static library of the protobuf messages and gRPC stubs generated from <dir>/<stem>.proto for
# each stem (protoc with Debian's grpc_cpp_plugin), its generated headers on the include path:
# consumers include "<stem>.pb.h" and "<stem>.grpc.pb.h". The outputs go to the calling
# directory's build folder.
function(rinha_grpc_proto_library)
  cmake_parse_arguments(ARG "" "NAME;PROTO_DIR" "PROTOS" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR})
  get_target_property(grpc_plugin gRPC::grpc_cpp_plugin LOCATION)
  set(srcs)
  foreach(stem ${ARG_PROTOS})
    set(proto ${ARG_PROTO_DIR}/${stem}.proto)
    add_custom_command(
      OUTPUT ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.grpc.pb.cc ${out_dir}/${stem}.pb.h
             ${out_dir}/${stem}.grpc.pb.h
      COMMAND protobuf::protoc
      ARGS --proto_path=${ARG_PROTO_DIR}
           --cpp_out=${out_dir}
           --grpc_out=${out_dir}
           --plugin=protoc-gen-grpc=${grpc_plugin}
           ${proto}
      DEPENDS ${proto}
      COMMENT "Generating C++ from ${stem}.proto")
    list(APPEND srcs ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.grpc.pb.cc)
  endforeach()
  add_library(${ARG_NAME} ${srcs})
  target_include_directories(${ARG_NAME} PUBLIC ${out_dir})
  target_link_libraries(${ARG_NAME} PUBLIC protobuf::libprotobuf gRPC::grpc++)
endfunction()
