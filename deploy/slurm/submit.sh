#!/bin/bash
# Submits a sharded imgscan run to Slurm: a job array of N shard tasks
# (imgscan-shard.sbatch, --array=0-(N-1)), then the merge
# (imgscan-merge.sbatch) with --dependency=afterok on the whole array.
#
#   submit.sh [ARCHIVE [OUT [N]]]
#
# Arguments, else the environment, else the defaults:
#   ARCHIVE  IMGSCAN_ARCHIVE  the archive root: the same path on every node
#                             and here (required)
#   OUT      IMGSCAN_OUT      the report directory, on storage every node
#                             writes (default: ./imgscan-YYYYmmdd-HHMMSS)
#   N        IMGSCAN_SHARDS   the number of shards (default 4)
# and IMGSCAN (the binary, default imgscan on PATH), IMGSCAN_SHARD_BY,
# IMGSCAN_STATE_DIR, IMGSCAN_ARGS (see imgscan-shard.sbatch), and
# IMGSCAN_SBATCH_ARGS: more sbatch options for both jobs, split at spaces
# (e.g. "--partition=batch --account=archive --time=8:00:00").
#
# Reports: OUT/shard-0.json ... OUT/shard-(N-1).json, then OUT/merged.json;
# each job's output in OUT/logs/.  Prints the two job ids.  Exit status 0
# when both jobs are submitted.

set -u

die() { # die STATUS MESSAGE
    echo "submit.sh: $2" >&2
    exit "$1"
}

archive=${1:-${IMGSCAN_ARCHIVE:-}}
out=${2:-${IMGSCAN_OUT:-imgscan-$(date +%Y%m%d-%H%M%S)}}
n=${3:-${IMGSCAN_SHARDS:-4}}
[ -n "$archive" ] || die 64 "usage: submit.sh ARCHIVE [OUT [N]] (or set IMGSCAN_ARCHIVE)"
[[ $n =~ ^[1-9][0-9]*$ ]] || die 64 "N must be a positive number, not '$n'"
command -v sbatch >/dev/null || die 2 "sbatch not found"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || exit 2
# Absolute paths: the jobs may start elsewhere.
archive=$(realpath -m -- "$archive")
# A wrong path would give N reports of one walk error each (exit status 2).
[ -e "$archive" ] || die 64 "no archive at $archive (it must be the same path here and on every node)"
mkdir -p "$out/logs" || die 2 "cannot create $out/logs"
out=$(cd "$out" && pwd) || exit 2
if [ -n "${IMGSCAN:-}" ] && [[ $IMGSCAN == */* ]]; then
    IMGSCAN=$(realpath -m -- "$IMGSCAN")
    export IMGSCAN
fi
export IMGSCAN_ARCHIVE=$archive IMGSCAN_OUT=$out IMGSCAN_SHARDS=$n
read -r -a site <<<"${IMGSCAN_SBATCH_ARGS:-}"

# --export=ALL: the IMGSCAN* variables above reach the jobs (no values on
# sbatch's command line, where a comma would split them).
array=$(sbatch --parsable --export=ALL ${site[@]+"${site[@]}"} --array="0-$((n - 1))" \
    --output="$out/logs/shard-%A_%a.out" "$here/imgscan-shard.sbatch") ||
    die 2 "sbatch of the shard array failed"
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL ${site[@]+"${site[@]}"} --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --output="$out/logs/merge-%j.out" "$here/imgscan-merge.sbatch") || {
    scancel "$array"
    die 2 "sbatch of the merge failed; shard array $array cancelled"
}
merge=${merge%%;*}
echo "shards job $array (array 0-$((n - 1))): $out/shard-K.json"
echo "merge job $merge (afterok:$array): ${IMGSCAN_MERGED:-$out/merged.json}"
