#!/usr/bin/env bash
# Adds every public symbol the build reports as undeclared (RS0016) to that project's PublicAPI.Unshipped.txt.
# Use it after deliberately adding public API; review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build "${1:-GrayRelease.sln}" 2>&1 \
  | grep -o "error RS0016: Symbol '.*' is not part of the declared public API.*\[.*\.csproj" \
  | sed -E "s/error RS0016: Symbol '(.*)' is not part of the declared public API.*\[(.*)\.csproj/\2|\1/" \
  | sort -u \
  | while IFS='|' read -r project symbol; do
      file="$(dirname "$project")/PublicAPI.Unshipped.txt"
      grep -qxF "$symbol" "$file" || echo "$symbol" >> "$file"
      echo "added to $file: $symbol"
    done
