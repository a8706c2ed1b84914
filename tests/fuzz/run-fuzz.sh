#!/bin/bash
# Run each libFuzzer target for SECONDS seconds on a scratch copy of its seed
# corpus (tests/fuzz/corpus/<target>/), print executions and coverage per
# target, and fail if any target crashed.  Crash inputs are kept in
# build/fuzz/artifacts/.
#
#   tests/fuzz/run-fuzz.sh SECONDS build/fuzz/fuzz_init build/fuzz/fuzz_frame
set -u
if [[ $# -lt 2 || ! $1 =~ ^[0-9]+$ ]]; then
	echo "usage: $0 SECONDS FUZZ_BINARY..." >&2
	exit 2
fi
secs=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
artifacts=build/fuzz/artifacts
mkdir -p "$artifacts"
failed=0
summary=()
for bin in "$@"; do
	name=$(basename "$bin")
	seeds=$here/corpus/$name
	work=$(mktemp -d)
	log=$work/log
	mkdir "$work/corpus"
	[[ -d $seeds ]] && cp "$seeds"/* "$work/corpus/" 2>/dev/null
	echo "=== fuzz: $name for ${secs}s"
	"$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
		"$work/corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	units=$(find "$work/corpus" -type f | wc -l)
	if [[ $rc != 0 ]]; then
		failed=1
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
		summary+=("$name: CRASH (rc=$rc) after ${execs:-?} execs; see $artifacts/")
	else
		summary+=("$name: ${execs:-?} execs, ${rate:-?} exec/s, ${cov:-cov: ?}, corpus $units, ${secs}s")
	fi
	rm -rf "$work"
done
printf '%s\n' "${summary[@]}"
exit $failed
