#!/usr/bin/env bash
# service.sh, before the boot (chrooted in the overlay): install the packages, configure the
# server password as a credential, drop in a plugin built against factotum-dev, and add two
# units: the installed factotum-testserver on localhost:7419 (factotum's default server) and
# the probe that checks the service and powers the container off.
source /stage/inside.sh
dpkg_run -i /stage/current/factotum_*.deb /stage/current/factotum-dev_*.deb

install_hello_plugin
use_password_credential s3cret


cat >/etc/systemd/system/factotum-testserver.service <<'UNIT'
[Unit]
Before=factotum.service
[Service]
ExecStart=/usr/bin/factotum-testserver --port 7419 --password s3cret
[Install]
WantedBy=multi-user.target
UNIT
# A short watchdog, so the probe sees the daemon's pings arrive (the shipped unit has 30 s).
mkdir -p /etc/systemd/system/factotum.service.d
printf '[Service]\nWatchdogSec=2s\n' >/etc/systemd/system/factotum.service.d/watchdog.conf

# /run as a real host has it: initramfs-tools mounts it noexec, and the daemon maps its staged
# plugin copies from $RUNTIME_DIRECTORY=/run/factotum (the unit's ExecPaths= allows it there).
cat >/etc/systemd/system/run-noexec.service <<'UNIT'
[Unit]
DefaultDependencies=no
Before=factotum.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/mount -o remount,noexec,nosuid,nodev /run
[Install]
WantedBy=multi-user.target
UNIT
cat >/etc/systemd/system/factotum-probe.service <<'UNIT'
[Unit]
After=factotum.service factotum-testserver.service
[Service]
Type=oneshot
TimeoutStartSec=150
ExecStart=/bin/bash /stage/service_probe.sh
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable run-noexec.service factotum-testserver.service factotum-probe.service \
  >/dev/null 2>&1 ||
  fail "cannot enable the test units"
[[ -L /etc/systemd/system/multi-user.target.wants/factotum.service ]] ||
  fail "the package did not enable factotum.service"
