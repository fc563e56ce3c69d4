#!/usr/bin/env bash
# Builds Keyward's container images with buildah, by target name:
#
#   deploy/build_image.sh [options] TARGET...      TARGET = a folder of deploy/images/ (keyward, ...)
#   deploy/build_image.sh --list
#
# Each target is deploy/images/TARGET/Containerfile, a multi-stage build whose context is the
# repository (filtered by .containerignore) and whose FROM lines name ordinary public images.
# The image is tagged localhost/keyward/TARGET:VERSION and :latest (VERSION from package.json).
#
# Options:
#   --local-bases       first build stand-ins for the public base images that are not in the
#                       storage yet, from Debian packages (deploy/local-bases.sh), for machines
#                       that reach no registry
#   --refresh-bases     rebuild the cached stand-ins (implies --local-bases)
#   --root DIR          buildah storage root (default: buildah's own); --runroot DIR likewise
#   --driver NAME       storage driver (default vfs: works as root without overlay support)
#   --isolation TYPE    buildah isolation (default chroot, or $BUILDAH_ISOLATION)
#   --tag-prefix P      image name prefix (default localhost/keyward)
#   --ca-file FILE      CA bundle the build trusts for the npm registry (a TLS-inspecting proxy),
#                       passed as the build secret `ca`; default $NODE_EXTRA_CA_CERTS, else npm's
#                       `cafile` setting, else none
#   -q, --quiet         only errors and the final line per image
#
# Prints, per image, its name and uncompressed size. Needs root (or a rootless buildah setup).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES_DIR="$REPO_ROOT/deploy/images"
LOCAL=0 REFRESH_BASES=0 QUIET=0
ROOT_OPTS=() DRIVER=vfs ISOLATION=${BUILDAH_ISOLATION:-chroot} PREFIX=localhost/keyward CA_FILE=
TARGETS=()

say() { [ "$QUIET" = 1 ] || echo "build_image: $*" >&2; }
die() { echo "build_image: $*" >&2; exit 1; }
bh() { buildah "${ROOT_OPTS[@]}" --storage-driver "$DRIVER" "$@"; }
usage() { sed -n '2,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
  case $1 in
    --local-bases) LOCAL=1 ;;
    --refresh-bases) LOCAL=1 REFRESH_BASES=1 ;;
    --root | --runroot) [ $# -ge 2 ] || die "$1 needs a directory"; ROOT_OPTS+=("$1" "$2"); shift ;;
    --driver) [ $# -ge 2 ] || die "$1 needs a name"; DRIVER=$2; shift ;;
    --isolation) [ $# -ge 2 ] || die "$1 needs a type"; ISOLATION=$2; shift ;;
    --tag-prefix) [ $# -ge 2 ] || die "$1 needs a prefix"; PREFIX=$2; shift ;;
    --ca-file) [ $# -ge 2 ] || die "$1 needs a file"; CA_FILE=$2; shift ;;
    -q | --quiet) QUIET=1 ;;
    --list) for d in "$IMAGES_DIR"/*/Containerfile; do basename "$(dirname "$d")"; done; exit 0 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) TARGETS+=("$1") ;;
  esac
  shift
done
[ ${#TARGETS[@]} -gt 0 ] || { usage >&2; exit 2; }
command -v buildah >/dev/null || die "buildah is not installed (bash scripts/system-deps.sh)"
# shellcheck source=deploy/local-bases.sh
. "$REPO_ROOT/deploy/local-bases.sh"

if [ -z "$CA_FILE" ]; then
  CA_FILE=${NODE_EXTRA_CA_CERTS:-}
  if [ -z "$CA_FILE" ] && command -v npm >/dev/null; then
    CA_FILE=$(npm config get cafile 2>/dev/null || true)
    case $CA_FILE in null | undefined) CA_FILE= ;; esac
  fi
fi
[ -z "$CA_FILE" ] || [ -r "$CA_FILE" ] || die "CA file $CA_FILE cannot be read"
# The secret is always defined (an empty file when there is no CA to add), so that the
# Containerfile's secret mount never depends on the host.
SECRETS_DIR=$(mktemp -d)
trap 'rm -rf "$SECRETS_DIR"' EXIT
if [ -n "$CA_FILE" ]; then cp "$CA_FILE" "$SECRETS_DIR/ca"; else : >"$SECRETS_DIR/ca"; fi

VERSION=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$REPO_ROOT/packages/cli/package.json")
[ -n "$VERSION" ] || die "cannot read the version from packages/cli/package.json"

# The public images a Containerfile starts from: FROM lines, less its own stages and scratch.
base_images() {
  awk 'toupper($1) == "FROM" {
         img = $2; for (i = 3; i <= NF; i++) if (toupper($i) == "AS") stage[tolower($(i + 1))] = 1
         if (!(tolower(img) in stage) && img != "scratch") print img
       }' "$1" | sort -u
}

has_image() { bh inspect --type image "$1" >/dev/null 2>&1; }

for target in "${TARGETS[@]}"; do
  file="$IMAGES_DIR/$target/Containerfile"
  [ -f "$file" ] || die "no image target $target (deploy/build_image.sh --list shows the targets)"
  for base in $(base_images "$file"); do
    if [ "$LOCAL" = 1 ] && { [ "$REFRESH_BASES" = 1 ] || ! has_image "$base"; }; then
      build_local_base "$base"
    elif ! has_image "$base"; then
      say "$base is not in the storage: buildah will pull it (use --local-bases where no registry is reachable)"
    fi
  done
  image="$PREFIX/$target"
  say "building $image:$VERSION from deploy/images/$target/Containerfile"
  args=(build --isolation "$ISOLATION" --pull=false -f "$file" -t "$image:$VERSION" -t "$image:latest")
  args+=(--label "org.opencontainers.image.version=$VERSION" --label "org.opencontainers.image.title=$target")
  args+=(--secret "id=ca,src=$SECRETS_DIR/ca")
  [ "$QUIET" = 1 ] && args+=(--quiet)
  # The base images are local (tagged stand-ins, or pulled above); the build itself pulls nothing.
  if ! bh "${args[@]}" "$REPO_ROOT" >&2; then die "building $target failed"; fi
  size=$(bh images --format '{{.Size}}' "$image:$VERSION")
  size=${size%%$'\n'*}
  echo "$image:$VERSION $size"
done
