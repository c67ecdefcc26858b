#!/usr/bin/env bash
# Run one command inside the built workspace: tools/in_workspace.sh python -m pytest
set -eo pipefail
# shellcheck disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/workspace_env.sh"
exec "$@"
