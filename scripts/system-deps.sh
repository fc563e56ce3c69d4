#!/usr/bin/env bash
# Installs the Debian packages the tests use as real parts and independent cross-checks:
# swtpm (a real TPM 2.0), tpm2-tools (tpm2_quote / tpm2_checkquote), zbar-tools (zbarimg) and
# librsvg2-bin (rsvg-convert: otpqr's SVG QR codes rendered and decoded),
# headless Chromium (renders the HTML attestation report), zsh (its completion script),
# script(1) (a pseudo-terminal for the CLI's colour and progress tests), buildah and debootstrap
# (container images and their local base stand-ins, deploy/), binutils (strip, for the single
# executables), systemd (systemd-analyze, for the unit in deploy/systemd) and python3-jinja2
# (renders the Gramine manifest template as gramine-manifest does), python3-jwcrypto (a second,
# independent JOSE implementation that opens the challenge path's JWEs), docker-registry and skopeo
# (a real OCI registry on loopback, and an independent client that pushes images to it and fetches
# back the cosign signatures `keyward signer sign-image` attaches), curl, jq and xxd (docs/http.md's
# flow, run as written, and the challenge listener's HTTP/1.1 and HTTP/2 tests).
# Does nothing when they are all present; needs root (or sudo) otherwise.
set -euo pipefail
need=()
command -v swtpm >/dev/null 2>&1 || need+=(swtpm swtpm-tools)
command -v tpm2_checkquote >/dev/null 2>&1 || need+=(tpm2-tools)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
command -v rsvg-convert >/dev/null 2>&1 || need+=(librsvg2-bin)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v script >/dev/null 2>&1 || need+=(bsdutils)
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v strip >/dev/null 2>&1 || need+=(binutils)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
/usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1 || need+=(python3-jinja2)
/usr/bin/python3 -c 'import jwcrypto.jwe' >/dev/null 2>&1 || need+=(python3-jwcrypto)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v xxd >/dev/null 2>&1 || need+=(xxd)
[ ${#need[@]} -eq 0 ] && exit 0
echo "system-deps: installing ${need[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Another apt run on the machine (another engineer's, or CI's) holds the lock for a while.
apt=(apt-get -o DPkg::Lock::Timeout=600)
$sudo "${apt[@]}" update -qq >&2
$sudo "${apt[@]}" install -y -qq --no-install-recommends "${need[@]}" >&2
