#!/bin/sh
# How llama.cpp (llama-cpp-python) is compiled: the one place scripts/setup.sh and the
# Dockerfile read. Prints the CMake arguments for a target:
#
#   scripts/llama-cpp-build.sh native    # this machine's instructions, AMX excepted
#   scripts/llama-cpp-build.sh portable  # any x86-64 with AVX2 (x86-64-v3): the image
#
# Why (docs/measurements.md, "Which llama.cpp build"):
# - llama.cpp's AMX kernels die with SIGILL on Intel AMX CPUs (worker threads never ask Linux
#   for the tile state). GGML_AMX_*=OFF is not enough, because -march=native turns AMX on
#   again; the -mno-amx-* compiler flags leave __AMX_INT8__ undefined, and with it every AMX
#   kernel, whatever -march says. The rest of the CPU's instructions stay in use.
# - A library compiled with -march=native dies on a CPU with fewer instructions, so an image
#   other hosts run is built for a fixed level, the one llama.cpp itself ships without
#   GGML_NATIVE: SSE4.2, AVX, AVX2, BMI2, FMA and F16C, nothing of AVX-512 or AMX.
# - The multimodal library (LLAVA_BUILD) is never loaded by smolsql; leaving it out shortens
#   the compile.
# Arguments the user sets in CMAKE_ARGS (a GPU backend, say) go after these and win.
set -eu
target=${1:-native}
common="-DLLAVA_BUILD=OFF"
case "$(uname -m)" in
  x86_64 | amd64) x86=1 ;;
  *) x86=0 ;;
esac
case "$target" in
  native)
    if [ "$x86" = 1 ]; then
      no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
      echo "-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx' $common"
    else
      echo "-DGGML_NATIVE=ON $common"
    fi
    ;;
  portable)
    if [ "$x86" = 1 ]; then
      levels="-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
      none="-DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
      echo "-DGGML_NATIVE=OFF $levels $none $common"
    else
      echo "-DGGML_NATIVE=OFF $common"
    fi
    ;;
  *)
    echo "usage: $0 native|portable" >&2
    exit 2
    ;;
esac
