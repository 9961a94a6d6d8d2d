#!/usr/bin/env bash
# `srimport validate` on a generated CSV (ROWS rows, default 1 000 000,
# ~0.5 GB) next to a bare encoding/csv read of the same file, in one run;
# prints both rates, their ratio, and validate's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
file="$dir/bench.csv"
go build -o "$dir/srimport" ./cmd/srimport
BENCH_CSV="$file" BENCH_ROWS="$rows" go test -count=1 -run '^TestWriteBenchCSV$' ./cmd/srimport/ >/dev/null
echo "input: $rows rows, $(du -h "$file" | cut -f1)"
bare=$(BENCH_CSV="$file" go test -run '^$' -bench '^BenchmarkBareCSVFile$' -benchtime 1x -count 3 ./cmd/srimport/ |
	awk '/rows\/s/ { for (i=1;i<=NF;i++) if ($(i+1)=="rows/s") print $i }' | sort -n | sed -n 2p)
for i in 1 2 3; do
	/usr/bin/time -v "$dir/srimport" validate --summary "$dir/s$i.json" "$file" >/dev/null 2>"$dir/time$i.txt" || true
done
val=$(for i in 1 2 3; do grep -o '"rowsPerSecond": [0-9.]*' "$dir/s$i.json" | awk '{print $2}'; done | sort -n | sed -n 2p)
rss=$(for i in 1 2 3; do awk -F: '/Maximum resident/ {print $2}' "$dir/time$i.txt"; done | sort -n | tail -1)
awk -v v="$val" -v b="$bare" -v r="$rss" 'BEGIN {
	printf "validate %.0f rows/s, bare encoding/csv %.0f rows/s (medians of 3), ratio %.2f; validate peak RSS %.0f MiB\n", v, b, v/b, r/1024 }'
