#!/usr/bin/env bash
# Builds Trellis' Debian package: trellisd, trellis, trellis-tpm and
# trellis-agent, their systemd units and configuration files, and the
# browser explorer's pages, into dist/.
#
#   scripts/package.sh [--version=V] [--out=DIR] [--no-build]
#                      [--compression=xz|zstd|gzip|none]
#
# The version defaults to 0.<commits on HEAD>+g<commit> (it grows with every
# commit, so a newer build upgrades an older one). Depends is computed from
# the binaries' shared libraries (dpkg-shlibdeps). Prints the .deb's path.
set -euo pipefail
cd "$(dirname "$0")/.."

version="" out=dist build=1 compression=xz
for arg in "$@"; do
  case "$arg" in
    --version=*) version=${arg#--version=} ;;
    --out=*) out=${arg#--out=} ;;
    --no-build) build=0 ;;
    --compression=*) compression=${arg#--compression=} ;;
    *) echo "usage: scripts/package.sh [--version=V] [--out=DIR] [--no-build]" \
         "[--compression=xz|zstd|gzip|none]" >&2
       exit 2 ;;
  esac
done
if [ -z "$version" ]; then
  version="0.$(git rev-list --count HEAD)+g$(git rev-parse --short=10 HEAD)"
fi
if ! [[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then
  echo "package: \"$version\" is not a Debian version" >&2
  exit 2
fi

binaries=(trellisd trellis trellis-tpm trellis-agent)
if [ "$build" = 1 ]; then
  bazel build "${binaries[@]/#///cmd/}" >&2
  bash scripts/build_explorer.sh >&2
fi
if [ ! -f explorer/dist/index.html ]; then
  echo "package: explorer/dist is missing: run scripts/build_explorer.sh" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" \
  "$root/etc/trellis" "$root/usr/share/doc/trellis"
for b in "${binaries[@]}"; do
  install -m 0755 "bazel-bin/cmd/$b/$b" "$root/usr/bin/$b"
  strip --strip-unneeded "$root/usr/bin/$b"
done
install -m 0644 packaging/systemd/*.service "$root/lib/systemd/system/"
install -m 0644 packaging/etc/* "$root/etc/trellis/"
install -d "$root/etc/logrotate.d"
install -m 0644 packaging/logrotate/trellis "$root/etc/logrotate.d/trellis"
install -d "$root/usr/share/trellis/explorer/assets"
install -m 0644 explorer/dist/index.html "$root/usr/share/trellis/explorer/"
install -m 0644 explorer/dist/assets/* "$root/usr/share/trellis/explorer/assets/"
install -m 0644 README.md "$root/usr/share/doc/trellis/README.md"
gzip -9n "$root/usr/share/doc/trellis/README.md"
install -m 0755 packaging/debian/postinst packaging/debian/prerm \
  packaging/debian/postrm "$root/DEBIAN/"
(cd "$root" && find etc -type f | sed 's|^|/|' | sort) >"$root/DEBIAN/conffiles"

# dpkg-shlibdeps reads the package's name from a debian/control.
mkdir -p "$stage/src/debian"
printf 'Source: trellis\n\nPackage: trellis\nArchitecture: any\n' \
  >"$stage/src/debian/control"
shlibs=$(cd "$stage/src" && dpkg-shlibdeps -O --warnings=0 \
  "${binaries[@]/#/-e$root/usr/bin/}" | sed -n 's/^shlibs:Depends=//p')
if [ -z "$shlibs" ]; then
  echo "package: dpkg-shlibdeps found no libraries" >&2
  exit 1
fi
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" \
  -e "s/@INSTALLED_SIZE@/$installed_size/" -e "s/@SHLIBS_DEPENDS@/$shlibs/" \
  packaging/debian/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/trellis_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$deb" >&2
echo "$deb"
