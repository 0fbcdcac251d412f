#!/usr/bin/env bash
# The service as systemd runs it: the packages go into a throw-away overlay of / (overlay.sh),
# which then boots as a systemd container (systemd-nspawn, private network). The unit as
# shipped, with its whole sandbox, must run the daemon: start, authenticate with the password
# credential, run a job in a plugin built against factotum-dev, reload, stop with status 0.
# Skipped (77) where the overlay or a container boot is not possible.
#   usage: service.sh BUILD_DIR PACKAGES_DIR
set -euo pipefail
build=$1
packages=$2
here=$(dirname "$(readlink -f "$0")")
source "$here/overlay.sh"
make_stage "$packages" current
cp "$build/bin/factotum-client" "$here"/service_prepare.sh "$here"/service_probe.sh \
  "$here"/service_report.sh "$stage/"
in_overlay "$stage" chroot:service_prepare.sh boot chroot:service_report.sh
