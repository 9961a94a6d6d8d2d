#!/usr/bin/env bash
# Cost of the journal: the same 20 000 rows imported into the in-process
# emulator with the journal off and on, interleaved in one run (COUNT
# rounds). Prints medians and the ratios on/off, during the run and with
# the journal folded into SQLite at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
out=$(go test -run '^$' -bench '^BenchmarkJournal$' -benchtime 1x -count "$count" ./importer/)
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  function metric(name,   i) { for (i=1;i<=NF;i++) if ($(i+1)==name) return $i }
  /BenchmarkJournal\/off/ { off[n1++]=metric("rows/s") }
  /BenchmarkJournal\/on/  { on[n2++]=metric("rows/s"); onc[n3++]=metric("rows/s-with-close") }
  function median(a, n,   i,j,t) { for(i=0;i<n;i++)for(j=i+1;j<n;j++)if(a[j]<a[i]){t=a[i];a[i]=a[j];a[j]=t}; return n%2?a[int(n/2)]:(a[n/2-1]+a[n/2])/2 }
  END { mo=median(off,n1); mn=median(on,n2); mc=median(onc,n3);
        printf "median: off %.0f rows/s, on %.0f rows/s (ratio %.2f), on with the final fold %.0f rows/s (ratio %.2f)\n", mo, mn, mn/mo, mc, mc/mo }'
