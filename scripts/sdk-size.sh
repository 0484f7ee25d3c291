#!/usr/bin/env bash
# Measure the browser SDK as served (wasm + JS glue, raw and gzipped), and
# what wasm-opt -Oz (npm `binaryen`; Debian's is too old for Chromium) makes
# of the wasm. Builds the host first so the numbers match the source.
#   scripts/sdk-size.sh            # prints a Markdown table
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pushwire-target}"
cargo build -q -p pushwire-host
out=$(dirname "$(ls -t "$CARGO_TARGET_DIR"/debug/build/pushwire-host-*/out/sdk/pushwire_client_bg.wasm | head -1)")

tools="$HOME/.cache/pushwire-npm"
if [ ! -x "$tools/node_modules/.bin/wasm-opt" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-save --no-audit --no-fund binaryen@132 >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$tools/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$out/pushwire_client_bg.wasm" -o "$work/opt.wasm"

size() { stat -c %s "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
row() { printf '| %s | %s | %s |\n' "$1" "$(kib "$(size "$2")")" "$(kib "$(gz "$2")")"; }

echo "| file | raw | gzip -9 |"
echo "| --- | --- | --- |"
row "pushwire_client_bg.wasm (as built, as served)" "$out/pushwire_client_bg.wasm"
row "pushwire_client_bg.wasm (wasm-opt -Oz)" "$work/opt.wasm"
row "pushwire_client.js (as served)" "$out/pushwire_client.js"
cat "$out/pushwire_client_bg.wasm" "$out/pushwire_client.js" > "$work/served"
row "**total as served (wasm + js)**" "$work/served"
cat "$work/opt.wasm" "$out/pushwire_client.js" > "$work/total"
row "total after wasm-opt (wasm + js)" "$work/total"
