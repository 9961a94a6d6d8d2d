// Command perf measures srimport against the targets of its performance
// work, in one run on loopback, and prints each figure as a ratio with
// its target. bench/perf.sh builds the binaries and runs it.
//
// Every server is `srimport sandbox` in a process of its own on
// 127.0.0.1; rates are read off the server's own counters, polled every
// 10 ms, over the middle of each run (from 5 % to 95 % of its creates), so
// that process start and the final report do not blur them.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/srimport/srimport/input"
	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/wire"
)

type config struct {
	bin, gendata, dir string
	rounds            int
	rows              int // rows of the throughput runs
	rssRows           int // rows of the memory run; 0 skips it
	only              string
}

func main() {
	var c config
	flag.StringVar(&c.bin, "srimport", "", "the srimport binary")
	flag.StringVar(&c.gendata, "gendata", "", "the gendata binary")
	flag.StringVar(&c.dir, "dir", "", "a scratch directory")
	flag.IntVar(&c.rounds, "rounds", 3, "rounds of each ratio, interleaved")
	flag.IntVar(&c.rows, "rows", 20000, "rows of the unthrottled throughput runs")
	flag.IntVar(&c.rssRows, "rss-rows", 1000000, "rows of the peak-memory import (0 skips it)")
	flag.StringVar(&c.only, "only", "", "comma-separated figures to run (throughput,latency,rate,quota,rss); empty = all")
	flag.Parse()
	if c.bin == "" || c.gendata == "" || c.dir == "" {
		fmt.Fprintln(os.Stderr, "perf: -srimport, -gendata and -dir are required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		os.Exit(1)
	}
}

func (c config) want(name string) bool {
	return c.only == "" || slices.Contains(strings.Split(c.only, ","), name)
}

func run(ctx context.Context, c config) error {
	data, err := generate(ctx, c, "rows", c.rows)
	if err != nil {
		return err
	}
	if c.want("throughput") {
		if err := throughput(ctx, c, data); err != nil {
			return err
		}
	}
	if c.want("latency") {
		if err := latency(ctx, c, data); err != nil {
			return err
		}
	}
	if c.want("rate") {
		if err := fixedRate(ctx, c, data); err != nil {
			return err
		}
	}
	if c.want("quota") {
		if err := quota(ctx, c, data); err != nil {
			return err
		}
	}
	if c.want("rss") && c.rssRows > 0 {
		if err := peakRSS(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// report prints one figure: its median, spread and target.
func report(name string, vals []float64, target string, extra string) {
	s := slices.Clone(vals)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	fmt.Printf("%-58s %.3f (%.3f-%.3f, %d runs)  target %s%s\n", name+":", med, s[0], s[len(s)-1], len(s), target, extra)
}

// throughput: srimport import ÷ a bare net/http client sending the same
// bodies and headers to the same server, 32 workers, no latency.
func throughput(ctx context.Context, c config, data string) error {
	sb, err := startSandbox(ctx, c.bin)
	if err != nil {
		return err
	}
	defer sb.stop()
	bodies, err := buildBodies(data)
	if err != nil {
		return err
	}
	var ratios, phase, imp, bare []float64
	for i := 0; i < c.rounds; i++ {
		t, err := importOnce(ctx, c, sb.url, data, i, "--workers", "32")
		if err != nil {
			return err
		}
		b, err := bareClient(ctx, sb.url, bodies, 32)
		if err != nil {
			return err
		}
		ri, rb := float64(len(bodies))/t.wall.Seconds(), float64(len(bodies))/b.Seconds()
		imp, bare = append(imp, ri), append(bare, rb)
		ratios = append(ratios, ri/rb)
		phase = append(phase, t.sending/rb)
	}
	report("(1) import ÷ bare net/http, same bodies+headers", ratios, ">= 0.9",
		fmt.Sprintf("   [import %.0f rows/s, bare %.0f req/s; whole process, journal folded]", median(imp), median(bare)))
	report("(1) the same, import's sending phase only", phase, "none",
		"   [the summary's rowsPerSecond: from start to the last row's outcome, before the journal's fold]")
	return nil
}

// latency: 20 ms server latency, 32 workers, ÷ N/(L + 1.2 ms).
func latency(ctx context.Context, c config, data string) error {
	sb, err := startSandbox(ctx, c.bin, "--latency", "20ms")
	if err != nil {
		return err
	}
	defer sb.stop()
	ideal := 32 / (0.020 + 0.0012)
	rows := min(c.rows, 10000)
	bodies, err := buildBodies(data)
	if err != nil {
		return err
	}
	bodies = bodies[:min(len(bodies), rows)]
	var ratios, got, bare []float64
	for i := 0; i < c.rounds; i++ {
		m, err := measured(ctx, c, sb, data, i, rows, "--workers", "32")
		if err != nil {
			return err
		}
		got = append(got, m.rate)
		ratios = append(ratios, m.rate/ideal)
		// The same requests from a bare client, for what the machine
		// allows at the moment.
		d, err := bareClient(ctx, sb.url, bodies, 32)
		if err != nil {
			return err
		}
		bare = append(bare, float64(len(bodies))/d.Seconds())
	}
	report("(2) 20 ms latency, 32 workers ÷ N/(L+1.2ms)", ratios, ">= 0.95",
		fmt.Sprintf("   [%.0f req/s of %.0f; a bare client %.0f]", median(got), ideal, median(bare)))
	return nil
}

// fixedRate: --rate 200 against a quota of 200.
func fixedRate(ctx context.Context, c config, data string) error {
	var ratios []float64
	var throttled int64
	for i := 0; i < c.rounds; i++ {
		sb, err := startSandbox(ctx, c.bin, "--quota", "200")
		if err != nil {
			return err
		}
		m, err := measured(ctx, c, sb, data, i, min(c.rows, 4000), "--workers", "32", "--rate", "200")
		sb.stop()
		if err != nil {
			return err
		}
		ratios = append(ratios, m.rate/200)
		throttled += m.throttled
	}
	report("(3) --rate 200 achieved ÷ 200, server quota 200", ratios, ">= 0.995, 0 × 429",
		fmt.Sprintf("   [429s: %d]", throttled))
	return nil
}

// quota: a hidden quota of 300/s, no --rate.
func quota(ctx context.Context, c config, data string) error {
	var ratios, shares []float64
	for i := 0; i < c.rounds; i++ {
		sb, err := startSandbox(ctx, c.bin, "--quota", "300")
		if err != nil {
			return err
		}
		m, err := measured(ctx, c, sb, data, i, min(c.rows, 9000), "--workers", "32")
		sb.stop()
		if err != nil {
			return err
		}
		ratios = append(ratios, m.rate/300)
		shares = append(shares, float64(m.throttled)/float64(m.requests))
	}
	report("(4) hidden quota 300/s: achieved ÷ quota", ratios, ">= 0.9", "")
	report("(4) hidden quota 300/s: share of requests answered 429", shares, "<= 0.02", "")
	return nil
}

// peakRSS: the peak resident memory of a large import with its state
// store, against a server of its own.
func peakRSS(ctx context.Context, c config) error {
	data, err := generate(ctx, c, "big", c.rssRows)
	if err != nil {
		return err
	}
	defer os.Remove(data)
	sb, err := startSandbox(ctx, c.bin)
	if err != nil {
		return err
	}
	defer sb.stop()
	t, err := importOnce(ctx, c, sb.url, data, 100, "--workers", "32")
	if err != nil {
		return err
	}
	mib := float64(t.maxRSS) / 1024
	report(fmt.Sprintf("(6) peak RSS of a %d-row import, MiB", c.rssRows), []float64{mib}, "<= 64",
		fmt.Sprintf("   [%.0f rows/s]", float64(c.rssRows)/t.wall.Seconds()))
	return nil
}

// generate writes rows generated rows to DIR/name.csv.
func generate(ctx context.Context, c config, name string, rows int) (string, error) {
	raw := filepath.Join(c.dir, name+"-raw.csv")
	defer os.Remove(raw)
	if err := exec.CommandContext(ctx, c.gendata, "-rows", strconv.Itoa(rows), "-csv", raw).Run(); err != nil {
		return "", fmt.Errorf("gendata: %w", err)
	}
	data := filepath.Join(c.dir, name+".csv")
	return data, head(raw, data, rows)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

type sandbox struct {
	cmd *exec.Cmd
	url string
}

// startSandbox starts `srimport sandbox` on a free loopback port.
func startSandbox(ctx context.Context, bin string, args ...string) (*sandbox, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"sandbox", "--listen", "127.0.0.1:0"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("sandbox did not say its URL: %q %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return &sandbox{cmd: cmd, url: strings.TrimSpace(line)}, nil
}

func (s *sandbox) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
}

type stats struct {
	Requests  int64 `json:"requests"`
	Creates   int64 `json:"creates"`
	Created   int64 `json:"created"`
	Throttled int64 `json:"throttled"`
}

func (s *sandbox) stats(ctx context.Context) (stats, error) {
	var st stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/_emulator/stats", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

type timing struct {
	wall    time.Duration
	maxRSS  int64   // KiB
	sending float64 // the summary's rowsPerSecond: rows sent over the sending phase
}

// importOnce runs one import with a fresh state directory.
func importOnce(ctx context.Context, c config, url, data string, round int, args ...string) (timing, error) {
	state := filepath.Join(c.dir, fmt.Sprintf("state-%d-%d", round, time.Now().UnixNano()))
	defer os.RemoveAll(state)
	rep, sum := filepath.Join(c.dir, "report.csv"), filepath.Join(c.dir, "summary.json")
	defer os.Remove(rep)
	defer os.Remove(sum)
	all := append([]string{"import", "--base-url", url, "--state-dir", state, "--report", rep, "--summary", sum, "--quiet"}, args...)
	cmd := exec.CommandContext(ctx, c.bin, append(all, data)...)
	cmd.Env = append(os.Environ(), "SRIMPORT_TOKEN=bench")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return timing{}, fmt.Errorf("import: %w: %s", err, stderr.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	t := timing{wall: wall}
	if ru != nil {
		t.maxRSS = ru.Maxrss
	}
	var doc struct {
		RowsPerSecond float64 `json:"rowsPerSecond"`
	}
	if b, err := os.ReadFile(sum); err == nil && json.Unmarshal(b, &doc) == nil {
		t.sending = doc.RowsPerSecond
	}
	return t, nil
}

type rates struct {
	rate                float64 // creates per second from 5 % to 95 % of the run
	requests, throttled int64   // the run's, as the server counted them
}

// measured runs an import of the first rows of data and reads its rate
// off the server.
func measured(ctx context.Context, c config, sb *sandbox, data string, round, rows int, args ...string) (rates, error) {
	part := filepath.Join(c.dir, fmt.Sprintf("part-%d.csv", rows))
	if err := head(data, part, rows); err != nil {
		return rates{}, err
	}
	before, err := sb.stats(ctx)
	if err != nil {
		return rates{}, err
	}
	lo, hi := before.Created+int64(rows)/20, before.Created+int64(rows)*19/20
	var tLo, tHi time.Time
	var nLo, nHi int64
	var end atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for !end.Load() {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			st, err := sb.stats(ctx)
			if err != nil {
				continue
			}
			now := time.Now()
			if tLo.IsZero() && st.Created >= lo {
				tLo, nLo = now, st.Created
			}
			if tHi.IsZero() && st.Created >= hi {
				tHi, nHi = now, st.Created
				return
			}
		}
	}()
	_, err = importOnce(ctx, c, sb.url, part, round, args...)
	end.Store(true)
	wg.Wait()
	if err != nil {
		return rates{}, err
	}
	after, err := sb.stats(ctx)
	if err != nil {
		return rates{}, err
	}
	if tLo.IsZero() || tHi.IsZero() || !tHi.After(tLo) {
		return rates{}, errors.New("the run was too short to measure its rate")
	}
	return rates{
		rate:      float64(nHi-nLo) / tHi.Sub(tLo).Seconds(),
		requests:  (after.Creates + after.Throttled) - (before.Creates + before.Throttled),
		throttled: after.Throttled - before.Throttled,
	}, nil
}

// emulatorTopic is a support topic of the emulator's list.
const emulatorTopic = "32451178"

// head copies the header and the first rows records of a CSV file, with
// the support topic set to one the emulator knows (gendata draws ids at
// random).
func head(src, dst string, rows int) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	r, err := input.Open(src, input.Options{})
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(r.Header())
	topic := slices.Index(r.Header(), "supportTopicId")
	for i := 0; i < rows; i++ {
		row, err := r.Next()
		if err != nil {
			break
		}
		if topic >= 0 {
			row.Values[topic] = emulatorTopic
		}
		w.Write(row.Values)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// buildBodies encodes, before anything is timed, the bodies srimport
// sends for data: the same mapping, the provenance note naming a fresh
// MS-RequestId, the same encoder.
func buildBodies(data string) ([]request, error) {
	r, err := input.Open(data, input.Options{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	m, err := mapping.Auto(r.Header(), mapping.Options{File: filepath.Base(data)})
	if err != nil {
		return nil, err
	}
	var out []request
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		req, err := m.Map(row.Values, row.Num)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", row.Num, err)
		}
		id := uuid.NewString()
		sr := req.SR
		if req.Provenance && len(sr.Notes) > 0 {
			notes := slices.Clone(sr.Notes)
			notes[len(notes)-1].Text += " (MS-RequestId " + id + ")"
			sr.Notes = notes
		}
		body, err := wire.AppendJSON(nil, &sr)
		if err != nil {
			return nil, err
		}
		out = append(out, request{locale: req.Locale, body: body, id: id})
	}
}

type request struct {
	locale, id string
	body       []byte
}

// bareClient posts every body once with a plain, tuned net/http client
// and the headers srimport sends, from n goroutines.
func bareClient(ctx context.Context, url string, reqs []request, n int) (time.Duration, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 2*n + 8, MaxIdleConnsPerHost: n + 8, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}}
	defer hc.CloseIdleConnections()
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(reqs)) || ctx.Err() != nil {
					return
				}
				r := reqs[i]
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/servicerequests/"+r.locale, bytes.NewReader(r.body))
				if err != nil {
					once.Do(func() { first = err })
					return
				}
				h := req.Header
				h.Set("Authorization", "Bearer bench")
				h.Set("Accept", "application/json")
				h.Set("Content-Type", "application/json")
				h.Set("X-Locale", r.locale)
				h.Set("User-Agent", "srimport")
				h.Set("MS-RequestId", uuid.NewString()) // fresh: the import's ids are in the server already
				h.Set("MS-CorrelationId", uuid.NewString())
				resp, err := hc.Do(req)
				if err != nil {
					once.Do(func() { first = err })
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != http.StatusCreated {
					err = fmt.Errorf("status %d: %s", resp.StatusCode, b)
				}
				if err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), first
}
