# Clean chroots of a Debian suite, for building and checking packages and
# for running the test suite against that suite's libraries. Sourced by
# scripts/chroot, scripts/package and scripts/test.
#
# A chroot is made once by mmdebstrap and kept as a tarball under
#   ${DBR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dunebugger-remote}/chroots/
# named by suite, kind, architectures and a hash of what went into it (the
# recipe below, debian/control, scripts/install-deps), so a change to any of
# them makes a new one. A tarball older than DBR_CHROOT_MAX_AGE_DAYS (7) is
# made again, so the suite's updates reach the builds. Every use unpacks a
# fresh copy: nothing one build leaves behind reaches the next.
#
# Kinds:
#   minbase  Debian's minimal system (--variant=minbase), as a board has
#            before our package: for `apt-get install ./the.deb` checks.
#   build    buildd variant + the package's Build-Depends for ARCH (a cross
#            build from amd64 for arm64/armhf, with crossbuild-essential),
#            ccache, lintian.
#   test     buildd variant + everything scripts/install-deps installs: the
#            full test suite runs in it.
# For ARCH other than the machine's, a build chroot is amd64 with ARCH
# added as a foreign architecture (multiarch): its packages come from the
# suite's ARCH index, and its programs run under qemu-user. A minbase
# chroot is always the machine's architecture (it has nothing of ARCH yet):
# a check adds ARCH itself (`dpkg --add-architecture`) before it installs.

dbr_top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dbr_cache="${DBR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dunebugger-remote}"
dbr_mirror="${DBR_MIRROR:-http://deb.debian.org/debian}"
dbr_security_mirror="${DBR_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
dbr_native_arch="$(dpkg --print-architecture)"

dbr_check_suite() {
  case "$1" in
    bookworm|trixie) ;;
    *) echo "chroot: unknown suite '$1' (bookworm or trixie)" >&2; return 2 ;;
  esac
}

dbr_check_arch() {
  case "$1" in
    amd64|arm64|armhf) ;;
    *) echo "chroot: unknown architecture '$1' (amd64, arm64 or armhf)" >&2; return 2 ;;
  esac
}

dbr_triplet() {
  case "$1" in
    amd64) echo x86_64-linux-gnu ;;
    arm64) echo aarch64-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
  esac
}

# The apt sources of a suite: the release, its point-release updates and
# its security updates, as a board has them.
dbr_sources() {
  local suite="$1"
  printf '%s\n' "deb $dbr_mirror $suite main" "deb $dbr_mirror $suite-updates main" \
    "deb $dbr_security_mirror $suite-security main"
}

# What makes a chroot: hashed into its name.
dbr_chroot_recipe() {
  local suite="$1" kind="$2" arch="$3"
  printf 'recipe %s %s %s\n' "$suite" "$kind" "$arch"
  # The function that makes the chroot: a change to it makes new ones.
  declare -f dbr_chroot_tarball
  dbr_sources "$suite"
  case "$kind" in
    # The source paragraph (Build-Depends): the binary package's fields do
    # not change what the chroot needs.
    build) sed '/^$/q' "$dbr_top/debian/control" ;;
    test) cat "$dbr_top/scripts/install-deps" ;;
  esac
}

dbr_chroot_tarball_name() {
  local suite="$1" kind="$2" arch="$3" hash
  hash=$(dbr_chroot_recipe "$suite" "$kind" "$arch" | sha256sum | cut -c1-12)
  echo "$dbr_cache/chroots/$suite-$kind-$arch-$hash.tar"
}

# dbr_chroot_tarball SUITE KIND ARCH: prints the tarball's path, making it
# first when it is missing or too old.
dbr_chroot_tarball() {
  local suite="$1" kind="$2" arch="$3"
  dbr_check_suite "$suite" || return
  dbr_check_arch "$arch" || return
  local tarball max_age="${DBR_CHROOT_MAX_AGE_DAYS:-7}"
  [ "$kind" != minbase ] || arch="$dbr_native_arch"
  tarball=$(dbr_chroot_tarball_name "$suite" "$kind" "$arch")
  fresh() { [ -f "$tarball" ] && [ -z "$(find "$tarball" -mtime +"$max_age" 2>/dev/null)" ]; }
  if fresh; then
    echo "$tarball"
    return 0
  fi
  mkdir -p "$(dirname "$tarball")"
  # One maker per tarball: a second caller (the package matrix runs beside
  # the suite test) waits for the first, then uses its tarball.
  local lock_fd
  exec {lock_fd}>"$dbr_cache/chroots/.$suite-$kind-$arch.lock"
  flock "$lock_fd"
  # Fresh now: another caller made it while this one waited (a stale one
  # is made again, as above).
  if fresh; then
    exec {lock_fd}>&-
    echo "$tarball"
    return 0
  fi
  # Older tarballs of the same suite, kind and arch are replaced.
  rm -f "$dbr_cache/chroots/$suite-$kind-$arch-"*.tar
  local variant=buildd include="ca-certificates" archs="$dbr_native_arch" hooks=()
  [ "$arch" = "$dbr_native_arch" ] || archs="$dbr_native_arch,$arch"
  case "$kind" in
    minbase)
      variant=minbase
      ;;
    build)
      include="$include,ccache,lintian,fakeroot"
      [ "$arch" = "$dbr_native_arch" ] || include="$include,crossbuild-essential-$arch"
      local host_arch_opt=""
      [ "$arch" = "$dbr_native_arch" ] || host_arch_opt="-a $arch -P cross"
      # The package's own Build-Depends, resolved by apt as a cross build
      # resolves them (host architecture, "cross" build profile).
      hooks+=(--customize-hook='mkdir -p "$1/tmp/dbr-control/debian"'
              --customize-hook="copy-in $dbr_top/debian/control /tmp/dbr-control/debian"
              --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q --no-install-recommends $host_arch_opt /tmp/dbr-control"
              --customize-hook='rm -rf "$1/tmp/dbr-control"')
      ;;
    test)
      hooks+=(--customize-hook='mkdir -p "$1/tmp/dbr-deps"'
              --customize-hook="copy-in $dbr_top/scripts/install-deps /tmp/dbr-deps"
              --customize-hook='chroot "$1" /tmp/dbr-deps/install-deps'
              --customize-hook='rm -rf "$1/tmp/dbr-deps"')
      ;;
    *) echo "chroot: unknown kind '$kind' (minbase, build or test)" >&2; return 2 ;;
  esac
  echo "chroot: making a $suite $kind chroot for $arch (once; cached as $tarball)" >&2
  local log="$tarball.log" started=$SECONDS
  local sources=()
  mapfile -t sources < <(dbr_sources "$suite")
  if ! mmdebstrap --quiet --format=tar --variant="$variant" --architectures="$archs" --include="$include" \
       --aptopt='Acquire::Retries "5"' --aptopt='APT::Install-Recommends "false"' \
       "${hooks[@]}" "$suite" "$tarball.part" "${sources[@]}" >"$log" 2>&1; then
    echo "chroot: mmdebstrap failed for the $suite $kind chroot ($arch); its log, $log, ends:" >&2
    tail -n 20 "$log" >&2
    rm -f "$tarball.part"
    exec {lock_fd}>&-
    return 1
  fi
  mv "$tarball.part" "$tarball"
  exec {lock_fd}>&-
  echo "chroot: made $tarball in $((SECONDS - started)) s" >&2
  echo "$tarball"
}

# dbr_chroot_unpack TARBALL: unpacks a fresh copy; prints its directory.
dbr_chroot_unpack() {
  local root
  root=$(mktemp -d "${DBR_CHROOT_TMP:-/var/tmp}/dbr-chroot.XXXXXX")
  tar -C "$root" -xf "$1"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  echo "$root"
}

# dbr_chroot_exec ROOT [--bind HOST_DIR CHROOT_DIR]... -- COMMAND...
# Runs COMMAND as root inside ROOT, in private mount and PID namespaces:
# /proc, /sys, /dev and a fresh /run are mounted there only, and every
# process the command leaves behind ends with it. The network is the
# machine's (peers on loopback are shared with it).
dbr_chroot_exec() {
  local root="$1"; shift
  local binds=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --bind) binds+=("$2" "$3"); shift 3 ;;
      --) shift; break ;;
      *) echo "dbr_chroot_exec: unexpected '$1'" >&2; return 2 ;;
    esac
  done
  # ROOT is bind-mounted onto itself first, so inside "/" is a mount point
  # as on a real system (/proc/mounts lists it; the agent reports its device).
  local setup='set -e; r="$1"; shift
    mount --bind "$r" "$r"
    mount -t proc proc "$r/proc"
    mount --rbind /sys "$r/sys"; mount --make-rslave "$r/sys"
    mount --rbind /dev "$r/dev"; mount --make-rslave "$r/dev"
    mount -t tmpfs -o mode=0755 tmpfs "$r/run"
    n="$1"; shift
    while [ "$n" -gt 0 ]; do
      mkdir -p "$r$2"; mount --bind "$1" "$r$2"; shift 2; n=$((n - 1))
    done
    exec chroot "$r" "$@"'
  unshare --mount --pid --fork --propagation private \
    sh -c "$setup" dbr-chroot "$root" "$(( ${#binds[@]} / 2 ))" "${binds[@]}" \
    /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

dbr_chroot_remove() {
  # The mounts lived in the command's namespace only: what is left is files.
  [ -n "$1" ] && [ -d "$1" ] && rm -rf --one-file-system "$1"
}
