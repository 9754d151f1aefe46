#!/usr/bin/env bash
# Builds a minimal static libcurl (HTTP/HTTPS only, mbed TLS, zlib, c-ares resolver: no glibc NSS at
# run time) from Debian's own curl source package, with Debian's patches, for `make static`.
# mbed TLS rather than OpenSSL: libgit2 links mbed TLS already, and OpenSSL 3's libcrypto would add
# 3.3 MB to every binary (its provider machinery comes with any EVP or TLS use). mbed TLS 2.28
# speaks TLS 1.2, which every Azure endpoint accepts.
# Debian's libcurl.a cannot be linked with -static (it needs GSSAPI/LDAP/RTMP/PSL/IDN archives
# that Debian does not ship). The result is cached OUTSIDE the source tree, keyed by the Debian
# version: ${AMLOPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/amlops}/curl-static-mbedtls-<version>.
# Prints that folder (lib/libcurl.a, include/curl) on its last line.
# Needs: a deb-src entry for bookworm (added, when run as root, to
# /etc/apt/sources.list.d/amlops-deb-src.sources), dpkg-dev, libc-ares-dev, libmbedtls-dev, zlib1g-dev.
set -euo pipefail

cache=${AMLOPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/amlops}
version=$(dpkg-query -W -f '${Version}' libcurl4-openssl-dev 2>/dev/null || true)
[ -n "$version" ] || { echo "build-static-curl: apt-get install libcurl4-openssl-dev" >&2; exit 2; }
prefix="$cache/curl-static-mbedtls-$version"
if [ -f "$prefix/lib/libcurl.a" ]; then
  echo "build-static-curl: cached: $prefix" >&2
  echo "$prefix"
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "build-static-curl: needs root for: $*" >&2; exit 2; fi; }

missing=()
for p in libc-ares-dev libmbedtls-dev zlib1g-dev dpkg-dev; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] || as_root apt-get install -y --no-install-recommends "${missing[@]}" >&2

work="$cache/curl-src-$version"
rm -rf "$work" && mkdir -p "$work"
if ! (cd "$work" && apt-get source "curl=$version" >&2); then
  # deb-src entries for the same mirrors this machine's apt already uses (copied from its deb
  # entries at run time, so no host is written here).
  echo "build-static-curl: no curl source package; adding deb-src entries for this machine's mirrors" >&2
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] && [ "$f" != /etc/apt/sources.list.d/amlops-deb-src.sources ] || continue
      awk 'BEGIN { RS = ""; ORS = "\n\n" } /(^|\n)Types:[^\n]*deb([^-]|$)/ {
             sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f"
    done
  } | as_root tee /etc/apt/sources.list.d/amlops-deb-src.sources >/dev/null
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && [ "$f" != /etc/apt/sources.list.d/amlops-deb-src.list ] || continue
    sed -n 's/^deb \(.*\)$/deb-src \1/p' "$f"
  done | as_root tee /etc/apt/sources.list.d/amlops-deb-src.list >/dev/null
  as_root apt-get update >&2
  (cd "$work" && apt-get source "curl=$version" >&2)
fi
srcdir=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'curl-*' | head -1)
cd "$srcdir"
./configure --prefix="$prefix" --disable-shared --enable-static --with-mbedtls --without-openssl --with-zlib --enable-ares \
  --without-libidn2 --without-libpsl --without-brotli --without-zstd --without-nghttp2 --without-librtmp \
  --without-libssh2 --without-gssapi --disable-ldap --disable-ldaps --disable-rtsp --disable-dict \
  --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smtp --disable-gopher \
  --disable-mqtt --disable-ntlm --disable-manual --disable-docs >"$work/configure.log" 2>&1 \
  || { tail -30 "$work/configure.log" >&2; exit 1; }
grep -q "resolver: *c-ares" "$work/configure.log" || grep -qi "resolver:.*c-ares" config.log \
  || echo "build-static-curl: WARNING: configure did not report the c-ares resolver" >&2
make -C lib -j"${JOBS:-2}" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
make -C lib install >/dev/null
make -C include install >/dev/null
rm -rf "$work"
echo "build-static-curl: built $prefix" >&2
echo "$prefix"
