# Shared by scripts/*: where the Python 3.14 environment lives and how to reach it.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${ENERGY_ANOMALY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/energy-anomaly}
ROOT=$CACHE/py314-root
ROOT_VENVS=/opt/venvs

# Print a python3.14 on PATH that is at least 3.14.2, or fail.
native_python() {
  local py
  py=$(command -v python3.14) || return 1
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 14, 2))' 2>/dev/null || return 1
  echo "$py"
}

# A venv is keyed by the test requirements, so clones with the same requirements share one.
requirements_hash() {
  sha256sum < "$REPO/requirements_test.txt" | cut -c1-12
}

root_venv() {
  echo "$ROOT_VENVS/$(requirements_hash)"
}

# The newest pyTibber the manifest allows, installed apart (requirements_pytibber_next.txt) so the
# tests that use pyTibber can run again with it first on PYTHONPATH. Printed as scripts/run sees it.
pytibber_overlay() {
  if native_python >/dev/null; then
    echo "$REPO/.venv/overlay-pytibber"
  else
    echo "$(root_venv)/overlay-pytibber"
  fi
}

overlay_hash() {
  sha256sum < "$REPO/requirements_pytibber_next.txt" | cut -c1-12
}
