package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/srimport/srimport/client"
	"github.com/srimport/srimport/importer"
	"github.com/srimport/srimport/state"
)

// defaultStateDir is cli.md's default state directory:
// $XDG_STATE_HOME/srimport, else ~/.local/state/srimport; "" when neither
// is known.
func defaultStateDir(getenv env) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "srimport")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "srimport")
	}
	return ""
}

// history is an import's place in the state store: the store, the cron
// lock on input + target, and the run being written.
type history struct {
	store *state.Store
	lock  *state.Lockfile
	run   *state.Run
}

// openHistory opens the state store, takes the lock for input + target,
// checks --resume, and begins the run.
//
// A mapping that differs from the last run's, and names no key, is worth a
// remark to notes: rows it maps differently get new identities.
func openHistory(ctx context.Context, notes io.Writer, o *importOptions, file, target string, keyed bool) (*history, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if isStdin(file) {
		// Runs from standard input share one name; their rows' identities
		// still tell them apart.
		abs = "(stdin)"
	}
	store, err := state.Open(o.stateDir)
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	h := &history{store: store}
	ok := false
	defer func() {
		if !ok {
			h.close()
		}
	}()
	h.lock, err = state.Lock(o.stateDir, abs+"\x00"+target)
	if err != nil {
		return nil, err
	}
	last, found, err := store.LastRun(ctx, abs, target)
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	if o.resume && (!found || last.ExitStatus != nil && *last.ExitStatus == exitOK) {
		return nil, fmt.Errorf("--resume: no unfinished run of %s into %s in %s; run without --resume to import it", file, target, o.stateDir)
	}
	var inHash string // not known for standard input, read once as it comes
	if !isStdin(file) {
		if inHash, err = hashFile(file); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	var mapHash string
	if o.mapping != "" {
		if mapHash, err = hashFile(o.mapping); err != nil {
			return nil, fmt.Errorf("mapping %s: %w", o.mapping, err)
		}
	}
	if found && last.MappingHash != mapHash && !keyed {
		fmt.Fprintf(notes, "srimport: the mapping differs from run %d's; rows it now maps differently are new to this target and will be created (a mapping key: keeps rows' identity across mapping edits)\n", last.ID)
	}
	h.run, err = store.Begin(ctx, state.RunInfo{Input: abs, InputHash: inHash, MappingHash: mapHash, Target: target})
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	ok = true
	return h, nil
}

// finish records the run's end.
func (h *history) finish(sum importer.Summary, code int) error {
	if err := h.run.Finish(context.Background(), code, stringCounts(sum.Counts), sum.Rows, sum.Finished); err != nil {
		return fmt.Errorf("state store: %w", err)
	}
	return nil
}

// close releases everything; errors have been reported by finish.
func (h *history) close() {
	if h.run != nil {
		_ = h.run.Close()
	}
	if h.lock != nil {
		_ = h.lock.Release()
	}
	_ = h.store.Close()
}

// hashFile returns the SHA-256 of a file's content, in hex.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// target names the service a run imports into: the base URL and, when it
// is known, the tenant ($SRIMPORT_TENANT, else the tid claim of a JWT
// bearer token). The token itself is never part of it.
func target(ctx context.Context, baseURL, tenant string, tokens client.TokenSource) string {
	t := strings.TrimRight(baseURL, "/")
	if tenant != "" {
		return t + " tenant=" + tenant
	}
	tok, err := tokens.Token(ctx)
	if err != nil {
		return t
	}
	if tid := tenantOf(tok); tid != "" {
		return t + " tenant=" + tid
	}
	return t
}

// tenantOf reads the tid claim of a JWT without verifying it (it only
// names the history the run belongs to); "" for anything else.
func tenantOf(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		TID string `json:"tid"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.TID
}
