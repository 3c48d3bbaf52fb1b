# llama.cpp, built once by scripts/build-llama into a prefix outside the clone
# (static libllama + ggml, Release, CPU only) and imported here as the target
# `savoir_llama`. The sanitizer and fuzz builds link the same release
# libraries (they are not instrumented; our code around them is).
if(DEFINED ENV{SAVOIR_CACHE} AND NOT "$ENV{SAVOIR_CACHE}" STREQUAL "")
  set(_savoir_cache "$ENV{SAVOIR_CACHE}")
else()
  set(_savoir_cache "$ENV{HOME}/.cache/savoir")
endif()
set(SAVOIR_LLAMA_PREFIX "${_savoir_cache}/llama-de3ff815" CACHE PATH
    "Prefix installed by scripts/build-llama (llama.cpp headers, static libraries, llama-server)")

set(_llama_libs llama ggml ggml-cpu ggml-base)
foreach(f include/llama.h STAMP share/link-deps lib/libllama.a lib/libggml.a lib/libggml-cpu.a lib/libggml-base.a)
  if(NOT EXISTS "${SAVOIR_LLAMA_PREFIX}/${f}")
    message(FATAL_ERROR "llama.cpp is not built: ${SAVOIR_LLAMA_PREFIX}/${f} is missing. "
      "Run scripts/build-llama (or `make build`, which runs it), or point "
      "-DSAVOIR_LLAMA_PREFIX at its prefix.")
  endif()
endforeach()

add_library(savoir_llama INTERFACE)
target_include_directories(savoir_llama SYSTEM INTERFACE "${SAVOIR_LLAMA_PREFIX}/include")
set(_llama_link "")
foreach(l ${_llama_libs})
  list(APPEND _llama_link "${SAVOIR_LLAMA_PREFIX}/lib/lib${l}.a")
endforeach()
# ggml-cpu was compiled by GCC with OpenMP: it needs libgomp whatever the
# compiler of this build (clang's -fopenmp would pick libomp instead).
file(READ "${SAVOIR_LLAMA_PREFIX}/share/link-deps" _llama_deps)
if(_llama_deps MATCHES "openmp")
  execute_process(COMMAND gcc -print-file-name=libgomp.so OUTPUT_VARIABLE _gomp
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT EXISTS "${_gomp}")
    message(FATAL_ERROR "llama.cpp was built with OpenMP but libgomp.so was not found (gcc -print-file-name)")
  endif()
  list(APPEND _llama_link "${_gomp}")
endif()
target_link_libraries(savoir_llama INTERFACE ${_llama_link} Threads::Threads ${CMAKE_DL_LIBS} m)
# For tests and benches: where llama-server, llama-embedding, gguf-py and the
# vocabularies are.
set(SAVOIR_LLAMA_BIN "${SAVOIR_LLAMA_PREFIX}/bin")
