#!/bin/bash
# A sharded imgscan run with GNU parallel: one job per shard (0 .. N-1), on
# the hosts of an SSH login file (or locally), each scanning its shard of the
# shared archive into the shared report directory; then the merge, here.
#
#   imgscan-parallel.sh [-H HOSTFILE | -S LOGINS] [-n N] [-j JOBS] [ARCHIVE [OUT]]
#
#   -H HOSTFILE  GNU parallel's --sshloginfile: one SSH login a line
#                ("host", "user@host", "2/host" for 2 shards at once there;
#                ":" is this machine); default $IMGSCAN_HOSTS
#   -S LOGINS    GNU parallel's -S: logins separated by commas; "-S :" runs
#                every shard on this machine, without SSH
#                With neither -H nor -S (and no IMGSCAN_HOSTS) every shard
#                runs on this machine too: the local mode.
#   -n N         the number of shards (default $IMGSCAN_SHARDS, else 4)
#   -j JOBS      shards at once on each host (default 1: a shard already uses
#                every core; parallel's -j, which a HOSTFILE's "K/host" sets
#                per host)
#   ARCHIVE      the archive root (default $IMGSCAN_ARCHIVE): the same path
#                on every host and here (a shared mount); made absolute
#   OUT          the report directory (default $IMGSCAN_OUT, else
#                ./imgscan-YYYYmmdd-HHMMSS): the same path on every host,
#                writable by all
#
# Also from the environment: IMGSCAN (the binary, default imgscan: on the
# hosts' PATH, or a path valid on every host), IMGSCAN_SHARD_BY (path or
# size), IMGSCAN_STATE_DIR (each shard's catalog in DIR/shard-K-of-N.sqlite;
# the directory must exist where the shard runs), IMGSCAN_ARGS (more scan
# options, split at spaces), IMGSCAN_MERGED (default OUT/merged.json).
#
# Reports: OUT/shard-K.json, then OUT/merged.json; parallel's job log in
# OUT/logs/parallel.joblog.  A shard whose imgscan exits 0 (clean), 1
# (findings) or 2 (errors listed in it) with its report written has done
# its part; any other shard fails the run (exit 2, no merge).  Exit status:
# the merge's (0 clean, 1 findings, 2 errors; 65 a refused merge), as a
# single `imgscan scan` of the archive would give; 64 for a usage error.

set -u

usage() {
    echo "usage: imgscan-parallel.sh [-H HOSTFILE | -S LOGINS] [-n N] [-j JOBS] [ARCHIVE [OUT]]" >&2
    exit 64
}

hostfile=${IMGSCAN_HOSTS:-}
logins=""
n=${IMGSCAN_SHARDS:-4}
jobs=1
while getopts "H:S:n:j:h" opt; do
    case $opt in
    H) hostfile=$OPTARG ;;
    S) logins=$OPTARG ;;
    n) n=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -le 2 ] || usage
archive=${1:-${IMGSCAN_ARCHIVE:-}}
out=${2:-${IMGSCAN_OUT:-imgscan-$(date +%Y%m%d-%H%M%S)}}
[ -n "$archive" ] || usage
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "imgscan-parallel: N must be a positive number, not '$n'" >&2; exit 64; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "imgscan-parallel: JOBS must be a positive number" >&2; exit 64; }
command -v parallel >/dev/null || { echo "imgscan-parallel: GNU parallel is not installed" >&2; exit 2; }

imgscan=${IMGSCAN:-imgscan}
archive=$(realpath -m -- "$archive")
# A wrong path would give N reports of one walk error each (exit status 2).
[ -e "$archive" ] || { echo "imgscan-parallel: no archive at $archive (the same path here and on every host)" >&2; exit 64; }
# parallel replaces {} (and {.}, {/}, ...) in every word of the command.
case "$imgscan$archive$out${IMGSCAN_STATE_DIR:-}${IMGSCAN_ARGS:-}" in
*[{}]*) echo "imgscan-parallel: a { or } in IMGSCAN, the archive, OUT, IMGSCAN_STATE_DIR or IMGSCAN_ARGS would be taken by GNU parallel as a replacement string" >&2; exit 64 ;;
esac
mkdir -p "$out/logs" || exit 2
out=$(cd "$out" && pwd) || exit 2
merged=${IMGSCAN_MERGED:-$out/merged.json}
read -r -a extra <<<"${IMGSCAN_ARGS:-}"
state=()
[ -n "${IMGSCAN_STATE_DIR:-}" ] && state=(--state "$IMGSCAN_STATE_DIR/shard-{}-of-$n.sqlite")

where=()
if [ -n "$logins" ]; then
    where=(-S "$logins")
elif [ -n "$hostfile" ]; then
    [ -r "$hostfile" ] || { echo "imgscan-parallel: cannot read host file $hostfile" >&2; exit 64; }
    where=(--sshloginfile "$hostfile")
fi

shards=()
for ((k = 0; k < n; k++)); do
    shards+=("$k")
    rm -f "$out/shard-$k.json" # an earlier run's must not pass for this one's
done
joblog="$out/logs/parallel.joblog"
rm -f "$joblog"

# -q quotes each word for the (remote) shell; {} is the shard number.
# parallel's own exit status counts imgscan's 1 (findings) as a failure:
# the job log's exit values are read instead.
parallel --will-cite --joblog "$joblog" -j "$jobs" ${where[@]+"${where[@]}"} --tag --tagstring "shard {}" -q \
    "$imgscan" scan -q --shard "{}/$n" --shard-by "${IMGSCAN_SHARD_BY:-path}" ${state[@]+"${state[@]}"} ${extra[@]+"${extra[@]}"} \
    -o "${out//%/%%}/shard-{}.json" "$archive" ::: "${shards[@]}"

failed=0
for k in "${shards[@]}"; do
    # job log columns: Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
    read -r host rc sig < <(awk -F'\t' -v seq=$((k + 1)) 'NR > 1 && $1 == seq { print $2, $7, $8 }' "$joblog")
    report="$out/shard-$k.json"
    if [ -z "${rc:-}" ]; then
        echo "imgscan-parallel: shard $k/$n did not run" >&2
        failed=1
    elif [ "$sig" != 0 ] || [ "$rc" -gt 2 ]; then
        echo "imgscan-parallel: shard $k/$n on $host failed: exit status $rc, signal $sig" >&2
        failed=1
    elif [ ! -s "$report" ]; then
        # e.g. a remote shell that ran nothing yet exited 0
        echo "imgscan-parallel: shard $k/$n on $host exited $rc without writing $report" >&2
        failed=1
    fi
    unset host rc sig
done
if [ "$failed" != 0 ]; then
    echo "imgscan-parallel: not merged; job log: $joblog" >&2
    exit 2
fi

reports=()
for k in "${shards[@]}"; do
    reports+=("$out/shard-$k.json")
done
"$imgscan" merge -o "${merged//%/%%}" "${reports[@]}" # -o expands strftime fields
rc=$?
echo "imgscan-parallel: merge of $n shards: exit status $rc, report $merged" >&2
exit "$rc"
