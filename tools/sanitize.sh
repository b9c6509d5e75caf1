#!/usr/bin/env bash
# Builds GoogleTest binaries with AddressSanitizer + UndefinedBehaviorSanitizer in their own build folder and runs
# them (issue 14; results recorded in docs/trust-inputs.md).
#   tools/sanitize.sh [--build-dir DIR] [--jobs N] [TARGET...]
# TARGET: GoogleTest targets (their CTest tests have the same names). Default: the libtorch-free unit tests of text,
# benchmarks and results (loom_text_tests benchmarks_unit_tests test_result_store), which build in minutes;
# `all` builds and runs every unit test (libtorch-linked ones too: much slower, and libtorch itself is not
# instrumented). Exit status: non-zero when a build fails or a sanitizer or test reports an error.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build="$repo/build-sanitize"
jobs=2
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -eq 0 ]] && targets=(loom_text_tests benchmarks_unit_tests test_result_store)

flags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
mkdir -p "$build"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOOM_CUDA=OFF -DLOOM_BUILD_BENCH=OFF \
  "-DCMAKE_CXX_FLAGS=$flags" "-DCMAKE_C_FLAGS=$flags" \
  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" "-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined" \
  "${launcher[@]}" >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }

if [[ "${targets[*]}" == "all" ]]; then
  cmake --build "$build" -j "$jobs"
  regex=""
else
  cmake --build "$build" -j "$jobs" --target "${targets[@]}"
  regex="^($(IFS='|'; echo "${targets[*]}"))\$"
fi

# halt_on_error: the first report fails the test; leaks are reported too.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The SentencePiece shim is dlopen'ed with RTLD_DEEPBIND, which the ASan runtime refuses
# (github.com/google/sanitizers/issues/611): the tests that load it are left out here.
export GTEST_FILTER="-*SentencePiece*:*sentencepiece*:TokenizerErrors.CorruptSentencePieceModel"
if [[ -n "$regex" ]]; then
  ctest --test-dir "$build" -R "$regex" --output-on-failure
else
  ctest --test-dir "$build" -L unit --output-on-failure
fi
