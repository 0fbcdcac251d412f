#!/usr/bin/env bash
# service.sh, after the container powered off (chrooted in the overlay): the probe's verdict.
cat /stage/notes 2>/dev/null
if [[ ! -f /stage/probe.rc ]]; then
  echo "FAIL: the probe did not finish. nspawn: $(tail -20 /stage/nspawn.log)" >&2
  cat /stage/factotum.journal 2>/dev/null
  exit 1
fi
cat /stage/probe.out
rc=$(cat /stage/probe.rc)
if ((rc != 0)); then
  echo "--- journal of factotum.service"
  cat /stage/factotum.journal
  exit 1
fi
echo "factotum.service runs under systemd with its whole sandbox"
