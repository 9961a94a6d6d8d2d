package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// benchCreated is a create answer as the service sends it (about 840 bytes,
// byte-order mark included).
var benchCreated = func() []byte {
	sr := ServiceRequest{
		ID: "616000000004471", Title: strings.Repeat("Reserved instance not applied ", 2), Description: strings.Repeat("Usage is still billed pay-as-you-go, ", 8),
		Severity: SeverityMinimal, SupportTopicID: "32451178", Status: StatusOpen, CountryCode: "US", ProductName: "Azure",
		Organization:   &Organization{ID: uuid.NewString(), Name: "Fabrikam Cloud", PhoneNumber: "5550142"},
		Attributes:     &Attributes{ObjectType: ObjectServiceRequest},
		PrimaryContact: &Contact{ContactID: uuid.NewString(), FirstName: "Noor", LastName: "Haddad", Email: "noor@fabrikam.example", PhoneNumber: "5550143"},
	}
	b, err := json.Marshal(sr)
	if err != nil {
		panic(err)
	}
	return append([]byte("\uFEFF"), b...)
}()

// benchBody is a create body of the usual size (about 790 bytes).
var benchBody = func() []byte {
	b, err := json.Marshal(ServiceRequest{
		Title: strings.Repeat("Quota increase for ", 3), Description: strings.Repeat("The subscription needs more cores in West Europe, ", 10),
		Severity: SeverityModerate, SupportTopicID: "32451178",
		NewNote:        &Note{Text: "Customer asked twice."},
		PrimaryContact: &Contact{FirstName: "Noor", LastName: "Haddad", Email: "noor@fabrikam.example", PhoneNumber: "5550143"},
	})
	if err != nil {
		panic(err)
	}
	return b
}()

// benchServer answers every create with benchCreated after reading the
// body, as cheaply as net/http allows.
func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Ms-Requestid"] = r.Header["Ms-Requestid"]
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(benchCreated)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// bareCreate is what a bare net/http client does for a create: the same
// body and headers, the answer read and its id taken.
func bareCreate(ctx context.Context, hc *http.Client, url string, body []byte, requestID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+testToken)
	h.Set("Accept", "application/json")
	h.Set("Content-Type", "application/json")
	h.Set("X-Locale", "de-DE")
	h.Set("User-Agent", "srimport")
	h.Set("MS-RequestId", requestID)
	h.Set("MS-CorrelationId", uuid.NewString())
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated || !bytes.Contains(b, []byte(`"id"`)) {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCreateBody sends b.N creates through Client.CreateBody and b.N
// through a bare net/http client, from 8 goroutines each, alternating in
// rounds of 256, against the same in-process server; it reports both
// rates, their ratio, and the CPU (client and server together) per create.
func BenchmarkCreateBody(b *testing.B) {
	srv := benchServer(b)
	const workers, round = 8, 256
	c, err := New(Config{BaseURL: srv.URL, Token: StaticToken(testToken), Workers: workers, Retries: 3})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	bare := &http.Client{Transport: newBaseTransport(workers)}
	b.Cleanup(bare.CloseIdleConnections)
	url := srv.URL + "/v1/servicerequests/de-DE"
	ctx := context.Background()
	run := func(n int, create func(i int64) error) (time.Duration, time.Duration) {
		var next atomic.Int64
		var wg sync.WaitGroup
		start, cpu := time.Now(), cpuTime()
		for range workers {
			wg.Go(func() {
				for i := next.Add(1); i <= int64(n); i = next.Add(1) {
					if err := create(i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start), cpuTime() - cpu
	}
	viaClient := func(i int64) error {
		_, err := c.CreateBody(ctx, "de-DE", benchBody, fmt.Sprint("rid-", i))
		return err
	}
	viaBare := func(i int64) error { return bareCreate(ctx, bare, url, benchBody, fmt.Sprint("rid-", i)) }
	var wallC, cpuC, wallB, cpuB time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		w, u := run(n, viaClient)
		wallC, cpuC = wallC+w, cpuC+u
		w, u = run(n, viaBare)
		wallB, cpuB = wallB+w, cpuB+u
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(n/wallC.Seconds(), "client-req/s")
	b.ReportMetric(n/wallB.Seconds(), "bare-req/s")
	b.ReportMetric(wallB.Seconds()/wallC.Seconds(), "client/bare")
	b.ReportMetric(float64(cpuC.Microseconds())/n, "client-cpu-µs/req")
	b.ReportMetric(float64(cpuB.Microseconds())/n, "bare-cpu-µs/req")
	b.ReportMetric(0, "ns/op")
}

// cannedTransport answers every request with benchCreated, without a
// network: what is left is the client's own work.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusCreated, ContentLength: int64(len(benchCreated)), Request: r,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:   io.NopCloser(bytes.NewReader(benchCreated))}, nil
}

// BenchmarkCreateBodyCPU is the client's own cost of a create, against a
// transport that answers at once: Client.CreateBody (client) and a bare
// net/http client doing the same (bare), in one run.
func BenchmarkCreateBodyCPU(b *testing.B) {
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", Token: StaticToken(testToken), Retries: 3, Transport: cannedTransport{}})
	if err != nil {
		b.Fatal(err)
	}
	info := slog.New(slog.NewTextHandler(io.Discard, nil)) // a run without -v
	ci, err := New(Config{BaseURL: "http://127.0.0.1:1", Token: StaticToken(testToken), Retries: 3, Transport: cannedTransport{}, Logger: info})
	if err != nil {
		b.Fatal(err)
	}
	bare := &http.Client{Transport: cannedTransport{}}
	ctx := context.Background()
	for name, c := range map[string]*Client{"client": c, "client-info-log": ci} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				if _, err := c.CreateBody(ctx, "de-DE", benchBody, fmt.Sprint("rid-", i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if err := bareCreate(ctx, bare, "http://127.0.0.1:1/v1/servicerequests/de-DE", benchBody, fmt.Sprint("rid-", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
