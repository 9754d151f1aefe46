#!/usr/bin/env bash
# The README's promise on a truly fresh machine: builds a pristine Debian 12 root with debootstrap,
# installs only `make` (plus ca-certificates, which apt needs for https sources), clones this
# repository into it alone (nothing beside it) and runs `make demo` then `make test` inside
# through chroot, printing how long each took. Needs root and debootstrap.
#
#   sudo scripts/fresh-debian.sh [--root DIR] [--reuse] [--repo PATH] [--commit REV]
#                                [--steps "demo test"] [--remove]
#
#   --root DIR    where the Debian root goes (default $AMLOPS_FRESH_ROOT or /var/tmp/amlops-fresh);
#                 it is deleted first and made again by debootstrap.
#   --reuse       keep an existing root at DIR (saves debootstrap; no longer pristine).
#   --repo PATH   the git repository to clone (default: the one this script lives in).
#   --commit REV  the commit to check out (default: HEAD of --repo).
#   --steps LIST  the make targets to run in order, each even when one before failed (default
#                 "demo test"); "deps" only installs the dependencies.
#   --remove      delete the root at the end (default: keep it for a look or a --reuse run).
#
# The Debian mirror is the one this machine's apt already uses (read from /etc/apt at run time).
set -euo pipefail

root="${AMLOPS_FRESH_ROOT:-/var/tmp/amlops-fresh}"
repo="$(cd "$(dirname "$0")/.." && git rev-parse --show-toplevel)"
commit=""
steps="demo test"
fresh=1
remove=0
suite=bookworm
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    --repo) repo="$2"; shift 2 ;;
    --commit) commit="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --reuse) fresh=0; shift ;;
    --remove) remove=1; shift ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-debian: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "fresh-debian: needs root (debootstrap, mount, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "fresh-debian: install debootstrap" >&2; exit 2; }
[ -n "$commit" ] || commit="$(git -C "$repo" rev-parse HEAD)"
commit="$(git -C "$repo" rev-parse --verify "$commit^{commit}")"
case "$(realpath -m "$root")" in
  / | "$(realpath "$repo")"*) echo "fresh-debian: --root must be outside the source tree" >&2; exit 2 ;;
esac

# The Debian archive this machine's apt uses: the first URI of a deb822 entry or a one-line entry
# that serves the suite itself (not -security or -updates).
mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    case "$f" in
      *.sources)
        awk -v s="$suite" '
          /^[[:space:]]*$/ { if (u != "" && ok) { print u; exit } u = ""; ok = 0; next }
          /^URIs:/ { u = $2 }
          /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
          END { if (u != "" && ok) print u }' "$f" ;;
      *)
        sed -E 's/\[[^]]*\]//' "$f" | awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }' ;;
    esac
  done | head -n1
}
url="${AMLOPS_FRESH_MIRROR:-$(mirror)}"
[ -n "$url" ] || { echo "fresh-debian: no $suite entry in /etc/apt; set AMLOPS_FRESH_MIRROR" >&2; exit 2; }

mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
  done
  if [ "$remove" -eq 1 ]; then rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

clock() { date +%s; }
took() { echo "fresh-debian: $1 took $(($(clock) - $2)) s" >&2; }

if [ "$fresh" -eq 1 ] && [ -e "$root" ]; then
  if grep -q " $(realpath "$root")/" /proc/mounts; then
    echo "fresh-debian: something is still mounted under $root" >&2; exit 1
  fi
  rm -rf --one-file-system "$root"
fi
if [ ! -x "$root/usr/bin/apt-get" ]; then
  echo "fresh-debian: debootstrap --variant=minbase $suite $root $url" >&2
  t=$(clock)
  mkdir -p "$root"
  debootstrap --variant=minbase "$suite" "$root" "$url" >"$root.debootstrap.log" 2>&1 ||
    { tail -n 20 "$root.debootstrap.log" >&2; exit 1; }
  took debootstrap "$t"
fi

bind() { mkdir -p "$root$1"; mount --bind "$1" "$root$1"; mounts+=("$root$1"); }
mkdir -p "$root/proc" "$root/sys" "$root/dev"
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mount -t sysfs sysfs "$root/sys" && mounts+=("$root/sys")
bind /dev
bind /dev/pts
mount -t tmpfs -o mode=1777 shm "$root/dev/shm" && mounts+=("$root/dev/shm")
# This machine's network setup: its DNS servers and the CA certificates it trusts locally (a
# TLS-intercepting proxy's, say), which npm needs to reach its registry.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
local_cas=0
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -L /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  local_cas=1
fi

extra_env=()
[ "$local_cas" -eq 0 ] || extra_env=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
in_root() { chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${extra_env[@]}" "$@"; }

t=$(clock)
in_root sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  --no-install-recommends make ca-certificates >/dev/null && update-ca-certificates >/dev/null'
took "apt-get install make ca-certificates" "$t"

# A clone of the commit alone: nothing else of this machine is visible from inside the root.
src=/src/amlops
rm -rf "$root/src"
mkdir -p "$root/src"
git clone -q --no-local --no-checkout "$repo" "$root$src"
git -C "$root$src" -c advice.detachedHead=false checkout -q "$commit"
echo "fresh-debian: $src at $(git -C "$root$src" log -1 --format='%h %s')" >&2
[ "$(ls -A "$root/src")" = amlops ] || { echo "fresh-debian: $root/src must hold the clone alone" >&2; exit 1; }

failed=()
for target in $steps; do
  t=$(clock)
  echo "fresh-debian: make $target" >&2
  status=0
  in_root sh -c "cd $src && make $target" || status=$?
  took "make $target" "$t"
  [ "$status" -eq 0 ] || { echo "fresh-debian: make $target failed ($status)" >&2; failed+=("$target"); }
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fresh-debian: failed on a fresh Debian 12 root ($root): make ${failed[*]}" >&2
  exit 1
fi
echo "fresh-debian: make $steps passed on a fresh Debian 12 root ($root)" >&2
