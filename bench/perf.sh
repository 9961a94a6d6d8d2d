#!/usr/bin/env bash
# The performance figures of srimport, each a ratio measured in one run on
# loopback and printed with its target:
#   (1) import ÷ a bare net/http client sending the same bodies and headers
#   (2) 20 ms latency, 32 workers ÷ N/(L + 1.2 ms)
#   (3) --rate 200 against a server quota of 200
#   (4) a hidden quota of 300/s: share of it reached, share of 429s
#   (5) validate of 1 M rows ÷ bare encoding/csv; XLSX reader ÷ excelize Rows() (bench/validate.sh)
#   (6) peak RSS of a 1 M-row import with its state store
# ROUNDS (default 3) rounds each; RSS_ROWS (default 1000000; 0 skips (6));
# ONLY=throughput,latency,rate,quota,rss,validate picks some. About 8 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/srimport" ./cmd/srimport
go build -o "$work/gendata" ./bench/gendata
go build -o "$work/perf" ./bench/perf
rounds=${ROUNDS:-3}
only=${ONLY:-}
echo "srimport $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(go version | cut -d' ' -f3), $(nproc) cores"
"$work/perf" -srimport "$work/srimport" -gendata "$work/gendata" -dir "$work" \
  -rounds "$rounds" -rss-rows "${RSS_ROWS:-1000000}" -only "${only//,validate/}"
if [[ -z "$only" || ",$only," == *",validate,"* ]]; then
  ROUNDS=$rounds bash bench/validate.sh
fi
