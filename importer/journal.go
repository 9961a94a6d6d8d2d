package importer

import (
	"context"
	"time"

	"github.com/srimport/srimport/reports"
)

// Journal is the import history a run writes ahead to: which row
// identities a target (a service endpoint and tenant) holds, under which
// MS-RequestId, with what outcome, and what each row of this run became.
// One Journal serves one run against one target; it is safe for
// concurrent use.
//
// The pipeline depends on this interface only, so that the history can
// live in an embedded database (package state) or, later, in a database
// several hosts share. A nil Journal keeps no history: nothing is skipped
// and in-doubt rows are settled within the run only.
type Journal interface {
	// Lookup returns the target's entry for identity; ok is false when
	// the target has none.
	Lookup(ctx context.Context, identity string) (e Entry, ok bool, err error)
	// Queue records one row of this run and, when e.Identity is set and
	// e.State is not empty, the target's entry for that identity. It
	// returns once the write is queued, with a function that waits until
	// it is durable (several writes share one commit); a later Lookup sees
	// it at once. Writes are applied in the order they were queued.
	Queue(ctx context.Context, e RowEntry) (durable func(context.Context) error, err error)
	// InDoubt returns the target's entries in StateSending or
	// StateUnknown, from any run, oldest first.
	InDoubt(ctx context.Context) ([]Entry, error)
	// HasServiceRequest reports whether the target's history holds a
	// created entry with this service-request id.
	HasServiceRequest(ctx context.Context, id string) (bool, error)
	// Flush makes every write so far durable.
	Flush(ctx context.Context) error
}

// State is what the target's history knows about one row identity.
type State string

// Entry states.
const (
	// StateSending: the MS-RequestId is recorded and a request may be on
	// its way. Found after its run ended, the entry is in doubt.
	StateSending State = "sending"
	// StateCreated: the service created it; ServiceRequestID is its id.
	StateCreated State = "created"
	// StateFailed: the service refused it; nothing was created.
	StateFailed State = "failed"
	// StateUnknown: sent, and whether it was created is not known yet.
	StateUnknown State = "unknown"
)

// Entry is the target's record of one row identity.
type Entry struct {
	Identity         string    // the row identity (see Identity)
	RequestID        string    // its MS-RequestId, reused on every retry and run
	State            State     // what is known
	ServiceRequestID string    // for StateCreated
	Match            string    // content fingerprint for settlement by lookup (see Fingerprint)
	RunID            int64     // the run that last wrote it
	Row              int       // its row number in that run
	SentAt           time.Time // when its first request of that run was about to leave; zero if never sent
	UpdatedAt        time.Time // when it was last written
}

// RowEntry is one row of this run: its report line's fields and, when it
// has one, its identity's entry.
type RowEntry struct {
	Entry
	Seq        int            // position in the input, from 0; the report's order
	Status     reports.Status // the report status (pending while being sent)
	ErrorClass string
	Error      string
	Attempts   int
}
