package progress

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/srimport/srimport/reports"
)

// parseTextfile reads a textfile back as metric families.
func parseTextfile(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value is the value of the metric of fam with the given labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		t.Fatalf("no %s", name)
	}
	if fam.GetHelp() == "" {
		t.Errorf("%s has no help", name)
	}
next:
	for _, m := range fam.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

func TestWriteTextfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "srimport.prom")
	ok := time.Unix(1_790_000_000, 500_000_000)
	m := RunMetrics{
		Rows:     map[reports.Status]int{reports.Created: 45, reports.Invalid: 5},
		Requests: 60, Throttled: 7, Retries: 9,
		Duration: 2500 * time.Millisecond, ExitCode: 0, Finished: ok,
	}
	if err := WriteTextfile(path, m); err != nil {
		t.Fatal(err)
	}
	fams := parseTextfile(t, path)
	for name, want := range map[string]float64{
		"srimport_requests_total":                 60,
		"srimport_throttled_requests_total":       7,
		"srimport_retries_total":                  9,
		"srimport_run_duration_seconds":           2.5,
		"srimport_last_run_exit_code":             0,
		"srimport_last_success_timestamp_seconds": 1_790_000_000.5,
		"srimport_last_run_timestamp_seconds":     1_790_000_000.5,
	} {
		if got := value(t, fams, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for st, want := range map[string]float64{"created": 45, "invalid": 5, "failed": 0, "unknown": 0, "skipped": 0, "pending": 0} {
		if got := value(t, fams, "srimport_rows_total", "status", st); got != want {
			t.Errorf("rows{status=%q} = %v, want %v", st, got, want)
		}
	}

	// A failing run keeps the last success time; the rest is its own.
	m = RunMetrics{Rows: map[reports.Status]int{reports.Pending: 3}, ExitCode: 130, Finished: ok.Add(time.Hour)}
	if err := WriteTextfile(path, m); err != nil {
		t.Fatal(err)
	}
	fams = parseTextfile(t, path)
	if got := value(t, fams, LastSuccessMetric); got != 1_790_000_000.5 {
		t.Errorf("after a failing run: last success %v, want the previous run's", got)
	}
	if got := value(t, fams, "srimport_last_run_exit_code"); got != 130 {
		t.Errorf("exit code %v, want 130", got)
	}
	if got := value(t, fams, "srimport_rows_total", "status", "pending"); got != 3 {
		t.Errorf("pending %v, want 3", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the textfile alone (no temporary file left)", len(entries))
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v: want 0644, readable by node_exporter", info.Mode().Perm(), err)
	}
}

func TestWriteTextfileFirstRunFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "srimport.prom")
	if err := WriteTextfile(path, RunMetrics{ExitCode: 1, Finished: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, ok := parseTextfile(t, path)[LastSuccessMetric]; ok {
		t.Error("a last success time, and no run has succeeded")
	}
}

func TestWriteTextfileUnreadablePrevious(t *testing.T) {
	path := filepath.Join(t.TempDir(), "srimport.prom")
	if err := os.WriteFile(path, []byte("this is { not prometheus\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteTextfile(path, RunMetrics{ExitCode: 3, Finished: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "last success") {
		t.Errorf("err = %v, want one saying the last success time was lost", err)
	}
	if got := value(t, parseTextfile(t, path), "srimport_last_run_exit_code"); got != 3 {
		t.Errorf("exit code %v, want 3: the file is written all the same", got)
	}
}
