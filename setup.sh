#!/usr/bin/env bash
# container-lab set-up, for a fresh Debian or Ubuntu machine, as root.
#   ./setup.sh          install what the lab needs, build it, then open the lesson menu
#   ./setup.sh --test   the same install and build, then run the whole test suite (npm test)
#   ./setup.sh --no-menu  install and build only
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-menu}

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: container-lab works on the real kernel (namespaces, mounts, cgroups): run it as root, e.g. sudo ./setup.sh" >&2
  exit 1
fi

step() { printf '\n== %s\n' "$*"; }

step "System packages (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# gcc/libc6-dev: the native shim and static tools; busybox-static: the sandbox image;
# iproute2/iptables: networking lessons; tmux: terminal tests; podman/runc: graded and benchmarked
# against; hyperfine: benchmarks.
apt-get install -y -qq --no-install-recommends \
  ca-certificates gcc libc6-dev make busybox-static iproute2 iptables util-linux procps tmux less \
  runc podman uidmap hyperfine >/dev/null

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup.sh: Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "  Install it from your distribution or nodejs.org, then run ./setup.sh again." >&2
  exit 1
fi

step "Node packages and build (npm ci; compiles the native shim with cc)"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build

step "Sandbox image: busybox, built offline from the host's static busybox"
node dist/sandbox-images/busybox/build.js

step "Commands on the PATH"
ln -sf "$PWD/bin/mini-docker" /usr/local/bin/mini-docker
ln -sf "$PWD/bin/container-lab.js" /usr/local/bin/container-lab
echo "mini-docker and container-lab are in /usr/local/bin"

case "$mode" in
  --test) step "Tests (npm test)"; exec npm test ;;
  --no-menu) ;;
  *)
    if [ -t 0 ] && [ -t 1 ]; then exec container-lab; fi
    echo "No terminal here: run 'container-lab' in a terminal to open the lesson menu." ;;
esac
