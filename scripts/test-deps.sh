#!/usr/bin/env bash
# System programs the tests run for real: Debian's nginx (the cluster test puts the example's
# nginx.conf in front of real Silt processes) and docker-compose (validates the example's
# docker-compose.yml; no Docker engine is needed for `docker-compose config`), kubectl
# (Debian's kubernetes-client; `kubectl kustomize` renders the example manifests, no cluster needed)
# and Chromium (the console test drives it headless through playwright-core, which downloads no
# browser of its own).
# Installs what is missing when it can (root with apt-get), otherwise says what to install.
set -euo pipefail
missing=()
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian may start the nginx it just installed (on port 80); the tests start their own.
  if [[ " ${missing[*]} " == *" nginx "* ]] && [ -f /run/nginx.pid ]; then
    kill "$(cat /run/nginx.pid)" 2>/dev/null || true
  fi
  exit 0
fi
echo "test-deps: the tests need ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
exit 1
