#!/usr/bin/env bash
# The main job on the embedded default. For now: the umbrella's self-check.
set -euo pipefail
bin="${1:-build/bin}"
"$bin/amlops" --version
"$bin/amlops" doctor
