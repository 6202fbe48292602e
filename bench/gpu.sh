#!/usr/bin/env bash
# bench/gpu.sh: runs bench/gpu.mjs, here or on the GPU machine; bench/README.md says how.
#
#   bash bench/gpu.sh pack                  here, before a device run: build, bundle bench/gpu.mjs with @onnxvae/core
#                                           and @onnxvae/node into bench/dist/gpu.mjs, download the Vulkan loader's
#                                           .deb files into bench/dist/debs, and print the carry list with its sizes
#   bash bench/gpu.sh bundle [FILE]         only the bundle (after npm run build), to FILE or bench/dist/gpu.mjs
#   bash bench/gpu.sh [--swiftshader] [gpu.mjs options]
#                                           runs the bench: bench/gpu.mjs where packages/*/dist are built, else the
#                                           bundle; --swiftshader sets up Chromium's software Vulkan driver (for tests)
#
# Carried paths for a device run (5 of the 8 allowed, ~50 MB of the 64 MiB): bench/dist,
# node_modules/onnxruntime-node/package.json, node_modules/onnxruntime-node/dist,
# node_modules/onnxruntime-node/bin/napi-v6/linux/x64, node_modules/onnxruntime-common.
set -euo pipefail
cd "$(dirname "$0")/.."

CARRY=(
  bench/dist
  node_modules/onnxruntime-node/package.json
  node_modules/onnxruntime-node/dist
  node_modules/onnxruntime-node/bin/napi-v6/linux/x64
  node_modules/onnxruntime-common
)
# The loaders the device machine's README lists for Vulkan and EGL on NVIDIA (libvulkan.so.1, libGLdispatch.so.0, …).
DEBS=(libvulkan1 libglvnd0 libegl1 libglx0 libgl1 libopengl0 libgles2)

# bundle [FILE]: bench/gpu.mjs and the built @onnxvae/core and @onnxvae/node in one file (default bench/dist/gpu.mjs).
# onnxruntime-node stays outside: it loads its native binding from ../bin/napi-v6/… relative to itself.
bundle() {
  npx esbuild bench/gpu.mjs --bundle --platform=node --format=esm --target=node20 --external:onnxruntime-node \
    --log-level=warning --outfile="${1:-bench/dist/gpu.mjs}" \
    --banner:js="import { createRequire as __onnxvaeCreateRequire } from 'node:module'; globalThis.require ??= __onnxvaeCreateRequire(import.meta.url);"
}

if [ "${1:-}" = bundle ]; then
  bundle "${2:-}"
  exit 0
fi

if [ "${1:-}" = pack ]; then
  npm run build >/dev/null
  mkdir -p bench/dist/debs
  bundle
  if ! (cd bench/dist/debs && apt-get download "${DEBS[@]}" >/dev/null 2>&1); then
    echo "bench/gpu.sh: could not download ${DEBS[*]} (run apt-get update first); a machine without libvulkan.so.1 will have no WebGPU" >&2
  fi
  total=0
  echo "carry (${#CARRY[@]} paths):"
  for p in "${CARRY[@]}"; do
    if [ ! -e "$p" ]; then
      echo "bench/gpu.sh: $p is missing (npm install, then pack again)" >&2
      exit 1
    fi
    b=$(du -sbL "$p" | cut -f1)
    total=$((total + b))
    awk -v p="$p" -v b="$b" 'BEGIN { printf "  %-55s %6.1f MB\n", p, b / 1e6 }'
  done
  awk -v b="$total" 'BEGIN { printf "  %-55s %6.1f MB (the limit, 64 MiB = 67.1 MB, counts the tracked files too)\n", "total", b / 1e6 }'
  exit 0
fi

if [ "${1:-}" = --swiftshader ]; then
  shift
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
  export LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    XDG_RUNTIME_DIR=$(mktemp -d)
    export XDG_RUNTIME_DIR
  fi
fi

has_lib() {
  local d
  local p="${LD_LIBRARY_PATH:-}"
  for d in ${p//:/ }; do [ -e "$d/$1" ] && return 0; done
  ldconfig -p 2>/dev/null | grep -q " $1 "
}

# No Vulkan loader on this machine: unpack the carried .debs into /tmp (not /) and add only the libraries it lacks.
if ! has_lib libvulkan.so.1 && compgen -G 'bench/dist/debs/*.deb' >/dev/null; then
  gl=/tmp/onnxvae-gl
  rm -rf "$gl" && mkdir -p "$gl/root" "$gl/lib"
  for f in bench/dist/debs/*.deb; do dpkg -x "$f" "$gl/root"; done
  for so in "$gl"/root/usr/lib/x86_64-linux-gnu/*.so.*; do
    n=$(basename "$so")
    has_lib "$n" || ln -sf "$so" "$gl/lib/$n"
  done
  export LD_LIBRARY_PATH="$gl/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "bench/gpu.sh: no libvulkan.so.1 here; using the carried loaders ($(ls "$gl/lib" | tr '\n' ' '))" >&2
fi

# No Vulkan driver where the loader looks, but an NVIDIA image's own one: point the loader at it.
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && ! compgen -G '/usr/share/vulkan/icd.d/*.json' >/dev/null &&
  ! compgen -G '/etc/vulkan/icd.d/*.json' >/dev/null && [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_ICD_FILENAMES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  echo "bench/gpu.sh: VK_ICD_FILENAMES=$VK_ICD_FILENAMES" >&2
fi

if [ -e packages/core/dist/index.js ] && [ -e packages/node/dist/cli/commands/doctor.js ]; then
  exec node bench/gpu.mjs "$@"
fi
exec node bench/dist/gpu.mjs "$@"
