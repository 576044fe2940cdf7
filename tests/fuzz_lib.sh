# shellcheck shell=sh
# fuzz_lib.sh - what tests/fuzz_ci.sh and tests/fuzz_report_ci.sh do alike
# with a libFuzzer target: replay the regression inputs, then fuzz for a
# bounded time and name what was found.  Sourced (POSIX sh), not run.

# fuzz_replay NAME TARGET REGDIR OUT: each file under REGDIR (but *.md)
# runs once.  Returns 1 when one fails again (its output shown).
fuzz_replay() {
	regs=$(find "$3" -type f ! -name '*.md' 2>/dev/null | sort)
	[ -n "$regs" ] || return 0
	# shellcheck disable=SC2086
	"$2" -error_exitcode=1 $regs >"$4/regressions.log" 2>&1 || {
		cat "$4/regressions.log"
		echo "$1: a regression input fails again (see above)"
		return 1
	}
	echo "$1: $(echo "$regs" | wc -l) regression inputs replayed"
}

# fuzz_for NAME TARGET OUT SECS REGDIR [LIBFUZZER_OPTION...]: fuzz from
# OUT/corpus and OUT/seeds.  A finding leaves crash-*, leak-*, timeout-* or
# oom-* in OUT: named, with how to keep it under REGDIR; returns 1.
fuzz_for() {
	name=$1 target=$2 dir=$3 secs=$4 regdir=$5
	shift 5
	echo "$name: fuzzing for $secs s"
	set +e
	"$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 \
		-artifact_prefix="$dir/" -print_final_stats=1 "$@" "$dir/corpus" "$dir/seeds" >"$dir/fuzz.log" 2>&1
	rc=$?
	set -e
	found=$(ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* 2>/dev/null || true)
	if [ $rc -ne 0 ] || [ -n "$found" ]; then
		tail -n 40 "$dir/fuzz.log"
		echo "$name: FOUND (exit $rc): ${found:-see $dir/fuzz.log}"
		echo "$name: replay with $target FILE; once fixed, commit FILE under $regdir/"
		return 1
	fi
	grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))' \
		"$dir/fuzz.log" || true
	echo "$name: nothing found in $secs s"
}
