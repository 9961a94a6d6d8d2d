package emulator

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

func TestCreateNoDedup(t *testing.T) {
	for _, noDedup := range []bool{false, true} {
		te := newEnv(t, Config{NoDedup: noDedup})
		a := te.create("", "MS-RequestId", "rid-1")
		b := te.create("", "MS-RequestId", "rid-1")
		te.create("", "MS-RequestId", "rid-2")
		wantStored, wantDup, wantReplays := 2, int64(0), int64(1)
		if noDedup {
			wantStored, wantDup, wantReplays = 3, 1, 0
		}
		st := te.em.Stats()
		if n := len(te.em.ServiceRequests()); n != wantStored || st.Created != int64(wantStored) ||
			st.Duplicates != wantDup || st.Replays != wantReplays {
			t.Errorf("NoDedup=%v: %d stored, stats %+v; want %d stored, %d duplicates, %d replays",
				noDedup, n, st, wantStored, wantDup, wantReplays)
		}
		if sameID := str(a, "id") == str(b, "id"); sameID == noDedup {
			t.Errorf("NoDedup=%v: ids %s and %s", noDedup, str(a, "id"), str(b, "id"))
		}
		ids := te.em.RequestIDs()
		if ids[str(a, "id")] != "rid-1" || ids[str(b, "id")] != "rid-1" {
			t.Errorf("NoDedup=%v: RequestIDs %v", noDedup, ids)
		}
	}
}

// With NoDedup a broken body under an id that created is rejected, not
// answered from the store.
func TestCreateNoDedupBrokenBodyRejected(t *testing.T) {
	te := newEnv(t, Config{NoDedup: true})
	te.create("", "MS-RequestId", "rid-1")
	resp, b := te.do(http.MethodPost, createPath, `{`, "MS-RequestId", "rid-1")
	wantFault(t, resp, b, http.StatusBadRequest, "800002")
	if st := te.em.Stats(); st.Created != 1 || st.Replays != 0 || st.Duplicates != 0 {
		t.Errorf("stats %+v", st)
	}
}

// After-commit faults still create first; a retry under NoDedup creates a
// second request, which Duplicates counts.
func TestCreateNoDedupFaultAfterCommit(t *testing.T) {
	for name, f := range map[string]Faults{
		"reset after":   {ResetAfter: 1},
		"500 after":     {Error500After: 1},
		"truncated 201": {Truncated201: 1},
	} {
		te := newEnv(t, Config{NoDedup: true, Faults: f})
		for range 2 {
			resp, _, err := te.try(http.MethodPost, createPath, validBody, "MS-RequestId", "rid-f")
			if err == nil && resp.StatusCode == http.StatusCreated {
				t.Errorf("%s: a clean 201", name)
			}
		}
		st := te.em.Stats()
		if st.Created != 2 || st.Duplicates != 1 || st.Replays != 0 || st.FaultsInjected != 2 {
			t.Errorf("%s: stats %+v; want 2 created, 1 duplicate, 2 faults", name, st)
		}
	}
}

// NoDedup leaves the de-duplication of updates alone.
func TestPatchDedupWithNoDedup(t *testing.T) {
	te := newEnv(t, Config{NoDedup: true})
	id := str(te.create(""), "id")
	for range 2 {
		resp, b := te.do(http.MethodPatch, "/v1/servicerequests/"+id, `{"newNote":{"text":"once"}}`, "MS-RequestId", "p-1")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("patch: %d %s", resp.StatusCode, b)
		}
	}
	if n := len(te.em.ServiceRequests()[0].Notes); n != 1 {
		t.Errorf("%d notes after a replayed patch, want 1", n)
	}
}

// Settling an ambiguous create by lookup matches list items on their notes
// and dates: the list carries both.
func TestListItemsCarryNotesAndCreatedDate(t *testing.T) {
	te := newEnv(t, Config{})
	before := time.Now().UTC().Add(-time.Second)
	te.create(`{"title":"t","description":"d","severity":"minimal","supportTopicId":"32451178","notes":[{"text":"srimport MS-RequestId 6d1c"}]}`)
	items, _ := te.walk("/v1/servicerequests")
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	it := items[0]
	notes, _ := it["notes"].([]any)
	if len(notes) != 1 {
		t.Fatalf("notes %v", it["notes"])
	}
	note, _ := notes[0].(map[string]any)
	if str(note, "text") != "srimport MS-RequestId 6d1c" || str(note, "createdDate") == "" {
		t.Errorf("note %v", note)
	}
	created, err := time.Parse(time.RFC3339Nano, str(it, "createdDate"))
	if err != nil || created.Before(before) || created.After(time.Now().Add(time.Second)) {
		t.Errorf("createdDate %q: %v", str(it, "createdDate"), err)
	}
	for _, k := range []string{"title", "description", "supportTopicId"} {
		if str(it, k) == "" {
			t.Errorf("no %s in %v", k, it)
		}
	}
	if _, b := te.do(http.MethodGet, "/v1/servicerequests", ""); !bytes.Contains(b, []byte(`"severity":"minimal"`)) {
		t.Errorf("severity missing: %s", b)
	}
}
