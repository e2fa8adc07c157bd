#!/usr/bin/env bash
# Installs what the tests need from Debian; run as root. Chromium's package ships the SwiftShader
# Vulkan driver and is the browser of the end-to-end tests. Mesa 25's lavapipe comes from
# bookworm-backports, because Dawn rejects Debian 12's own Mesa 22.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list
fi
apt-get update -q
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
apt-get install -y -q --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1

test -f /usr/lib/chromium/vk_swiftshader_icd.json || { echo "SwiftShader ICD missing after installing chromium" >&2; exit 1; }
test -f /usr/share/vulkan/icd.d/lvp_icd.json || { echo "lavapipe ICD missing after installing mesa-vulkan-drivers" >&2; exit 1; }
