#!/usr/bin/env bash
# The GPU run of seed 42 (issue 42, item 3), one segment per device call: the command make train
# runs on a GPU (tools/train_flags.py's flags, --cuda there), stopped by SIGTERM after SEGMENT_S
# seconds (it saves its checkpoint), then its run folder put under $OUT as the device tool returns
# files (at most 8, 16 MiB each): the checkpoint in 15 MiB parts, the files this segment wrote, its
# log. Here, `join` puts them back into the run folder that the next call carries. A run of
# several segments across calls and lent sessions, with the checkpoint kept outside git.
#
#   bash tools/gpu_train.sh start          # on the box, carry .whl: a new run in gpu_run/
#   bash tools/gpu_train.sh resume         # on the box, carry .whl, gpu_run/<run>/checkpoint.pt
#                                          #   and gpu_run/<run>/config.json: the run goes on
#   bash tools/gpu_train.sh join FILES_AT  # here: a call's returned files into gpu_run/<run>/
#
# SEGMENT_S (default 540) fits the tool's 600 s a command; ARGS adds flags (tests: a short run
# on the CPU); GPU_RUN names the folder of run folders (default gpu_run, git-ignored). `start`
# first runs the bench's levers (tools/bench_throughput.py $LEVERS, default --cuda --levers
# --variants: the env alone by threads, one update profiled, CUDA graphs; at most 2 minutes),
# their time taken from the segment's; LEVERS= (empty) leaves them out.
set -uo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
. tools/gpu_env.sh
[ "${1:-}" != join ] || [ -n "${PYTHON:-}" ] || [ ! -x .venv/bin/python ] || PY=.venv/bin/python  # here: make setup's
root=${GPU_RUN:-gpu_run}
out=${OUT:-/tmp/gpu_train_out}
part=15M
seconds=${SEGMENT_S:-540}

the_run() {  # the one run folder under $root
  local runs=("$root"/*/config.json)
  [ ${#runs[@]} -eq 1 ] || { echo "gpu_train: $root holds ${#runs[@]} runs, not one" >&2; return 2; }
  dirname "${runs[0]}"
}

segment() {
  local args=("$@") stamp flags code run dest
  gpu_packages || return 2
  stamp=$(mktemp) && touch "$stamp"
  flags=$($PY tools/train_flags.py -- "${args[@]}" ${ARGS:-}) || return 2
  echo "$PY train_a2c_pong.py $flags ${args[*]} ${ARGS:-} (for $seconds s)"
  # shellcheck disable=SC2086
  PYTHONUNBUFFERED=1 timeout -s TERM -k 120 "$seconds" $PY train_a2c_pong.py $flags "${args[@]}" ${ARGS:-}
  code=$?
  echo "gpu_train: the script ended with exit status $code (124 or 143: stopped by SIGTERM, as planned)"
  [ "$code" -eq 0 ] || [ "$code" -eq 124 ] || [ "$code" -eq 143 ] || return "$code"
  run=$(the_run) || return 2
  dest=$out/$(basename "$run")
  mkdir -p "$dest"
  split -b $part -d "$run/checkpoint.pt" "$dest/checkpoint.pt.part-"
  find "$run" -maxdepth 1 -type f -newer "$stamp" ! -name checkpoint.pt -exec cp {} "$dest/" \;
  rm -f "$stamp"
}

levers() {  # the bench's levers, once per run; the segment gets what they leave of its seconds
  local start=$SECONDS code args=${LEVERS---cuda --levers --variants}
  [ -n "$args" ] || return 0
  gpu_packages || return 2
  # shellcheck disable=SC2086
  timeout -k 10 120 $PY tools/bench_throughput.py $args  # a lever that hangs costs 2 minutes, not the run
  code=$?
  echo "gpu_train: the levers: exit status $code, $((SECONDS - start)) s"
  seconds=$((seconds - (SECONDS - start)))
}

case "${1:-}" in
  start)
    [ ! -d "$root" ] || [ -z "$(ls -A "$root")" ] || { echo "gpu_train: $root is not empty; resume it" >&2; exit 2; }
    mkdir -p "$out"
    { levers; segment --save-every 2 --runs-dir "$root" --name gpu-seed42; } 2>&1 | tee "$out/gpu_train.log"
    ;;
  resume)
    run=$(the_run) || exit 2
    mkdir -p "$out"
    segment --resume "$run" 2>&1 | tee "$out/gpu_train.log"
    ;;
  join)
    [ -d "${2:-}" ] || { echo "usage: $0 join FILES_AT (the folder a device call's files came back in)" >&2; exit 2; }
    for back in "$2"/*/; do
      parts=("$back"checkpoint.pt.part-*)
      [ ${#parts[@]} -gt 0 ] || continue
      run=$root/$(basename "$back")
      mkdir -p "$run"
      cat "${parts[@]}" > "$run/checkpoint.pt.tmp" && mv "$run/checkpoint.pt.tmp" "$run/checkpoint.pt"
      find "$back" -maxdepth 1 -type f ! -name 'checkpoint.pt.part-*' -exec cp {} "$run/" \;
      cp "$2/gpu_train.log" "$run/gpu_train-$(date -u +%Y%m%dT%H%M%SZ).log" 2>/dev/null
      $PY -c "import torch, sys; c = torch.load(sys.argv[1], map_location='cpu', weights_only=True); \
print(f'{sys.argv[1]}: frame {c[\"frame\"]:,}, {c[\"episodes\"]} games, {c[\"seconds\"]:.0f} s of training')" \
        "$run/checkpoint.pt" || exit 1
    done
    ;;
  *)
    echo "usage: $0 start | resume | join FILES_AT" >&2
    exit 2
    ;;
esac
