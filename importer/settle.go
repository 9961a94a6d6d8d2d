package importer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/srimport/srimport/client"
)

// clockSkew widens "created since the row was sent" when settlement
// matches by content, for a service whose clock runs behind ours.
const clockSkew = 5 * time.Minute

// park sets a row in doubt aside for the next settlement pass.
func (r *run) park(s *sending, why string) {
	s.rec.ErrorClass, s.rec.Error = string(client.ClassAmbiguous), why
	if s.ent.Match == "" { // no journal: writeAhead did not set it
		s.ent.Match = Fingerprint(&s.req.SR)
	}
	r.pmu.Lock()
	if len(r.parked) == 0 {
		r.parkedAt = r.cfg.Now()
	}
	r.parked = append(r.parked, s)
	r.pmu.Unlock()
	r.wake()
}

// settleLoop runs settlement passes until done closes.
func (r *run) settleLoop(done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-r.kick:
		case <-t.C:
		}
		if batch := r.takeParked(); batch != nil {
			r.settle(batch)
		}
	}
}

// takeParked returns the parked rows when a pass is due: when dispatch
// has ended (or waits for the report window) and nothing is in flight that
// could join the pass, when the run stops, or when a row has waited
// SettleAfter.
func (r *run) takeParked() []*sending {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	if len(r.parked) == 0 {
		return nil
	}
	due := r.stop.Err() != nil || r.req.Err() != nil ||
		(r.dispatched && r.inflight.Load() == 0) || r.blocked ||
		r.cfg.Now().Sub(r.parkedAt) >= r.cfg.SettleAfter
	if !due {
		return nil
	}
	batch := r.parked
	r.parked = nil
	return batch
}

// settle looks the batch's rows up on the service: those found are
// created, the others are posted again, until Reposts runs out.
//
// After a stop the pass still runs while requests may finish (the grace
// period), but nothing is posted again: a row it does not find was not
// created and is reported pending.
func (r *run) settle(batch []*sending) {
	if r.req.Err() != nil {
		for _, s := range batch {
			r.inDoubt(s, s.rec.Error+"; the run stopped before it could be looked up")
		}
		return
	}
	wants := make([]want, len(batch))
	for i, s := range batch {
		wants[i] = want{requestID: s.rec.RequestID, match: s.ent.Match, since: s.ent.SentAt}
	}
	found, err := r.find(wants)
	if err != nil {
		for _, s := range batch {
			r.inDoubt(s, fmt.Sprintf("%s; looking it up failed: %v", s.rec.Error, err))
		}
		return
	}
	for i, s := range batch {
		if id := found[i]; id != "" {
			r.created(s, id, "settled by lookup: the service had created it although the answer was lost ("+s.rec.Error+")")
			continue
		}
		if r.stop.Err() != nil {
			s.rec = r.pendingRecord(s.rec)
			s.rec.Error = "not created (looked up on the service after its answer was lost) and not posted again: the run stopped; run the same command again to send it"
			r.final(s, StateFailed)
			continue
		}
		if s.posts > r.cfg.Reposts {
			r.inDoubt(s, fmt.Sprintf("%s; posted %d times, each time in doubt", s.rec.Error, s.posts))
			continue
		}
		r.inflight.Add(1)
		select {
		case r.ready <- s:
		case <-r.req.Done():
			r.inflight.Add(-1)
			r.inDoubt(s, s.rec.Error+"; the run stopped before it could be posted again")
		}
	}
}

// want is a row settlement looks for.
type want struct {
	requestID string
	match     string    // Fingerprint of what was sent
	since     time.Time // when it was first sent
}

// find lists the service's requests once and returns, for each want, the
// id of the request that is it, or "". A request whose provenance note
// names the want's MS-RequestId is it; otherwise one with the same title,
// description and topic, created since the want was sent, that no other
// row of the target's history holds, is — each request for one want at
// most.
func (r *run) find(wants []want) ([]string, error) {
	found := make([]string, len(wants))
	byReq := make(map[string]int, len(wants))
	byMatch := make(map[string][]int)
	for i, w := range wants {
		byReq[w.requestID] = i
		byMatch[w.match] = append(byMatch[w.match], i)
	}
	claimed := make(map[string]bool)
	type cand struct {
		id      string
		match   string
		created time.Time
	}
	var cands []cand
	err := r.cfg.Lister.ListAll(r.req, func(sr *client.ServiceRequest) error {
		for _, n := range sr.Notes {
			if i, ok := byReq[noteRequestID(n.Text)]; ok && found[i] == "" && !claimed[sr.ID] {
				found[i], claimed[sr.ID] = sr.ID, true
				return nil
			}
		}
		if fp := Fingerprint(sr); len(byMatch[fp]) > 0 {
			cands = append(cands, cand{sr.ID, fp, sr.CreatedDate.Time})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the service's requests: %w", err)
	}
	for _, c := range cands {
		if claimed[c.id] {
			continue
		}
		known, err := r.known(c.id)
		if err != nil {
			return nil, err
		}
		if known {
			continue
		}
		for _, i := range byMatch[c.match] {
			if found[i] == "" && (c.created.IsZero() || !c.created.Before(wants[i].since.Add(-clockSkew))) {
				found[i], claimed[c.id] = c.id, true
				break
			}
		}
	}
	return found, nil
}

// known reports whether a row of the target's history holds id.
func (r *run) known(id string) (bool, error) {
	if r.cfg.Journal == nil {
		r.pmu.Lock()
		ok := r.createdIDs.has(id)
		r.pmu.Unlock()
		return ok, nil
	}
	ok, err := r.cfg.Journal.HasServiceRequest(r.req, id)
	if err != nil {
		return false, journalErr(err)
	}
	return ok, nil
}

// noteRequestID returns the MS-RequestId a provenance note names, or "".
func noteRequestID(text string) string {
	const marker = "(MS-RequestId "
	i := strings.LastIndex(text, marker)
	if i < 0 {
		return ""
	}
	rest := text[i+len(marker):]
	id, _, ok := strings.Cut(rest, ")")
	if !ok {
		return ""
	}
	return id
}

// settlePrevious settles the rows an earlier run left in doubt on this
// target, before anything is sent: found ones become created, the others
// failed (nothing was created, so they are sent again with their
// MS-RequestId). When the service cannot be searched they stay in doubt
// and their rows are reported unknown.
func (r *run) settlePrevious() error {
	j := r.cfg.Journal
	if j == nil || r.cfg.Creator == nil || r.cfg.Lister == nil || r.cfg.InDoubt != Settle {
		return nil
	}
	entries, err := j.InDoubt(r.req)
	if err != nil {
		return journalErr(err)
	}
	if len(entries) == 0 {
		return nil
	}
	wants := make([]want, len(entries))
	for i, e := range entries {
		wants[i] = want{requestID: e.RequestID, match: e.Match, since: e.SentAt}
	}
	found, err := r.find(wants)
	if err != nil {
		r.mu.Lock()
		r.sum.InDoubtLeft = len(entries)
		r.mu.Unlock()
		return nil
	}
	ctx := context.WithoutCancel(r.req)
	for i, e := range entries {
		e.State, e.ServiceRequestID, e.UpdatedAt = StateFailed, found[i], r.cfg.Now()
		if found[i] != "" {
			e.State = StateCreated
		}
		if _, err := j.Queue(ctx, RowEntry{Seq: -1, Entry: e}); err != nil {
			return journalErr(err)
		}
	}
	if err := j.Flush(ctx); err != nil {
		return journalErr(err)
	}
	r.mu.Lock()
	r.sum.SettledBefore = len(entries)
	r.mu.Unlock()
	return nil
}
