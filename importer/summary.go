package importer

import (
	"time"

	"github.com/srimport/srimport/reports"
)

// Summary describes a finished (or stopped) run.
type Summary struct {
	// Rows is the number of data rows reported.
	Rows int `json:"rows"`
	// Counts holds the number of rows per status.
	Counts map[reports.Status]int `json:"counts"`
	// Rules counts validation failures by field and rule
	// ("severity: not a severity"); a row may fail several.
	Rules map[string]int `json:"validationFailures,omitempty"`
	// Settled counts rows found on the service by a settlement pass after
	// their answer was lost.
	Settled int `json:"settledByLookup,omitempty"`
	// SettledBefore counts rows an earlier run left in doubt that were
	// looked up before this run sent anything.
	SettledBefore int `json:"settledFromEarlierRuns,omitempty"`
	// InDoubtLeft counts rows an earlier run left in doubt that could not
	// be looked up (the service could not be listed).
	InDoubtLeft int `json:"inDoubtFromEarlierRuns,omitempty"`
	// GhostRows is the number of trailing all-empty rows ignored.
	GhostRows int       `json:"ghostRows"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
}

// Duration is how long the run took.
func (s Summary) Duration() time.Duration { return s.Finished.Sub(s.Started) }

// RowsPerSecond is the run's throughput over all reported rows.
func (s Summary) RowsPerSecond() float64 {
	d := s.Duration().Seconds()
	if d <= 0 {
		return 0
	}
	return float64(s.Rows) / d
}
