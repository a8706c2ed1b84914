#!/bin/bash
# Run each libFuzzer target once over every input of its seed corpus
# (tests/fuzz/corpus/<target>/, -runs=0: no new inputs), so that make check
# proves the corpora still pass the current code; a few seconds in all.
# Prints "N passed, N failed" over the targets, and fails if any crashed.
#
#   tests/fuzz/replay-corpus.sh build/fuzz/fuzz_init build/fuzz/fuzz_frame
# Without arguments (as tests/run-tests.sh runs it): the target of each
# tests/fuzz/fuzz_*.c in $FUZZ_BIN_DIR (default: build/fuzz of the tree).
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [[ $# == 0 ]]; then
	for src in "$here"/fuzz_*.c; do
		set -- "$@" "${FUZZ_BIN_DIR:-$here/../../build/fuzz}/$(basename "$src" .c)"
	done
fi
passed=0 failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=$here/corpus/$name
	log=$(mktemp)
	if [[ ! -d $corpus ]]; then
		echo "not ok - $name: no corpus at tests/fuzz/corpus/$name"
		failed=$((failed + 1))
	elif "$bin" -runs=0 "$corpus" >"$log" 2>&1; then
		echo "ok - $name: $(find "$corpus" -type f | wc -l) inputs"
		passed=$((passed + 1))
	else
		echo "not ok - $name"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
		failed=$((failed + 1))
	fi
	rm -f "$log"
done
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
