#!/bin/bash
# Run test programs (unit-test binaries or integration scripts), show their
# output, and close with one "N passed, N failed" line over all of them.
# A unit binary reports per-case counts on its last line; an integration
# script is one test: exit 0 passes, exit 77 is reported as skipped (and is
# never counted as passing), anything else fails.
set -u
suite=$1; shift
passed=0 failed=0 skipped=0
failed_names=()
for t in "$@"; do
	echo "=== $suite: $t"
	t0=$SECONDS
	log=$(mktemp)
	"$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	rm -f "$log"
	echo "=== $suite: $t: exit $rc, $((SECONDS - t0)) s"
	if [[ $t == *.sh ]]; then
		case $rc in
		0) passed=$((passed + 1)) ;;
		77) skipped=$((skipped + 1)); echo "SKIP: $t" ;;
		*) failed=$((failed + 1)); failed_names+=("$t") ;;
		esac
	elif [[ -n $last ]]; then
		p=${last%% passed*}; f=${last#*passed, }; f=${f%% failed*}
		passed=$((passed + p)); failed=$((failed + f))
		if [[ $rc != 0 && $f == 0 ]]; then
			failed=$((failed + 1))
		fi
		[[ $rc != 0 ]] && failed_names+=("$t")
	else
		failed=$((failed + 1)); failed_names+=("$t (rc=$rc, no summary)")
	fi
done
for n in "${failed_names[@]+"${failed_names[@]}"}"; do
	echo "FAILED: $n"
done
echo "$suite: $passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
