package importer_test

import (
	"context"
	"sort"
	"sync"

	"github.com/srimport/srimport/importer"
)

// memJournal is an in-memory Journal for one target, shared by the runs of
// a test.
type memJournal struct {
	mu    sync.Mutex
	items map[string]importer.Entry
	rows  map[int64]map[int]importer.RowEntry
	run   int64 // the run writing; set by forRun
}

func newMemJournal() *memJournal {
	return &memJournal{items: map[string]importer.Entry{}, rows: map[int64]map[int]importer.RowEntry{}}
}

// forRun starts a new run and returns its id.
func (j *memJournal) forRun() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.run++
	j.rows[j.run] = map[int]importer.RowEntry{}
	return j.run
}

func (j *memJournal) Lookup(_ context.Context, id string) (importer.Entry, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.items[id]
	return e, ok, nil
}

func (j *memJournal) Queue(_ context.Context, e importer.RowEntry) (func(context.Context) error, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if e.Seq >= 0 {
		j.rows[j.run][e.Seq] = e
	}
	if e.Identity != "" && e.State != "" {
		j.items[e.Identity] = e.Entry
	}
	return func(context.Context) error { return nil }, nil
}

func (j *memJournal) InDoubt(context.Context) ([]importer.Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []importer.Entry
	for _, e := range j.items {
		if e.State == importer.StateSending || e.State == importer.StateUnknown {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].SentAt.Before(out[b].SentAt) })
	return out, nil
}

func (j *memJournal) HasServiceRequest(_ context.Context, id string) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range j.items {
		if e.State == importer.StateCreated && e.ServiceRequestID == id {
			return true, nil
		}
	}
	return false, nil
}

func (j *memJournal) Flush(context.Context) error { return nil }

// count returns how many items are in state st.
func (j *memJournal) count(st importer.State) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, e := range j.items {
		if e.State == st {
			n++
		}
	}
	return n
}
