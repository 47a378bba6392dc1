#!/usr/bin/env bash
# Installs the Debian packages the interop and browser tests use, when missing:
# kannel (bearerbox + smsbox) and chromium (driven by Playwright, never downloaded).
set -euo pipefail
missing=()
command -v bearerbox >/dev/null 2>&1 || missing+=(kannel)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "need root to install: ${missing[*]} (or install them yourself)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
