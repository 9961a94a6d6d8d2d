#!/usr/bin/env bash
# `srimport validate` against a bare encoding/csv read of the same
# generated CSV (CSV_ROWS rows, default 1 000 000, ~0.5 GB), and srimport's
# XLSX reader against excelize's Rows() on a generated workbook (XLSX_ROWS
# rows, default 100 000), in one run: ROUNDS rounds (default 3, at least
# 3), each program once per round, their order alternating. Every time is
# the wall clock of a whole process (start, open, read, exit). Prints the
# median rows/s of each, and the median and range of the per-round ratios.
# validate runs as a user would, summary (--summary) to a temporary file;
# a second line shows it with --report too, which writes and syncs a report
# as large as the input. Temporary files are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
csv_rows=${CSV_ROWS:-1000000}
xlsx_rows=${XLSX_ROWS:-100000}
((rounds >= 3)) || { echo "ROUNDS must be at least 3" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

for p in ./cmd/srimport ./bench/barecsv ./bench/xlsxread ./bench/gendata; do
	go build -o "$dir/" "$p"
done
"$dir/gendata" -rows "$csv_rows" -csv "$dir/in.csv"
"$dir/gendata" -rows "$xlsx_rows" -xlsx "$dir/in.xlsx"
echo "go $(go env GOVERSION), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); CSV $csv_rows rows ($(du -m "$dir/in.csv" | cut -f1) MB), XLSX $xlsx_rows rows ($(du -m "$dir/in.xlsx" | cut -f1) MB)"

# rate ROWS CMD... runs CMD and prints ROWS per second of its wall time.
rate() {
	local rows=$1
	shift
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$dir/out" 2>&1 || { echo "failed: $*" >&2; cat "$dir/out" >&2; exit 1; }
	t1=$(date +%s%N)
	awk -v r="$rows" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f\n", r / (ns / 1e9) }'
}

# measure NAME_A NAME_B ROWS "CMD_A" "CMD_B" appends one round's rates of
# A and B (in alternating order) to $dir/NAME_A and $dir/NAME_B.
round=0
measure() {
	local a=$1 b=$2 rows=$3 cmd_a=$4 cmd_b=$5
	if ((round % 2 == 0)); then
		rate "$rows" $cmd_a >>"$dir/$a"
		rate "$rows" $cmd_b >>"$dir/$b"
	else
		rate "$rows" $cmd_b >>"$dir/$b"
		rate "$rows" $cmd_a >>"$dir/$a"
	fi
}

# report NAME_A NAME_B LABEL TARGET prints medians and the ratio A/B.
report() {
	paste "$dir/$1" "$dir/$2" | awk -v label="$3" -v target="$4" '
		function median(x, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
			return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
		}
		{ a[NR] = $1; b[NR] = $2; r[NR] = $1 / $2; if (NR == 1 || r[NR] < lo) lo = r[NR]; if (NR == 1 || r[NR] > hi) hi = r[NR] }
		END {
			printf "%s: %.2f (%.2f-%.2f) %s   [median rows/s %.0f vs %.0f, %d rounds]\n", label, median(r, NR), lo, hi, target, median(a, NR), median(b, NR), NR
		}'
}

for ((round = 0; round < rounds; round++)); do
	measure validate bare "$csv_rows" "$dir/srimport validate --summary $dir/summary.json $dir/in.csv" "$dir/barecsv $dir/in.csv"
	measure validate_report bare_report "$csv_rows" "$dir/srimport validate --summary $dir/summary.json --report $dir/report.csv $dir/in.csv" "$dir/barecsv $dir/in.csv"
	rm -f "$dir/report.csv"
	measure xlsx excelize "$xlsx_rows" "$dir/xlsxread srimport $dir/in.xlsx" "$dir/xlsxread excelize $dir/in.xlsx"
done
report validate bare "validate $((csv_rows / 1000000))M CSV / bare encoding/csv" "target >= 0.6"
report validate_report bare_report "validate --report $((csv_rows / 1000000))M CSV / bare encoding/csv" "(no target)"
report xlsx excelize "XLSX reader $((xlsx_rows / 1000))k / excelize Rows()" "target >= 1.3"
