# Sourced by the scripts that run chrooted in the overlay (overlay.sh; make_stage puts this file
# in /stage): helpers, and the machine made to behave like an ordinary one.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

# A container's policy-rc.d (Docker's says "never start services") would hide what the
# maintainer scripts ask for; the overlay plays a machine that has none.
rm -f /usr/sbin/policy-rc.d
# man-db's trigger rebuilds its whole index after each dpkg run: seconds, for nothing here.
rm -f /var/lib/man-db/auto-update

# dpkg_run ARGS...: dpkg with its output kept for the failure message. --path-include keeps
# every file even where the machine's dpkg excludes some (slim images drop man pages and docs);
# stdin from /dev/null, so a conffile question fails instead of waiting for an answer.
dpkg_run() {
  dpkg --path-include='*' "$@" </dev/null >/stage/dpkg.log 2>&1 ||
    fail "dpkg $* failed: $(cat /stage/dpkg.log)"
}

# install_hello_plugin: builds the example project factotum-dev ships against the installed SDK
# (as sdk/README.md tells authors) and drops hello.so into the local plugin directory.
install_hello_plugin() {
  cp -r /usr/share/doc/factotum-dev/examples/hello /tmp/hello
  cmake -S /tmp/hello -B /tmp/hello/build -G Ninja >/stage/hello.log 2>&1 ||
    fail "configuring the hello example against factotum-dev failed: $(cat /stage/hello.log)"
  cmake --build /tmp/hello/build >/stage/hello.log 2>&1 ||
    fail "building the hello example failed: $(cat /stage/hello.log)"
  grep -q "^FactotumSDK_DIR:PATH=/usr/" /tmp/hello/build/CMakeCache.txt ||
    fail "the hello example did not use the installed SDK: $(grep FactotumSDK_DIR /tmp/hello/build/CMakeCache.txt)"
  install -m 0644 /tmp/hello/build/hello.so /usr/local/lib/factotum/plugins/hello.so
}

# use_password_credential PASSWORD: the configuration README's "Install as a service" tells
# users to make: the password in /etc/factotum/faktory-password, read through the credential.
use_password_credential() {
  sed -i 's|^faktory:$|faktory:\n  password_file: ${CREDENTIALS_DIRECTORY}/faktory-password|' \
    /etc/factotum/factotum.yaml
  grep -q '^  password_file: ${CREDENTIALS_DIRECTORY}/faktory-password$' /etc/factotum/factotum.yaml ||
    fail "could not edit the conffile"
  printf '%s\n' "$1" >/etc/factotum/faktory-password
}
