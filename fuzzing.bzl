"""fuzz_target: a libFuzzer target and its smoke test.

`<name>` is the libFuzzer binary (tagged manual: built by scripts/fuzz.sh
with --config=fuzz, clang and sanitizers); `<name>_smoke` runs the same
target under util/fuzz_smoke_main.cc in every `bazel test`.
"""

def fuzz_target(name, srcs, deps, seeds = None):
    data = [seeds] if seeds else []
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps,
        tags = ["manual"],
    )
    native.cc_test(
        name = name + "_smoke",
        srcs = srcs,
        deps = deps + ["//util:fuzz_smoke_main"],
        data = data,
        args = ["$(locations %s)" % seeds] if seeds else [],
    )
