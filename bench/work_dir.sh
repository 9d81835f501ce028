# Sourced by benchmark scripts: a temporary work directory and the
# processes they start (append their PIDs to `pids`), both gone at exit.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
