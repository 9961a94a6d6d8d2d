package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/srimport/srimport/progress"
)

// RunDetail is what a run leaves, when it ends, for a page about it: how
// it went over time and what went wrong. A run that was killed leaves
// none; its rows, in the rows table, still tell its counts and errors.
type RunDetail struct {
	// Series is the run's time series (progress.Stats.Series).
	Series []progress.Point `json:"series"`
	// Errors is the rows' errors by group (progress.Stats.Errors).
	Errors []progress.ErrorGroup `json:"errors"`
	// Totals is what the run's requests came to: requests, retries, 429s,
	// latency, the rate limit; nil when not known.
	Totals *progress.Snapshot `json:"totals,omitempty"`
}

// SaveDetail records run id's detail, replacing any it had. An unknown
// run is an error wrapping ErrNoRun.
func (s *Store) SaveDetail(ctx context.Context, id int64, d RunDetail) error {
	series, err := json.Marshal(orEmpty(d.Series))
	if err != nil {
		return fmt.Errorf("state: save the detail of run %d: %w", id, err)
	}
	errs, err := json.Marshal(orEmpty(d.Errors))
	if err != nil {
		return fmt.Errorf("state: save the detail of run %d: %w", id, err)
	}
	var totals any
	if d.Totals != nil {
		b, err := json.Marshal(d.Totals)
		if err != nil {
			return fmt.Errorf("state: save the detail of run %d: %w", id, err)
		}
		totals = string(b)
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO run_details (run_id, series, errors, totals)
		SELECT id, ?, ?, ? FROM runs WHERE id = ?
		ON CONFLICT (run_id) DO UPDATE SET series = excluded.series, errors = excluded.errors, totals = excluded.totals`,
		string(series), string(errs), totals, id)
	if err != nil {
		return fmt.Errorf("state: save the detail of run %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("state: save the detail of run %d: %w", id, ErrNoRun)
	}
	return nil
}

// orEmpty is s, or an empty slice for nil, so that it is stored as [].
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Detail returns run id's detail; ok is false when the run saved none (it
// was killed, or an older srimport ran it). An unknown run is an error
// wrapping ErrNoRun.
func (s *Store) Detail(ctx context.Context, id int64) (d RunDetail, ok bool, err error) {
	var (
		found        int64
		series, errs sql.NullString
		totals       sql.NullString
	)
	err = s.r.QueryRowContext(ctx, `SELECT runs.id, d.series, d.errors, d.totals
		FROM runs LEFT JOIN run_details d ON d.run_id = runs.id WHERE runs.id = ?`, id).Scan(&found, &series, &errs, &totals)
	if errors.Is(err, sql.ErrNoRows) {
		return RunDetail{}, false, fmt.Errorf("state: the detail of run %d: %w", id, ErrNoRun)
	}
	if err != nil {
		return RunDetail{}, false, fmt.Errorf("state: the detail of run %d: %w", id, err)
	}
	if !series.Valid {
		return RunDetail{}, false, nil
	}
	if err := json.Unmarshal([]byte(series.String), &d.Series); err != nil {
		return RunDetail{}, false, fmt.Errorf("state: the series of run %d: %w", id, err)
	}
	if err := json.Unmarshal([]byte(errs.String), &d.Errors); err != nil {
		return RunDetail{}, false, fmt.Errorf("state: the errors of run %d: %w", id, err)
	}
	if totals.Valid {
		d.Totals = new(progress.Snapshot)
		if err := json.Unmarshal([]byte(totals.String), d.Totals); err != nil {
			return RunDetail{}, false, fmt.Errorf("state: the totals of run %d: %w", id, err)
		}
	}
	return d, true, nil
}
