#!/usr/bin/env bash
# Whether two trees of the script train alike: the default command's first $FRAMES frames (seed 42),
# by default and, where this CPU computes in bfloat16 natively, with --bf16, run from each tree; their
# scalars (tools/scalars.py: every one but the wall-clock fps) compared byte for byte with cmp.
#
#   bash tools/same_scalars.sh 699a80f HEAD     # a commit each, or . for the working tree
#
# Prints "same" or "differ" per mode and exits 0 only if every mode is the same. FRAMES (60000),
# PYTHON (.venv/bin/python), MODES ("default bf16", or "default" on a CPU without native bf16), ARGS
# (more flags for every run, as --backend ptan) and KEEP (a folder for the runs and the JSON dumps;
# else a temporary one, removed) may be set. The scalars do not depend on the machine's load; run it
# alone only where its time matters.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: bash tools/same_scalars.sh BEFORE AFTER (commits, or . for the working tree)" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
root=$PWD
py=$(realpath -s "${PYTHON:-.venv/bin/python}")  # -s: a venv's python is a link to the base one
frames=${FRAMES:-60000}
work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${KEEP:-}" ] || trap 'git -C "$root" worktree prune; rm -rf "$work"' EXIT

tree() {  # the folder that holds the script of $1: a detached worktree of a commit, or this one
    if [ "$1" = . ]; then echo "$root"; return; fi
    local dir="$work/tree-$2"
    rm -rf "$dir"
    git -C "$root" worktree prune
    git -C "$root" worktree add -q --detach "$dir" "$1" >&2 || return 1
    echo "$dir"
}

declare -A dirs
dirs[before]=$(tree "$1" before) || exit 2  # not a commit: an error, not a difference
dirs[after]=$(tree "$2" after) || exit 2
if [ -z "${MODES:-}" ]; then
    MODES=default
    if "$py" -c "import sys, train_a2c_pong as t; sys.exit(not t.cpu_has_bf16())" 2>/dev/null; then
        MODES="default bf16"
    fi
fi
read -r -a modes <<< "$MODES"
summary='import json, sys; d = json.load(open(sys.argv[1]))
print(len(d), "tags,", len(d.get("reward", [])), "games")'
status=0
for mode in "${modes[@]}"; do
    read -r -a flags <<< "${ARGS:-}"
    flags+=(--max-frames "$frames" --name s)
    [ "$mode" = bf16 ] && flags+=(--bf16)
    for side in before after; do
        rm -rf "$work/runs-$side-$mode"
        (cd "${dirs[$side]}" && "$py" train_a2c_pong.py "${flags[@]}" --runs-dir "$work/runs-$side-$mode" \
            > "$work/$side-$mode.log" 2>&1) || {
            echo "error: the $side run ($mode) failed:" >&2
            tail -3 "$work/$side-$mode.log" >&2
            exit 2
        }
        "$py" tools/scalars.py "$work/runs-$side-$mode"/*-s > "$work/$side-$mode.json"
    done
    if cmp -s "$work/before-$mode.json" "$work/after-$mode.json"; then
        echo "same   $mode: $1 and $2, $frames frames, $("$py" -c "$summary" "$work/after-$mode.json")"
    else
        first=$(cmp "$work/before-$mode.json" "$work/after-$mode.json" | head -1 || true)
        echo "differ $mode: $1 and $2, $frames frames (cmp: $first)"
        status=1
    fi
done
for dir in "${dirs[@]}"; do
    [ "$dir" = "$root" ] || git -C "$root" worktree remove --force "$dir"
done
exit $status
