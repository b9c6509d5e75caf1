# Every third-party dependency is found here, once.
# Builds against PyTorch's CUDA wheel (tools/gpu_session/build_here.sh, or a cluster's PyTorch install) work the
# same way: -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)'), an MPI found by
# FindMPI (MPI_HOME or mpicc on PATH), CUDA's nvcc; see docs/gpu.md.
find_package(Threads REQUIRED)
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(Torch REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS serialization)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # SHA-256 of the run identity (src/scheduler/run_identity)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
# HTTP: libcurl (the API backend's client) and cpp-httplib (`loom_mpi serve`; Debian ships it compiled, with OpenSSL).
find_package(CURL REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
if(LOOM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# yaml-cpp 0.7 (Debian) exports "yaml-cpp", 0.8 exports "yaml-cpp::yaml-cpp".
if(TARGET yaml-cpp::yaml-cpp)
  set(LOOM_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(LOOM_YAML_TARGET yaml-cpp)
endif()

# Torch as an imported interface target, so modules can link "loom::torch".
add_library(loom_torch INTERFACE)
target_link_libraries(loom_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(loom_torch INTERFACE ${TORCH_INCLUDE_DIRS})
add_library(loom::torch ALIAS loom_torch)

# PyTorch's wheel ships fmt headers (fmt 12 for torch 2.11) in its include directory. spdlog is built against the
# fmt that find_package(fmt) found, and both must see one fmt: a directory holding only a link to that fmt's headers
# goes ahead of torch's include directories, so <fmt/...> always means the fmt the libraries were built with.
get_target_property(_loom_fmt_includes fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
if(NOT _loom_fmt_includes)
  set(_loom_fmt_includes /usr/include)
endif()
set(_loom_fmt_dir "")
foreach(_dir IN LISTS _loom_fmt_includes)
  if(EXISTS ${_dir}/fmt/format.h AND _loom_fmt_dir STREQUAL "")
    set(_loom_fmt_dir ${_dir})
  endif()
endforeach()
foreach(_dir IN LISTS TORCH_INCLUDE_DIRS)
  if(EXISTS ${_dir}/fmt/format.h AND _loom_fmt_dir AND NOT _dir STREQUAL _loom_fmt_dir)
    set(_loom_fmt_override ${CMAKE_BINARY_DIR}/fmt_override)
    file(MAKE_DIRECTORY ${_loom_fmt_override})
    file(CREATE_LINK ${_loom_fmt_dir}/fmt ${_loom_fmt_override}/fmt SYMBOLIC)
    target_include_directories(loom_torch BEFORE INTERFACE ${_loom_fmt_override})
    include_directories(BEFORE ${_loom_fmt_override})
    message(STATUS "loom_mpi: libtorch's bundled fmt (${_dir}/fmt) is shadowed by fmt ${fmt_VERSION} from ${_loom_fmt_dir}")
    break()
  endif()
endforeach()

# CUDA and NCCL are optional: AUTO builds them when nvcc and libtorch-with-CUDA are both present.
set(LOOM_WITH_CUDA OFF)
set(LOOM_TORCH_CUDA OFF)
if(NOT LOOM_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  set(_torch_has_cuda OFF)
  if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES OR CUDA_FOUND)
    set(_torch_has_cuda ON)
  endif()
  if(CMAKE_CUDA_COMPILER)
    if(NOT CMAKE_CUDA_ARCHITECTURES)
      if(_torch_has_cuda)
        set(CMAKE_CUDA_ARCHITECTURES 80 90)  # A100 / H100 / H200 (and H20)
      else()
        # Nothing calls the kernels without libtorch CUDA: they are compiled only so that a compile break fails the
        # build (CI's included). One architecture covers every code path (the only arch guard is >= 800).
        set(CMAKE_CUDA_ARCHITECTURES 80)
      endif()
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    # NCCL_HOME: an NCCL install or the nvidia-nccl wheel's nvidia/nccl folder.
    find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${NCCL_HOME}/include ${CUDAToolkit_INCLUDE_DIRS} /usr/include
              /usr/local/cuda/include)
    find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${NCCL_HOME}/lib ${CUDAToolkit_LIBRARY_DIR}
                 /usr/lib/x86_64-linux-gnu /usr/local/cuda/lib64)
    set(LOOM_WITH_CUDA ON)
  elseif(LOOM_CUDA STREQUAL "ON")
    message(FATAL_ERROR "LOOM_CUDA=ON but no CUDA compiler was found")
  endif()
  if(LOOM_WITH_CUDA AND NOT _torch_has_cuda)
    message(STATUS "loom_mpi: nvcc found but libtorch has no CUDA: CUDA kernels are compiled; libtorch CUDA adapters are off")
  endif()
  set(LOOM_TORCH_CUDA ${_torch_has_cuda})
endif()
message(STATUS "loom_mpi: CUDA kernels ${LOOM_WITH_CUDA}, libtorch CUDA ${LOOM_TORCH_CUDA}, NCCL ${NCCL_LIBRARY}")

# Debian's libtorch loads libprotobuf.so, and libsentencepiece exports the protobuf-lite symbols it embeds. In a
# process that has both, the dynamic linker binds libprotobuf's static initialisers to sentencepiece's copies and
# the process crashes before main(). Linking libprotobuf ahead of libsentencepiece puts its symbols first.
find_library(LOOM_PROTOBUF_LIBRARY NAMES protobuf)
if(LOOM_PROTOBUF_LIBRARY AND TARGET PkgConfig::SENTENCEPIECE)
  get_target_property(_loom_spm_libs PkgConfig::SENTENCEPIECE INTERFACE_LINK_LIBRARIES)
  set_target_properties(PkgConfig::SENTENCEPIECE PROPERTIES
    INTERFACE_LINK_LIBRARIES "-Wl,--push-state,--no-as-needed;${LOOM_PROTOBUF_LIBRARY};-Wl,--pop-state;${_loom_spm_libs}")
endif()
