#!/usr/bin/env bash
# tests/package/build-deb.sh OUTDIR: builds the mailproof .deb from a clean
# copy of this checkout (the working tree as it is, uncommitted files
# included, ignored ones not) with `dpkg-buildpackage -us -uc -b`, and prints
# the paths of the .deb and .changes files it leaves in OUTDIR.
#
# Never builds in the checkout itself: an in-tree configure would break the
# VPATH builds in build/ and build-asan/.  DEB_BUILD_OPTIONS is passed on
# (nocheck skips the unit tests, parallel=N).  Needs debhelper and the
# Build-Depends of debian/control: `apt-get build-dep ./` or
# `dpkg-checkbuilddeps` says what is missing.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ $# = 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)

version=$(sed -n 's/^AC_INIT(\[mailproof\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
debversion=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
if [ "$version" != "${debversion%%-*}" ]; then
  echo "build-deb.sh: configure.ac says $version, debian/changelog $debversion: add a changelog entry (dch -v $version)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/mailproof-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/mailproof-$version"
mkdir -p "$src"
# tracked files and untracked ones that are not ignored, as they are now
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$src"

export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$(nproc)}"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  echo "build-deb.sh: dpkg-buildpackage failed" >&2
  exit 1
}
cp "$work/build.log" "$out/build.log"
arch=$(dpkg --print-architecture)
for f in "$work"/mailproof_"$debversion"_"$arch".changes "$work"/mailproof_"$debversion"_"$arch".buildinfo \
         "$work"/*.deb; do
  [ -e "$f" ] || continue
  cp "$f" "$out/"
  case "$f" in *.deb|*.changes) echo "$out/$(basename "$f")" ;; esac
done
