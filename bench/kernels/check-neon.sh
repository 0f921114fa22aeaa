#!/usr/bin/env bash
# Cross-builds the forecast kernels (scalar + NEON) and their unit tests for
# arm64 and runs them under qemu-user: the NEON kernel is held to the scalar
# reference there as AVX2/AVX-512 are on x86-64.
#   bench/kernels/check-neon.sh [build-dir]      (default: build-neon)
# Needs: apt-get install g++-aarch64-linux-gnu qemu-user (Debian), plus the
# header-only libeigen3-dev and catch2 already used by the x86 build.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/build-neon}"
mkdir -p "$out/include"
ln -sfn /usr/include/catch2 "$out/include/catch2"   # header-only; keep x86 /usr/include out of the path
cxx="${CXX_AARCH64:-aarch64-linux-gnu-g++}"
flags=(-std=c++20 -O2 -Wall -Wextra -Wno-unused-parameter -ffp-contract=off
       -I"$root/forecast/include" -I"$root/common/include" -I"$root/forecast/src/kernels"
       -I"$root/tests" -isystem /usr/include/eigen3 -isystem "$out/include"
       -DPRESCALE_SOURCE_DIR=\""$root"\" -DPRESCALE_BINARY_DIR=\""$out"\")
sources=("$root"/forecast/src/{model,decomposition,optimizer,holt_winters}.cpp
         "$root"/forecast/src/kernels/{dispatch,kernel_scalar,kernel_neon}.cpp
         "$root"/tests/forecast/{kernel,holt_winters,decomposition,optimizer}_test.cpp
         "$root"/tests/test_main.cpp)
objects=()
for src in "${sources[@]}"; do
  obj="$out/$(basename "${src%.cpp}").o"
  "$cxx" "${flags[@]}" -DPRESCALE_KERNEL_NEON -c "$src" -o "$obj" &
  objects+=("$obj")
  # two compilers at a time: the machine is shared
  while [ "$(jobs -r | wc -l)" -ge 2 ]; do wait -n; done
done
wait
"$cxx" -o "$out/forecast_kernel_tests" "${objects[@]}"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/forecast_kernel_tests" "[kernel],[holt-winters],[decomposition],[optimizer]"
PRESCALE_KERNEL=scalar qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/forecast_kernel_tests" "[holt-winters]"
