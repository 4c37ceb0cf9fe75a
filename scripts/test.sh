#!/usr/bin/env bash
# Runs every test of the solution after making sure the machine has what they need.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/setup.sh"
cd "$repo"
dotnet test Acp.sln -c Release --nologo "$@"
