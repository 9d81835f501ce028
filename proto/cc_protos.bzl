"""C++ code for .proto files, generated with Debian's protoc and grpc_cpp_plugin."""

def cc_protos(name, protos, services):
    """A cc_library `name` of the generated code of `protos`.

    Args:
      name: the library.
      protos: paths under proto/ without ".proto"; import paths are rooted at
        proto/ (Trillian's own layout).
      services: those of `protos` that define gRPC services.
    """
    plain = [p for p in protos if p not in services]
    plain_cmd = ""
    if plain:
        plain_cmd = (" && /usr/bin/protoc -Iproto -I/usr/include --cpp_out=$(GENDIR)/proto " +
                     " ".join(["proto/%s.proto" % p for p in plain]))
    native.genrule(
        name = name + "_gen",
        srcs = [p + ".proto" for p in protos],
        outs = [p + ".pb.h" for p in protos] + [p + ".pb.cc" for p in protos] +
               [s + ".grpc.pb.h" for s in services] +
               [s + ".grpc.pb.cc" for s in services],
        cmd = "/usr/bin/protoc -Iproto -I/usr/include " +
              "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin " +
              "--cpp_out=$(GENDIR)/proto --grpc_out=$(GENDIR)/proto " +
              " ".join(["proto/%s.proto" % s for s in services]) + plain_cmd,
    )
    native.cc_library(
        name = name,
        srcs = [p + ".pb.cc" for p in protos] + [s + ".grpc.pb.cc" for s in services],
        hdrs = [p + ".pb.h" for p in protos] + [s + ".grpc.pb.h" for s in services],
        copts = ["-Wno-unused-parameter"],
        includes = ["."],
        deps = ["@system//:grpc"],
    )
