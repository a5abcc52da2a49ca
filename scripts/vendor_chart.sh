#!/usr/bin/env bash
# Re-create the charting library the web timeline page ships (tariff_timeline/api/static/vendor/)
# from the npm registry, at the pinned version, checking the tarball's integrity hash.
#   scripts/vendor_chart.sh        (or: make vendor)
# The page never fetches anything at run time: these copied files are committed and shipped as
# package data. Change VERSION and INTEGRITY together (npm view uplot@X dist.integrity).
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=uplot
VERSION=1.6.32
INTEGRITY="sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="
DEST=tariff_timeline/api/static/vendor/uplot

work=$(mktemp -d /tmp/tariffs-vendor.XXXXXX)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "$NAME@$VERSION" >/dev/null)
tarball="$work/$NAME-$VERSION.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "vendor_chart.sh: $NAME@$VERSION integrity $got, expected $INTEGRITY" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work"

mkdir -p "$DEST"
cp "$work/package/dist/uPlot.iife.min.js" "$DEST/uPlot.iife.min.js"
cp "$work/package/dist/uPlot.min.css" "$DEST/uPlot.min.css"
cp "$work/package/LICENSE" "$DEST/LICENSE"
{
  echo "$NAME $VERSION (npm), license MIT"
  echo "integrity $INTEGRITY"
  echo "files: dist/uPlot.iife.min.js, dist/uPlot.min.css, LICENSE"
  echo "re-create: scripts/vendor_chart.sh (make vendor)"
} > "$DEST/VERSION"
echo "vendor_chart.sh: $NAME $VERSION -> $DEST" >&2
