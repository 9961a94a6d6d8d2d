package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/srimport/srimport/emulator"
)

// runIn runs srimport in this process with env as its environment and
// returns its exit status, stdout and stderr.
func runIn(env map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, stdio{in: strings.NewReader(""), out: &out, err: &errb}, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// TestLongRunRenewsTokensAndLeaksNoSecret: a 2 000-row import whose tokens
// expire every 50 calls, through the refresh-token grant against the
// emulator's token endpoint: every row is created exactly once, the number
// of renewals is close to the minimum, a rotated refresh token is written
// back with mode 0600, and no secret — client secret, refresh tokens,
// access tokens — appears in stdout, stderr (with -v), the report, the
// summary or anything in the state directory.
func TestLongRunRenewsTokensAndLeaksNoSecret(t *testing.T) {
	const (
		n            = 2000
		every        = 50
		clientSecret = "SECRET-CLIENT-7f3a9c"
		refresh      = "SECRET-REFRESH-2b8e41"
	)
	em := emulator.New(emulator.Config{NoDedup: true, TokenExpiryCalls: every, RefreshToken: refresh})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in, report, summary := filepath.Join(dir, "in.csv"), filepath.Join(dir, "report.csv"), filepath.Join(dir, "summary.json")
	stateDir, refreshFile := filepath.Join(dir, "state"), filepath.Join(dir, "refresh-token")
	writeBenchCSV(t, in, n)
	if err := os.WriteFile(refreshFile, []byte(refresh+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SRIMPORT_TENANT": "contoso", "SRIMPORT_CLIENT_ID": "app-1", "SRIMPORT_CLIENT_SECRET": clientSecret,
		"SRIMPORT_STATE_DIR": stateDir,
	}
	code, stdout, stderr := runIn(env, "import", "-v", "--workers", "32", "--base-url", srv.URL, "--authority", srv.URL,
		"--refresh-token-file", refreshFile, "--report", report, "--summary", summary, in)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, lastLines(stderr, 20))
	}
	checkOnce(t, em, readReport(t, report), n)

	issued := em.Stats().TokensIssued
	minimum := int64(n / every)
	t.Logf("token grants: %d for a minimum of %d (%.2f×)", issued, minimum, float64(issued)/float64(minimum))
	if issued < minimum || float64(issued) > 1.5*float64(minimum) {
		t.Errorf("%d token grants for %d rows expiring every %d calls; want close to %d", issued, n, every, minimum)
	}

	rotated, err := os.ReadFile(refreshFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(rotated)); got == refresh || got == "" {
		t.Errorf("the refresh-token file was not rewritten with the rotated token")
	}
	if info, err := os.Stat(refreshFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("refresh-token file mode %v (%v), want 0600", info.Mode().Perm(), err)
	}

	secrets := []string{clientSecret, refresh, strings.TrimSpace(string(rotated))}
	issuedToken := regexp.MustCompile(`emu(-refresh)?\.[A-Za-z0-9]{16}`)
	check := func(name, content string) {
		for _, s := range secrets {
			if strings.Contains(content, s) {
				t.Errorf("%s shows a secret (%.14s…)", name, s)
			}
		}
		if m := issuedToken.FindString(content); m != "" {
			t.Errorf("%s shows an issued token (%.10s…)", name, m)
		}
	}
	check("stdout", stdout)
	check("stderr", stderr)
	for _, f := range []string{report, summary} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		check(filepath.Base(f), string(b))
	}
	err = filepath.Walk(stateDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		check(path, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestRevokedRefreshTokenExits4: a refresh token the authority refuses
// stops the run before anything is sent, exit 4, with a message that says
// what to do and shows no secret.
func TestRevokedRefreshTokenExits4(t *testing.T) {
	em := emulator.New(emulator.Config{RefreshToken: "the-valid-one"})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	writeBenchCSV(t, in, 5)
	env := map[string]string{
		"SRIMPORT_TENANT": "contoso", "SRIMPORT_CLIENT_ID": "app-1", "SRIMPORT_CLIENT_SECRET": "SECRET-CLIENT-55aa",
		"SRIMPORT_REFRESH_TOKEN": "SECRET-REVOKED-99bb", "SRIMPORT_STATE_DIR": filepath.Join(dir, "state"),
	}
	code, stdout, stderr := runIn(env, "import", "--base-url", srv.URL, "--authority", srv.URL, in)
	if code != exitAuth {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitAuth, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "SECRET-") {
		t.Fatalf("the output shows a secret:\n%s%s", stdout, stderr)
	}
	if !strings.Contains(stderr, "refresh token") {
		t.Errorf("the message does not say which credential to check:\n%s", stderr)
	}
	if got := em.Stats().Creates; got != 0 {
		t.Errorf("%d creates sent with a refused credential", got)
	}
}

// TestTokenCommandRunsAgainOnExpiry: --token-command is run again each
// time the service says the token expired, and the run completes.
func TestTokenCommandRunsAgainOnExpiry(t *testing.T) {
	const n, every = 500, 50
	em := emulator.New(emulator.Config{TokenExpiryCalls: every})
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	in, counter := filepath.Join(dir, "in.csv"), filepath.Join(dir, "runs")
	writeBenchCSV(t, in, n)
	cmd := `n=$(cat ` + counter + ` 2>/dev/null || echo 0); n=$((n+1)); echo $n > ` + counter + `; echo "tok-$n"`
	env := map[string]string{"SRIMPORT_STATE_DIR": filepath.Join(dir, "state")}
	code, stdout, stderr := runIn(env, "import", "--workers", "8", "--base-url", srv.URL, "--token-command", cmd, in)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, lastLines(stderr, 20))
	}
	b, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	minimum := (n + 2) / every // the topic list and the rows
	if runs < minimum || float64(runs) > 1.5*float64(minimum)+1 {
		t.Fatalf("the token command ran %d times for %d calls expiring every %d; want about %d", runs, n+2, every, minimum)
	}
}

// TestCloudWithoutServiceRequestsIsRefused: --cloud china is a usage error
// that says why.
func TestCloudWithoutServiceRequestsIsRefused(t *testing.T) {
	code, _, stderr := runIn(map[string]string{"SRIMPORT_TOKEN": "t", "SRIMPORT_STATE_DIR": t.TempDir()}, "import", "--cloud", "china", "in.csv")
	if code != exitUsage || !strings.Contains(stderr, "21Vianet") {
		t.Fatalf("exit %d, %q; want 2 naming the 21Vianet Partner Center", code, stderr)
	}
}

// TestRefreshTokenRevokedMidRun: when the refresh token is revoked while
// an import runs, the run stops at the next renewal with exit 4; every row
// is in the report (created, or pending), nothing was created twice, and
// the report's created rows are what the service holds.
func TestRefreshTokenRevokedMidRun(t *testing.T) {
	const n = 1000
	em := emulator.New(emulator.Config{NoDedup: true, TokenExpiryCalls: 50, RefreshToken: "SECRET-REFRESH-c0ffee"})
	gate := &createGate{em: em}
	srv := httptest.NewServer(gate)
	defer srv.Close()
	dir := t.TempDir()
	in, report := filepath.Join(dir, "in.csv"), filepath.Join(dir, "report.csv")
	writeBenchCSV(t, in, n)
	reached := gate.after(120)
	go func() {
		<-reached
		em.RevokeRefreshTokens()
	}()
	env := map[string]string{
		"SRIMPORT_TENANT": "contoso", "SRIMPORT_CLIENT_ID": "app-1", "SRIMPORT_CLIENT_SECRET": "SECRET-CLIENT-c0ffee",
		"SRIMPORT_REFRESH_TOKEN": "SECRET-REFRESH-c0ffee", "SRIMPORT_STATE_DIR": filepath.Join(dir, "state"),
	}
	code, stdout, stderr := runIn(env, "import", "--workers", "4", "--base-url", srv.URL, "--authority", srv.URL, "--report", report, in)
	if code != exitAuth {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitAuth, stdout, lastLines(stderr, 10))
	}
	if strings.Contains(stdout+stderr, "SECRET-") {
		t.Fatalf("the output shows a secret")
	}
	recs := readReport(t, report)
	if len(recs) != n {
		t.Fatalf("the report has %d rows, the input %d", len(recs), n)
	}
	byTitle := map[string][]string{}
	for _, sr := range em.ServiceRequests() {
		byTitle[sr.Title] = append(byTitle[sr.Title], sr.ID)
	}
	counts := map[string]int{}
	for _, r := range recs {
		counts[r[1]]++
		ids := byTitle[r[7]]
		switch {
		case len(ids) > 1:
			t.Fatalf("%q created %d times", r[7], len(ids))
		case r[1] == "created" && (len(ids) != 1 || ids[0] != r[2]):
			t.Fatalf("row %s reported created as %s; the service has %v", r[0], r[2], ids)
		case r[1] == "pending" && len(ids) != 0:
			t.Fatalf("row %s reported pending, but the service created it", r[0])
		}
	}
	if counts["created"] < 120 || counts["pending"] == 0 {
		t.Fatalf("statuses %v: want the rows before the revocation created, the rest pending", counts)
	}
}
