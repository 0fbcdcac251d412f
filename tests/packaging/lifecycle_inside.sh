#!/usr/bin/env bash
# The package lifecycle, run by lifecycle.sh as root inside a throw-away overlay of / (see
# overlay.sh): install, check, use, edit the conffile, upgrade, remove, purge, install again.
# /stage holds current/*.deb, upgrade/*.deb (the same packages at a higher version) and
# factotum-client (the build's producer tool, to push a job).
#
# systemd does not run here. A stub `systemctl` first on PATH logs every call the maintainer
# scripts make to a service manager (offline calls, `--root=`, which only edit files, go to the
# real systemctl); /run/systemd/system (how the scripts tell systemd is running) is created for
# the phases that play a machine with systemd, and absent for those that play a container.
source /stage/inside.sh

mkdir -p /stage/stub
cat >/stage/stub/systemctl <<'EOF'
#!/bin/sh
case " $* " in
*" --root="*) exec /bin/systemctl "$@" ;;
esac
echo "$*" >>/stage/systemctl.log
case "$*" in
*is-enabled*) echo enabled ;;
*is-active*) exit 3 ;;
esac
exit 0
EOF
chmod 0755 /stage/stub/systemctl
export PATH=/stage/stub:$PATH
systemd_running() {
  if [[ $1 == yes ]]; then mkdir -p /run/systemd/system; else rm -rf /run/systemd; fi
}
systemctl_calls() { cat /stage/systemctl.log 2>/dev/null || true; }
reset_systemctl_log() { rm -f /stage/systemctl.log; }
# expect_mode PATH MODE OWNER:GROUP
expect_mode() {
  [[ -e $1 ]] || fail "$1 is missing"
  local got
  got=$(stat -c '%a %U:%G' "$1")
  [[ $got == "$2 $3" ]] || fail "$1 is $got, expected $2 $3"
}
status_of() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || echo not-installed; }

current_runtime=$(ls /stage/current/factotum_*.deb)
current_dev=$(ls /stage/current/factotum-dev_*.deb)
upgrade_runtime=$(ls /stage/upgrade/factotum_*.deb)
upgrade_dev=$(ls /stage/upgrade/factotum-dev_*.deb)
version=$(dpkg-deb -f "$current_runtime" Version)
upgrade_version=$(dpkg-deb -f "$upgrade_runtime" Version)
dpkg --compare-versions "$upgrade_version" gt "$version" ||
  fail "the upgrade package's version $upgrade_version is not above $version"
getent passwd factotum >/dev/null && fail "a user factotum exists before the install"

# --- 1. Install on a machine without systemd (a container) -----------------------------------
systemd_running no
reset_systemctl_log
dpkg_run -i "$current_runtime" "$current_dev"
[[ $(status_of factotum) == installed && $(status_of factotum-dev) == installed ]] ||
  fail "after dpkg -i: factotum is $(status_of factotum), factotum-dev $(status_of factotum-dev)"
[[ -z $(systemctl_calls) ]] || fail "without systemd, the scripts called systemctl: $(systemctl_calls)"
ok "installed $version without systemd; no systemctl call"

for f in /usr/sbin/factotum /usr/bin/factotum-testserver; do expect_mode "$f" 755 root:root; done
for f in /usr/lib/factotum/plugins/echo.so /usr/lib/factotum/plugins/joblog.so \
  /usr/lib/factotum/plugins/shell.so /etc/factotum/factotum.yaml \
  /usr/lib/systemd/system/factotum.service /usr/share/man/man8/factotum.8.gz \
  /usr/share/man/man1/factotum-testserver.1.gz /usr/share/bash-completion/completions/factotum \
  /usr/share/doc/factotum/README.md /usr/share/doc/factotum/copyright \
  /usr/share/doc/factotum/changelog.gz /usr/share/doc/factotum/plugins/shell/README.md \
  /usr/share/doc/factotum-dev/README.md /usr/share/doc/factotum-dev/copyright \
  /usr/share/doc/factotum-dev/changelog.gz /usr/include/factotum/sdk.h \
  /usr/include/factotum/plugin.hpp /usr/share/doc/factotum-dev/examples/hello/CMakeLists.txt \
  /usr/share/doc/factotum-dev/examples/hello/hello.cpp; do
  expect_mode "$f" 644 root:root
done
sdk_config=$(dpkg -L factotum-dev | grep '/cmake/FactotumSDK/FactotumSDKConfig.cmake$') ||
  fail "factotum-dev has no FactotumSDKConfig.cmake: $(dpkg -L factotum-dev)"
expect_mode "$sdk_config" 644 root:root
# Nothing in the packages may be writable by group or others, or owned by anyone but root.
bad=$(dpkg -L factotum factotum-dev | sed '/^$/d' | xargs -d '\n' stat -c '%a %U:%G %n' |
  awk '$2 != "root:root" || substr($1, length($1) - 1) ~ /[2367]/')
[[ -z $bad ]] || fail "package files with another owner, or writable by group/others: $bad"
cmp -s <(zcat /usr/share/doc/factotum/changelog.gz) <(zcat /usr/share/doc/factotum-dev/changelog.gz) ||
  fail "the two packages ship different changelogs"
ok "files, modes and owners"

[[ $(dpkg-query -W -f='${Conffiles}' factotum) == *"/etc/factotum/factotum.yaml "* ]] ||
  fail "/etc/factotum/factotum.yaml is not a conffile: $(dpkg-query -W -f='${Conffiles}' factotum)"
ok "/etc/factotum/factotum.yaml is a conffile"

IFS=: read -r _ _ uid gid _ home shell < <(getent passwd factotum) ||
  fail "postinst created no user factotum"
[[ $(getent group factotum | cut -d: -f3) == "$gid" ]] || fail "factotum's primary group is not factotum"
((uid >= 100 && uid < 1000)) || fail "factotum's uid $uid is not a system uid"
[[ $shell == /usr/sbin/nologin ]] || fail "factotum's shell is $shell"
[[ $home == /nonexistent && ! -e /nonexistent ]] || fail "factotum has a home: $home"
ok "system user factotum ($uid:$gid), no shell, no home"

expect_mode /usr/local/lib/factotum/plugins 755 root:root
expect_mode /etc/factotum/faktory-password 600 root:root
[[ ! -s /etc/factotum/faktory-password ]] || fail "the password file is not empty"
wants=/etc/systemd/system/multi-user.target.wants/factotum.service
[[ -L $wants ]] || fail "the service was not enabled ($wants is missing)"
ok "local plugin directory, empty password file, service enabled"

[[ $(factotum --version) == "factotum $version "* ]] ||
  fail "factotum --version prints '$(factotum --version)', the package is $version"
ok "factotum --version prints $version"

# --- 1b. The client library's packages ---------------------------------------------------------
dpkg_run -i /stage/current/libfactotum-faktory0_*.deb /stage/current/libfactotum-faktory-dev_*.deb
ldconfig -p | grep -q 'libfactotum-faktory\.so\.0 ' ||
  fail "the ldconfig trigger did not add libfactotum-faktory.so.0 to the cache: $(ldconfig -p | grep factotum)"
cp -r /usr/share/doc/libfactotum-faktory-dev/examples/producer /tmp/producer
cmake -S /tmp/producer -B /tmp/producer/build -G Ninja >/stage/producer.log 2>&1 ||
  fail "configuring the producer example against libfactotum-faktory-dev failed: $(cat /stage/producer.log)"
cmake --build /tmp/producer/build >/stage/producer.log 2>&1 ||
  fail "building the producer example failed: $(cat /stage/producer.log)"
grep -q "^FactotumFaktory_DIR:PATH=/usr/lib/" /tmp/producer/build/CMakeCache.txt ||
  fail "the producer did not use the installed package: $(grep FactotumFaktory_DIR /tmp/producer/build/CMakeCache.txt)"
out=$(FAKTORY_URL=tcp://127.0.0.1:1 /tmp/producer/build/producer echo x 2>&1) && fail "producer pushed to no server: $out"
grep -q "^not connected: " <<<"$out" || fail "the installed producer says: $out"
dpkg_run -r libfactotum-faktory-dev libfactotum-faktory0
! ldconfig -p | grep -q libfactotum-faktory || fail "libfactotum-faktory is still in the ldconfig cache after removal"
ok "libfactotum-faktory0 and -dev: installed (ldconfig trigger), an example built and run, removed"

# --- 2. The installed daemon, its configuration and plugins, as the service's user -------------
as_factotum() { setpriv --reuid factotum --regid factotum --clear-groups -- "$@"; }
check_config() { as_factotum env "$@" factotum --check-config --config /etc/factotum/factotum.yaml; }
summary=$(check_config 2>&1) || fail "check-config with the installed configuration failed: $summary"
for jobtype in echo sleep; do
  grep -q "^  $jobtype  (plugin .*/usr/lib/factotum/plugins/" <<<"$summary" ||
    fail "check-config lists no jobtype $jobtype from /usr/lib/factotum/plugins: $summary"
done
ok "factotum --check-config loads the shipped plugins with the shipped configuration"

# An out-of-tree plugin: the example factotum-dev ships, built against the installed SDK.
install_hello_plugin
summary=$(check_config 2>&1) || fail "check-config with hello.so failed: $summary"
grep -q "^  Hello  (plugin hello, /usr/local/lib/factotum/plugins/hello.so)" <<<"$summary" ||
  fail "check-config does not list Hello from /usr/local/lib/factotum/plugins: $summary"
ok "a plugin built against the installed factotum-dev loads from /usr/local/lib/factotum/plugins"

# The conffile edit the README documents: the password as a systemd credential.
use_password_credential s3cret
out=$(check_config 2>&1) && fail "check-config passed without CREDENTIALS_DIRECTORY: $out"
grep -q CREDENTIALS_DIRECTORY <<<"$out" || fail "check-config without CREDENTIALS_DIRECTORY says: $out"
# What LoadCredential= does: a private copy, owned by the service's user, read-only.
credentials=/run/credentials/factotum.service
install -d -m 0700 -o factotum -g factotum "$credentials"
install -m 0400 -o factotum -g factotum /etc/factotum/faktory-password "$credentials/faktory-password"
install -d -m 0700 -o factotum -g factotum /run/factotum  # RuntimeDirectory=factotum
summary=$(check_config CREDENTIALS_DIRECTORY="$credentials" 2>&1) ||
  fail "check-config with the credential failed: $summary"
ok "faktory.password_file: \${CREDENTIALS_DIRECTORY}/faktory-password is read from the credential"

# Run a job: the installed daemon, as the unit runs it, against the installed test server that
# wants the password; the job goes to the out-of-tree plugin.
factotum-testserver --port 0 --password s3cret >/stage/server.out 2>&1 &
server=$!
trap 'kill "$server" "${daemon:-}" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  port=$(sed -n 's/^factotum-testserver listening on .*:\([0-9]*\)$/\1/p' /stage/server.out)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || fail "the installed factotum-testserver did not start: $(cat /stage/server.out)"
# setpriv directly, not through as_factotum: $! must be the daemon itself, not a subshell.
setpriv --reuid factotum --regid factotum --clear-groups -- \
  env CREDENTIALS_DIRECTORY="$credentials" RUNTIME_DIRECTORY=/run/factotum factotum --config /etc/factotum/factotum.yaml --url "tcp://127.0.0.1:$port" \
  --concurrency 2 2>/stage/daemon.log &
daemon=$!
/stage/factotum-client --url "tcp://:s3cret@127.0.0.1:$port" push --jobtype Hello \
  --args '["packaged"]' >/dev/null || fail "could not push a job"
/stage/factotum-client --url "tcp://:s3cret@127.0.0.1:$port" wait-processed 1 --timeout 30 \
  >/dev/null || fail "the job was not processed: $(cat /stage/daemon.log)"
grep -q 'hello .*packaged' /stage/daemon.log ||
  fail "the hello plugin did not run the job: $(cat /stage/daemon.log)"
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
daemon=
((rc == 0)) || fail "the daemon exited $rc after TERM: $(cat /stage/daemon.log)"
ok "the installed daemon ran a job in the out-of-tree plugin, authenticated by the credential"

# --- 3. Upgrade on a machine with systemd ------------------------------------------------------
systemd_running yes
reset_systemctl_log
edited=$(sha256sum /etc/factotum/factotum.yaml)
dpkg_run -i "$upgrade_runtime" "$upgrade_dev"
[[ $(dpkg-query -W -f='${Version}' factotum) == "$upgrade_version" ]] || fail "factotum was not upgraded"
[[ $(sha256sum /etc/factotum/factotum.yaml) == "$edited" ]] ||
  fail "the upgrade changed the edited conffile: $(cat /etc/factotum/factotum.yaml)"
[[ ! -e /etc/factotum/factotum.yaml.dpkg-new && ! -e /etc/factotum/factotum.yaml.dpkg-dist ]] ||
  fail "the upgrade left a .dpkg-new/.dpkg-dist beside the unchanged conffile"
[[ $(cat /etc/factotum/faktory-password) == s3cret ]] || fail "the upgrade changed the password file"
[[ -f /usr/local/lib/factotum/plugins/hello.so ]] || fail "the upgrade removed a local plugin"
grep -qx -- '--system daemon-reload' <(systemctl_calls) ||
  fail "the upgrade did not reload systemd: $(systemctl_calls)"
grep -qx -- 'try-restart factotum.service' <(systemctl_calls) ||
  fail "the upgrade did not try-restart the service: $(systemctl_calls)"
! grep -Eq '(^| )(start|stop|restart) ' <(systemctl_calls) ||
  fail "the upgrade started, stopped or restarted the service unconditionally: $(systemctl_calls)"
ok "upgraded to $upgrade_version: the conffile edit survives; daemon-reload, try-restart"

# --- 4. Remove, then purge ---------------------------------------------------------------------
reset_systemctl_log
dpkg_run -r factotum-dev factotum
grep -qx -- 'stop factotum.service' <(systemctl_calls) ||
  fail "removing did not stop the service: $(systemctl_calls)"
[[ $(status_of factotum) == config-files ]] || fail "after dpkg -r, factotum is $(status_of factotum)"
[[ ! -e /usr/sbin/factotum && ! -e /usr/lib/factotum/plugins/echo.so ]] || fail "dpkg -r left files"
[[ -f /etc/factotum/factotum.yaml ]] || fail "dpkg -r removed the conffile"
[[ -f /usr/local/lib/factotum/plugins/hello.so ]] || fail "dpkg -r removed a local plugin"
ok "removed: service stopped; conffile and local plugins kept"

# Installed again after a remove (not a purge): "configure <old-version>" like an upgrade, but
# the service was stopped by the removal, so it must be started, not try-restarted.
reset_systemctl_log
dpkg_run -i "$current_runtime"
grep -Eq '(^| )start factotum\.service$' <(systemctl_calls) ||
  fail "installing again after a remove did not start the service: $(systemctl_calls)"
[[ ! -e /etc/systemd/system/factotum.service ]] || fail "installing again left the unit masked"
ok "installed again after a remove: unmasked and started"
reset_systemctl_log
dpkg_run -r factotum

dpkg_run -P factotum factotum-dev
[[ $(status_of factotum) == not-installed ]] || fail "after dpkg -P, factotum is $(status_of factotum)"
[[ ! -e /etc/factotum ]] || fail "purge left /etc/factotum: $(ls -la /etc/factotum)"
[[ ! -e $wants && ! -e /etc/systemd/system/factotum.service ]] ||
  fail "purge left the service's enable or mask links"
[[ -f /usr/local/lib/factotum/plugins/hello.so ]] || fail "purge removed a local plugin"
getent passwd factotum >/dev/null || fail "purge removed the system user (policy keeps it)"
ok "purged: /etc/factotum and the service's links gone; local plugins and the user kept"

# --- 5. A fresh install with systemd starts the service; removing it takes the empty dir -------
rm /usr/local/lib/factotum/plugins/hello.so
reset_systemctl_log
dpkg_run -i "$current_runtime"
grep -Eq '(^| )start factotum\.service$' <(systemctl_calls) ||
  fail "a first install with systemd did not start the service: $(systemctl_calls)"
ok "a first install with systemd enables and starts the service"
dpkg_run -P factotum
[[ ! -e /usr/local/lib/factotum ]] || fail "removing left the empty /usr/local/lib/factotum"
ok "the empty local plugin directory goes with the package"
echo "package lifecycle: all checks passed"
