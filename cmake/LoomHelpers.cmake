# Small helpers so each module's CMakeLists.txt stays a few lines.
#
# loom_add_library(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
#   A static library rooted at src/ for includes ("#include \"common/error.h\"").
#   Every library is also recorded in the global property LOOM_LIBRARIES, which the loom_mpi
#   executable links.
# loom_add_gtest(<name> SOURCES ... [DEPS ...] [LABELS ...])
#   A GoogleTest binary registered with CTest (gtest_discover_tests is avoided: one CTest entry per binary).
# loom_add_mpi_test(<name> NP <n> COMMAND <exe> [args...] [LABELS ...] [TIMEOUT s])
#   Registers "mpirun -np <n> --oversubscribe <exe> args" with CTest (root-safe environment set).

set(LOOM_SRC_DIR ${CMAKE_SOURCE_DIR}/src)

function(loom_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${LOOM_SRC_DIR} ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
  set_property(GLOBAL APPEND PROPERTY LOOM_LIBRARIES ${name})
endfunction()

function(loom_add_gtest name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    LOOM_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    LOOM_TOKENIZER_FIXTURES="${LOOM_TOKENIZER_FIXTURES}"
    LOOM_BINARY_DIR="${CMAKE_BINARY_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "unit;${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endfunction()

function(loom_add_mpi_test name)
  cmake_parse_arguments(ARG "" "NP;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_test(NAME ${name}
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ARG_NP} --oversubscribe ${MPIEXEC_PREFLAGS}
            ${ARG_COMMAND} ${MPIEXEC_POSTFLAGS})
  set_tests_properties(${name} PROPERTIES LABELS "mpi;${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1")
endfunction()

# Optional: a folder of large real-model tokenizers (llama3_1/, qwen3/, ... each with tokenizer.json and
# tokenizer_config.json) for the tokenizer parity tests. Empty (the default): those tests are skipped; everything
# else the tests need is in the repository (tests/fixtures, data/, models/).
set(LOOM_TOKENIZER_FIXTURES "" CACHE PATH "folder of real-model tokenizer fixtures (optional)")
