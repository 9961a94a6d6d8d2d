#!/usr/bin/env bash
# Throughput of `srimport import --sandbox --workers 32` on a 20 000-row CSV,
# next to a bare net/http client posting to the same emulator, measured in
# one run (interleaved, COUNT rounds). Prints medians and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
out=$(go test -run '^$' -bench 'SandboxImport|BareHTTP' -benchtime 1x -count "$count" ./cmd/srimport/)
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  /BenchmarkSandboxImport/ { for (i=1;i<=NF;i++) if ($(i+1)=="rows/s") imp[n1++]=$i }
  /BenchmarkBareHTTP/      { for (i=1;i<=NF;i++) if ($(i+1)=="req/s")  raw[n2++]=$i }
  function median(a, n,   i,j,t) { for(i=0;i<n;i++)for(j=i+1;j<n;j++)if(a[j]<a[i]){t=a[i];a[i]=a[j];a[j]=t}; return n%2?a[int(n/2)]:(a[n/2-1]+a[n/2])/2 }
  END { mi=median(imp,n1); mr=median(raw,n2);
        printf "median: import %.0f rows/s, bare net/http %.0f req/s, ratio %.2f\n", mi, mr, mi/mr }'
