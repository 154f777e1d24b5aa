#!/usr/bin/env bash
# The test command: every crate's tests, plus the core alone with no default features
# (the no-heap microcontroller build).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

cargo test --workspace
cargo test -p ambient-core --no-default-features
