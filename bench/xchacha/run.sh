#!/usr/bin/env bash
# Builds bench/xchacha twice (the crate's auto-selected backends, then its soft backends) in
# target dirs under ~/.cache/aico-data and runs both.
set -euo pipefail
cd "$(dirname "$0")"
base="${HOME}/.cache/aico-data/bench-xchacha"
CARGO_TARGET_DIR="$base/auto" cargo run --release -q
RUSTFLAGS='--cfg chacha20_force_soft --cfg poly1305_force_soft' CARGO_TARGET_DIR="$base/soft" cargo run --release -q
