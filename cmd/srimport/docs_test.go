package main

// The documentation's tests. README.md, ARCHITECTURE.md and docs/*.md show
// commands, manifests and names; these tests keep them true:
//
//   - TestDocsCommands runs every shell command a page marks to run, against
//     the srimport built from this tree, and checks its exit status;
//   - TestDocsYAML decodes every YAML block of docs/ and checks the
//     Kubernetes objects and alert rules in them for what the pages rely on;
//   - TestDocsNames checks that every srimport flag and metric the pages
//     name exists, and that every package, file and identifier
//     ARCHITECTURE.md cites is in the tree.
//
// # Marking a block
//
// An HTML comment on the last non-blank line before a fenced block (it does
// not show once the page is rendered) says what happens to the block:
//
//	<!-- run -->                 run its commands
//	<!-- not run: REASON -->     show them only; the reason is logged
//	<!-- file: NAME -->          write its text to the file NAME in the
//	                             page's working directory, before the
//	                             commands that follow it (made executable
//	                             when it starts with #!)
//
// In docs/ and ARCHITECTURE.md every sh, shell, bash or console block must
// be marked run or not run (or file:), so that no command escapes the
// test by being forgotten. In README.md, which is written for a first look
// rather than for this test, a block that is not marked run is not run.
//
// In a block marked run, a sh, shell or bash block is a list of commands: a
// command ends where the shell would end it (so a line ending in \, an open
// quote, a here-document or a compound command goes on over the next
// lines); blank and comment-only lines between commands are skipped. In a
// console block, a command is a line starting with "$ " (and the lines it
// needs to be complete, "> " prompts removed); the other lines are output,
// shown to the reader and not compared. A command must exit 0, or with N
// when its first or last line ends with the comment "# exit N" (or
// "# exit N: a remark").
//
// The run blocks of one page run in order in one bash, so that variables,
// cd and background jobs carry from one command to the next, in a new
// directory holding a copy of samples/ (as samples/), with the srimport
// built from this tree first on PATH, HOME in a directory of its own, no
// SRIMPORT_* variable set and TERM=dumb. Background jobs a page leaves
// running (a sandbox) are killed when its commands are done.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/srimport/srimport/mapping"
	"github.com/srimport/srimport/progress"
	"github.com/srimport/srimport/reports"
)

// repoRoot is the repository's root, seen from this package's directory,
// where go test runs.
const repoRoot = "../.."

// docCommandTimeout bounds one documented command: a command that has not
// ended by then hangs.
const docCommandTimeout = 30 * time.Second

// docPage is a Markdown page these tests read.
type docPage struct {
	path   string // relative to the repository's root
	strict bool   // every shell block must be marked
}

// docPages returns README.md (lenient), ARCHITECTURE.md and docs/*.md
// (strict), those that exist.
func docPages(t *testing.T) []docPage {
	t.Helper()
	var pages []docPage
	for _, p := range []docPage{{"README.md", false}, {"ARCHITECTURE.md", true}} {
		if _, err := os.Stat(filepath.Join(repoRoot, p.path)); err == nil {
			pages = append(pages, p)
		}
	}
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no docs/*.md found")
	}
	for _, d := range docs {
		rel, err := filepath.Rel(repoRoot, d)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, docPage{rel, true})
	}
	return pages
}

// docBlock is one fenced block of a page.
type docBlock struct {
	page   string // the page's path
	line   int    // line of the opening fence, from 1
	lang   string // first word of the info string
	marker string // "run", "not run", "file" or ""
	arg    string // the reason (not run) or the file name (file)
	text   string // the content, the fence's indentation removed
}

func (b docBlock) where() string { return fmt.Sprintf("%s:%d", b.page, b.line) }

// shell reports whether the block holds shell commands.
func (b docBlock) shell() bool {
	switch b.lang {
	case "sh", "shell", "bash", "console":
		return true
	}
	return false
}

var (
	fenceOpen = regexp.MustCompile("^( *)(`{3,}|~{3,})[ \t]*([^`\\s]*)")
	markerRE  = regexp.MustCompile(`^<!--\s*(run|not run|file)\s*(?::\s*(.*?))?\s*-->$`)
)

// docBlocks reads the fenced blocks of the page at path (relative to the
// repository's root), with their markers, and the page's lines outside
// blocks.
func docBlocks(path string) (blocks []docBlock, prose []string, err error) {
	return readDocBlocks(filepath.Join(repoRoot, path), path)
}

// readDocBlocks is docBlocks for the page in file, called path in
// messages.
func readDocBlocks(file, path string) (blocks []docBlock, prose []string, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(string(b), "\n")
	last := "" // the last non-blank line outside blocks
	for i := 0; i < len(lines); i++ {
		m := fenceOpen.FindStringSubmatch(lines[i])
		if m == nil {
			prose = append(prose, lines[i])
			if strings.TrimSpace(lines[i]) != "" {
				last = strings.TrimSpace(lines[i])
			}
			continue
		}
		blk := docBlock{page: path, line: i + 1, lang: m[3]}
		if mm := markerRE.FindStringSubmatch(last); mm != nil {
			blk.marker, blk.arg = mm[1], mm[2]
		}
		indent, fence := len(m[1]), m[2]
		var body []string
		closed := false
		for i++; i < len(lines); i++ {
			l := strings.TrimLeft(lines[i], " ")
			if strings.HasPrefix(l, fence) && strings.Trim(l, fence[:1]+" \t") == "" {
				closed = true
				break
			}
			body = append(body, trimIndent(lines[i], indent))
		}
		if !closed {
			return nil, nil, fmt.Errorf("%s: the block opened at line %d is not closed", path, blk.line)
		}
		blk.text = strings.Join(body, "\n")
		if len(body) > 0 {
			blk.text += "\n"
		}
		blocks = append(blocks, blk)
		last = ""
	}
	return blocks, prose, nil
}

// trimIndent removes up to n leading spaces from line.
func trimIndent(line string, n int) string {
	for i := 0; i < n && strings.HasPrefix(line, " "); i++ {
		line = line[1:]
	}
	return line
}

// checkMarker reports a marker that cannot be followed, and an unmarked
// shell block of a strict page.
func checkMarker(b docBlock, strict bool) error {
	switch b.marker {
	case "run":
		if !b.shell() {
			return fmt.Errorf("%s: <!-- run --> marks a %q block; only sh, shell, bash and console blocks run", b.where(), b.lang)
		}
	case "not run":
		if strings.TrimSpace(b.arg) == "" {
			return fmt.Errorf("%s: <!-- not run --> needs a reason: <!-- not run: REASON -->", b.where())
		}
	case "file":
		if !filepath.IsLocal(b.arg) {
			return fmt.Errorf("%s: <!-- file: %s --> must name a file inside the page's directory", b.where(), b.arg)
		}
	case "":
		if strict && b.shell() {
			return fmt.Errorf("%s: a %s block without a marker: put <!-- run --> or <!-- not run: REASON --> on the line before it", b.where(), b.lang)
		}
	}
	return nil
}

// docCommand is one command of a block marked run.
type docCommand struct {
	where string // page:line where it starts
	text  string // what the shell is given
	want  int    // the exit status it must end with
}

var exitComment = regexp.MustCompile(`(?:^|\s)#\s*exit\s+(\d+)(?:[:;,]\s[^#]*)?\s*$`)

// commands splits a block marked run into its commands.
func commands(b docBlock) ([]docCommand, error) {
	lines := strings.Split(strings.TrimSuffix(b.text, "\n"), "\n")
	var out []docCommand
	for i := 0; i < len(lines); i++ {
		first := lines[i]
		if b.lang == "console" {
			if !strings.HasPrefix(first, "$ ") {
				continue // output
			}
			first = strings.TrimPrefix(first, "$ ")
		} else if t := strings.TrimSpace(first); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		start := i
		cmd := []string{first}
		for !shellComplete(strings.Join(cmd, "\n")) {
			i++
			if i >= len(lines) {
				return nil, fmt.Errorf("%s:%d: the command starting here is not complete at the end of its block", b.page, b.line+1+start)
			}
			next := lines[i]
			if b.lang == "console" {
				next = strings.TrimPrefix(next, "> ")
			}
			cmd = append(cmd, next)
		}
		c := docCommand{where: fmt.Sprintf("%s:%d", b.page, b.line+1+start), text: strings.Join(cmd, "\n")}
		for _, l := range []string{cmd[len(cmd)-1], cmd[0]} {
			if m := exitComment.FindStringSubmatch(l); m != nil {
				c.want, _ = strconv.Atoi(m[1])
				break
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// shellComplete reports whether text is one or more complete shell
// commands, as bash parses them: no open quote, compound command or
// here-document, no trailing backslash.
func shellComplete(text string) bool {
	if strings.HasSuffix(text, "\\") {
		return false // bash -n takes a backslash at the end of its input for nothing
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-n")
	cmd.Stdin = strings.NewReader(text + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	// bash accepts a here-document cut short by the end of its input, with
	// a warning.
	return err == nil && !strings.Contains(stderr.String(), "here-document")
}

// TestDocsCommands runs the commands the pages mark to run (see the file's
// comment) and checks their exit statuses.
func TestDocsCommands(t *testing.T) {
	bin := buildSrimport(t)
	for _, page := range docPages(t) {
		t.Run(page.path, func(t *testing.T) {
			t.Parallel()
			blocks, _, err := docBlocks(page.path)
			if err != nil {
				t.Fatal(err)
			}
			var steps []docBlock
			for _, b := range blocks {
				if err := checkMarker(b, page.strict); err != nil {
					t.Error(err)
					continue
				}
				switch {
				case b.marker == "not run" && b.shell():
					t.Logf("%s: not run: %s", b.where(), b.arg)
				case b.marker == "" && b.shell():
					t.Logf("%s: not run: not marked <!-- run -->", b.where())
				case b.marker == "run", b.marker == "file":
					steps = append(steps, b)
				}
			}
			if t.Failed() {
				return
			}
			ran := 0
			sh := startDocShell(t, bin)
			for _, b := range steps {
				if b.marker == "file" {
					if err := sh.writeFile(b.arg, b.text); err != nil {
						t.Fatalf("%s: write %s: %v", b.where(), b.arg, err)
					}
					continue
				}
				cmds, err := commands(b)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cmds {
					got, out, err := sh.run(c.text)
					if err != nil {
						t.Fatalf("%s: %s\n%v\noutput:\n%s", c.where, c.text, err, out)
					}
					if got != c.want {
						t.Fatalf("%s: %s\nexited %d, the page says %d\noutput:\n%s", c.where, c.text, got, c.want, out)
					}
					ran++
				}
			}
			t.Logf("%s: %d commands ran as documented", page.path, ran)
		})
	}
}

// buildSrimport builds srimport from this tree into a directory of its own
// and returns that directory.
func buildSrimport(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "srimport"), ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// docShell is the bash a page's commands run in.
type docShell struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	status chan string // each command's exit status, as the shell prints it
	logs   string      // where each command's output goes
	n      int
}

// startDocShell starts bash in a new working directory holding a copy of
// samples/, with bin first on PATH. The shell and everything it started
// are killed when the test ends.
func startDocShell(t *testing.T, bin string) *docShell {
	t.Helper()
	base := t.TempDir()
	work, home, logs := filepath.Join(base, "work"), filepath.Join(base, "home"), filepath.Join(base, "logs")
	for _, d := range []string{work, home, logs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := copyDir(filepath.Join(repoRoot, "samples"), filepath.Join(work, "samples")); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir = work
	cmd.Env = docEnv(bin, home)
	cmd.ExtraFiles = []*os.File{w} // fd 3: the statuses
	// A process group of its own, so that the shell's background jobs
	// go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	shellLog, err := os.Create(filepath.Join(logs, "shell"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = shellLog, shellLog
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	s := &docShell{cmd: cmd, stdin: stdin, status: make(chan string), logs: logs}
	go func() {
		defer close(s.status)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			s.status <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		r.Close()
		shellLog.Close()
	})
	return s
}

// docEnv is the commands' environment: the test's, without SRIMPORT_*
// variables and settings that would change what the shell or srimport do,
// with bin first on PATH and home as HOME.
func docEnv(bin, home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "SRIMPORT_"), strings.HasPrefix(k, "XDG_"), strings.HasPrefix(k, "BASH_FUNC_"):
		case slices.Contains([]string{"PATH", "HOME", "TERM", "BASH_ENV", "ENV", "CDPATH", "GOGC", "GOMEMLIMIT"}, k):
		default:
			env = append(env, kv)
		}
	}
	return append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+home, "TERM=dumb")
}

// run runs one command in the shell and returns its exit status and
// output.
func (s *docShell) run(text string) (int, string, error) {
	s.n++
	out := filepath.Join(s.logs, strconv.Itoa(s.n))
	// The braces run the command in the shell itself (cd, variables and
	// background jobs stay); it reads nothing from the shell's input, and
	// what it starts does not hold the status pipe open.
	script := "{\n" + text + "\n} </dev/null >" + shellQuote(out) + " 2>&1 3>&-\nprintf '%d\\n' \"$?\" >&3\n"
	if _, err := io.WriteString(s.stdin, script); err != nil {
		return 0, s.shellLog(), fmt.Errorf("the shell is gone: %w", err)
	}
	timer := time.NewTimer(docCommandTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-s.status:
		b, _ := os.ReadFile(out)
		if !ok {
			return 0, string(b) + s.shellLog(), errors.New("the shell exited")
		}
		code, err := strconv.Atoi(line)
		if err != nil {
			return 0, string(b), fmt.Errorf("the shell printed %q for a status", line)
		}
		return code, string(b), nil
	case <-timer.C:
		b, _ := os.ReadFile(out)
		return 0, string(b), fmt.Errorf("still running after %s", docCommandTimeout)
	}
}

// writeFile writes text to name in the shell's current directory, as a
// file block asks.
func (s *docShell) writeFile(name, text string) error {
	const eof = "__DOCS_TEST_EOF__"
	if strings.Contains(text, "\n"+eof+"\n") {
		return fmt.Errorf("the block holds the line %s", eof)
	}
	cmd := "cat > " + shellQuote(name) + " <<'" + eof + "'\n" + text + eof
	if strings.HasPrefix(text, "#!") {
		cmd += "\nchmod +x " + shellQuote(name)
	}
	code, out, err := s.run(cmd)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit %d: %s", code, out)
	}
	return err
}

func (s *docShell) shellLog() string {
	b, _ := os.ReadFile(filepath.Join(s.logs, "shell"))
	return string(b)
}

// shellQuote quotes s for the shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestDocsMarkers checks the block splitter on a page of every kind of
// block, so that a mistake in it cannot pass every page unseen.
func TestDocsMarkers(t *testing.T) {
	dir := t.TempDir()
	page := "<!-- run -->\n```sh\n" +
		"srimport validate samples/tickets.csv   # exit 3: five invalid rows\n" +
		"# a comment\n" +
		"srimport import --sandbox \\\n  samples/tickets.csv  # exit 3\n" +
		"cat > f.txt <<'EOF'   # exit 0\n# not a comment\nEOF\n" +
		"for i in 1 2; do\n  echo $i\ndone\n" +
		"```\n\n" +
		"<!-- not run: needs a tenant -->\n```sh\nsrimport import x.csv\n```\n" +
		"  <!-- run -->\n  ```console\n  $ srimport version\n  srimport 1.0\n  $ echo 'a\n  > b'   # exit 0\n  ```\n" +
		"```sh\nunmarked\n```\n"
	if err := os.WriteFile(filepath.Join(dir, "p.md"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	const rel = "p.md"
	blocks, _, err := readDocBlocks(filepath.Join(dir, rel), rel)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 4 {
		t.Fatalf("got %d blocks, want 4", len(blocks))
	}
	cmds, err := commands(blocks[0])
	if err != nil {
		t.Fatal(err)
	}
	want := []docCommand{
		{rel + ":3", "srimport validate samples/tickets.csv   # exit 3: five invalid rows", 3},
		{rel + ":5", "srimport import --sandbox \\\n  samples/tickets.csv  # exit 3", 3},
		{rel + ":7", "cat > f.txt <<'EOF'   # exit 0\n# not a comment\nEOF", 0},
		{rel + ":10", "for i in 1 2; do\n  echo $i\ndone", 0},
	}
	if !slices.Equal(cmds, want) {
		t.Errorf("commands:\n got %+v\nwant %+v", cmds, want)
	}
	if b := blocks[1]; b.marker != "not run" || b.arg != "needs a tenant" {
		t.Errorf("second block: marker %q, reason %q", b.marker, b.arg)
	}
	cmds, err = commands(blocks[2])
	if err != nil {
		t.Fatal(err)
	}
	want = []docCommand{{rel + ":21", "srimport version", 0}, {rel + ":23", "echo 'a\nb'   # exit 0", 0}}
	if blocks[2].marker != "run" || !slices.Equal(cmds, want) {
		t.Errorf("console block (marker %q):\n got %+v\nwant %+v", blocks[2].marker, cmds, want)
	}
	if err := checkMarker(blocks[3], true); err == nil {
		t.Error("an unmarked sh block of a strict page passed")
	}
	if err := checkMarker(blocks[3], false); err != nil {
		t.Errorf("an unmarked sh block of a lenient page: %v", err)
	}
}

// TestDocsYAML decodes every YAML block of docs/ and checks what the pages
// rely on: the Kubernetes objects, the alert rules and the mapping files.
func TestDocsYAML(t *testing.T) {
	var objs []k8sObject
	n := 0
	for _, page := range docPages(t) {
		if !strings.HasPrefix(page.path, "docs"+string(filepath.Separator)) {
			continue
		}
		blocks, _, err := docBlocks(page.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			if b.lang != "yaml" && b.lang != "yml" {
				continue
			}
			dec := yaml.NewDecoder(strings.NewReader(b.text))
			for i := 0; ; i++ {
				var doc map[string]any
				err := dec.Decode(&doc)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Errorf("%s: document %d: %v", b.where(), i+1, err)
					break
				}
				n++
				switch {
				case doc["kind"] != nil:
					objs = append(objs, k8sObject{where: b.where(), doc: doc})
				case doc["groups"] != nil:
					checkAlertRules(t, b.where(), doc)
				case doc["fields"] != nil:
					if _, err := mapping.ParseSpec([]byte(b.text)); err != nil {
						t.Errorf("%s: a mapping file srimport refuses: %v", b.where(), err)
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no YAML documents in docs/")
	}
	checkK8sObjects(t, objs)
}

// k8sObject is a Kubernetes object of a page.
type k8sObject struct {
	where string
	doc   map[string]any
}

func (o k8sObject) kind() string { return str(o.doc, "kind") }
func (o k8sObject) name() string { return str(o.doc, "metadata", "name") }

// node walks m along keys; nil when a step is missing.
func node(m any, keys ...string) any {
	for _, k := range keys {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

func str(m any, keys ...string) string {
	s, _ := node(m, keys...).(string)
	return s
}

func list(m any, keys ...string) []any {
	l, _ := node(m, keys...).([]any)
	return l
}

// checkK8sObjects checks the objects of the pages: each is named; a
// CronJob forbids concurrent runs; every pod runs srimport with its state
// directory on a PersistentVolumeClaim the pages define, with memory
// requests and limits, and no secret in a manifest.
func checkK8sObjects(t *testing.T, objs []k8sObject) {
	t.Helper()
	claims := map[string]k8sObject{}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.kind()]++
		if str(o.doc, "apiVersion") == "" || o.name() == "" {
			t.Errorf("%s: %s without apiVersion or metadata.name", o.where, o.kind())
		}
		if o.kind() == "PersistentVolumeClaim" {
			claims[o.name()] = o
			if len(list(o.doc, "spec", "accessModes")) == 0 || str(o.doc, "spec", "resources", "requests", "storage") == "" {
				t.Errorf("%s: PersistentVolumeClaim %s without accessModes or a storage request", o.where, o.name())
			}
		}
	}
	for _, want := range []string{"CronJob", "Job", "PersistentVolumeClaim"} {
		if kinds[want] == 0 {
			t.Errorf("no %s in docs/", want)
		}
	}
	for _, o := range objs {
		var pod any
		switch o.kind() {
		case "CronJob":
			if str(o.doc, "spec", "schedule") == "" {
				t.Errorf("%s: CronJob %s has no schedule", o.where, o.name())
			}
			if p := str(o.doc, "spec", "concurrencyPolicy"); p != "Forbid" {
				t.Errorf("%s: CronJob %s: concurrencyPolicy %q; two runs must never share a state directory: Forbid", o.where, o.name(), p)
			}
			pod = node(o.doc, "spec", "jobTemplate", "spec", "template", "spec")
		case "Job":
			if str(o.doc, "spec", "completionMode") == "Indexed" {
				if c, _ := node(o.doc, "spec", "completions").(int); c < 1 {
					t.Errorf("%s: Indexed Job %s without completions", o.where, o.name())
				}
			}
			pod = node(o.doc, "spec", "template", "spec")
		case "Secret":
			if node(o.doc, "data") != nil || node(o.doc, "stringData") != nil {
				t.Errorf("%s: Secret %s holds its data in the manifest; create it from files instead", o.where, o.name())
			}
			continue
		default:
			continue
		}
		checkPod(t, o, pod, claims)
	}
}

// checkPod checks a pod template of o.
func checkPod(t *testing.T, o k8sObject, pod any, claims map[string]k8sObject) {
	t.Helper()
	where := fmt.Sprintf("%s: %s %s", o.where, o.kind(), o.name())
	if p := str(pod, "restartPolicy"); p != "Never" && p != "OnFailure" {
		t.Errorf("%s: restartPolicy %q", where, p)
	}
	volumes := map[string]map[string]any{}
	for _, v := range list(pod, "volumes") {
		vm, _ := v.(map[string]any)
		volumes[str(vm, "name")] = vm
		if c := str(vm, "persistentVolumeClaim", "claimName"); c != "" && claims[c].doc == nil {
			t.Errorf("%s: volume %s claims %q, which no page defines", where, str(vm, "name"), c)
		}
	}
	containers := append(list(pod, "initContainers"), list(pod, "containers")...)
	if len(list(pod, "containers")) == 0 {
		t.Errorf("%s: no containers", where)
	}
	srimports := 0
	for _, c := range containers {
		name := str(c, "name")
		if str(c, "image") == "" {
			t.Errorf("%s: container %s has no image", where, name)
		}
		for _, m := range list(c, "volumeMounts") {
			if volumes[str(m, "name")] == nil {
				t.Errorf("%s: container %s mounts %q, which is not a volume of the pod", where, name, str(m, "name"))
			}
		}
		for _, e := range list(c, "env") {
			switch n := str(e, "name"); n {
			case "SRIMPORT_TOKEN", "SRIMPORT_CLIENT_SECRET", "SRIMPORT_REFRESH_TOKEN", "SRIMPORT_PASSWORD":
				t.Errorf("%s: container %s sets %s in its environment; mount the secret as a file", where, name, n)
			}
		}
		if !runsSrimport(c) {
			continue
		}
		srimports++
		for _, k := range []string{"requests", "limits"} {
			if str(c, "resources", k, "memory") == "" {
				t.Errorf("%s: container %s has no memory %s", where, name, k)
			}
		}
		dir := ""
		for _, e := range list(c, "env") {
			if str(e, "name") == "SRIMPORT_STATE_DIR" {
				dir = str(e, "value")
			}
		}
		if dir == "" {
			t.Errorf("%s: container %s runs srimport without $SRIMPORT_STATE_DIR", where, name)
			continue
		}
		claim := ""
		for _, m := range list(c, "volumeMounts") {
			mp := str(m, "mountPath")
			if mp != "" && (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) {
				claim = str(volumes[str(m, "name")], "persistentVolumeClaim", "claimName")
			}
		}
		if claim == "" {
			t.Errorf("%s: container %s keeps its state directory %s off a PersistentVolumeClaim; a re-run after a restart would not know what was created", where, name, dir)
			continue
		}
		modes := list(claims[claim].doc, "spec", "accessModes")
		if len(modes) != 1 || modes[0] != "ReadWriteOnce" && modes[0] != "ReadWriteOncePod" {
			t.Errorf("%s: container %s keeps its state directory on claim %s, accessModes %v; an SQLite state store belongs to one node: ReadWriteOnce (or ReadWriteOncePod)", where, name, claim, modes)
		}
	}
	if srimports == 0 {
		t.Errorf("%s: no container runs an srimport image", where)
	}
}

// runsSrimport reports whether container c runs srimport: its command is
// srimport or the job script, or it has no command and its image is
// srimport's (whose entry point is srimport).
func runsSrimport(c any) bool {
	cmd := list(c, "command")
	if len(cmd) == 0 {
		return strings.Contains(str(c, "image"), "srimport")
	}
	last := filepath.Base(fmt.Sprint(cmd[len(cmd)-1]))
	return last == "srimport" || strings.HasPrefix(last, "srimport-job")
}

// checkAlertRules checks a Prometheus rule file: every rule has an alert
// (or record) name and an expression.
func checkAlertRules(t *testing.T, where string, doc map[string]any) {
	t.Helper()
	rules := 0
	for _, g := range list(doc, "groups") {
		for _, r := range list(g, "rules") {
			rules++
			if str(r, "alert") == "" && str(r, "record") == "" || str(r, "expr") == "" {
				t.Errorf("%s: a rule of group %q without alert or expr", where, str(g, "name"))
			}
		}
	}
	if rules == 0 {
		t.Errorf("%s: rule groups without rules", where)
	}
}

var (
	// srimportCall finds an srimport command and what follows it.
	srimportCall = regexp.MustCompile(`(?:^|[\s/"'(=;&|])srimport\s+(import|validate|sandbox|template|runs|report|version)\b([^|;&<>#)]*)`)
	flagRE       = regexp.MustCompile(`(?:^|\s)(--?[A-Za-z][\w-]*)`)
	quotedRE     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'`)
	metricRE     = regexp.MustCompile(`\bsrimport_[a-z_]+[a-z]\b`)
	inlineCode   = regexp.MustCompile("`([^`]+)`")
)

// TestDocsNames checks the names the pages cite: srimport flags in docs/
// (in every block, run or not, and in inline code), metrics in docs/ and
// ARCHITECTURE.md, and ARCHITECTURE.md's packages, files and identifiers.
func TestDocsNames(t *testing.T) {
	root := newRoot(stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard}, func(string) string { return "" }, &signals{})
	metrics := writtenMetrics(t)
	flags, names := 0, 0
	for _, page := range docPages(t) {
		if page.path == "README.md" {
			continue
		}
		blocks, prose, err := docBlocks(page.path)
		if err != nil {
			t.Fatal(err)
		}
		// Commands: in blocks (continued lines joined), in the containers
		// of manifests, and in inline code. Metrics: anywhere.
		var calls, all []string
		for _, b := range blocks {
			calls = append(calls, strings.ReplaceAll(b.text, "\\\n", " "))
			if b.lang == "yaml" {
				calls = append(calls, k8sCalls(b.text)...)
			}
			all = append(all, b.text)
		}
		for _, l := range prose {
			for _, m := range inlineCode.FindAllStringSubmatch(l, -1) {
				calls = append(calls, m[1])
			}
		}
		all = append(all, prose...)
		for _, text := range calls {
			for _, line := range strings.Split(text, "\n") {
				// A quoted argument is a value (a --token-command's
				// command), not flags.
				line = quotedRE.ReplaceAllString(line, "ARG")
				for _, m := range srimportCall.FindAllStringSubmatch(line, -1) {
					cmd, _, err := root.Find([]string{m[1]})
					if err != nil {
						t.Fatalf("%s: %v", page.path, err)
					}
					for _, f := range flagRE.FindAllStringSubmatch(m[2], -1) {
						flags++
						if !hasFlag(cmd, f[1]) {
							t.Errorf("%s: srimport %s has no flag %s (in %q)", page.path, m[1], f[1], strings.TrimSpace(line))
						}
					}
				}
			}
		}
		for _, text := range all {
			for _, name := range metricRE.FindAllString(text, -1) {
				names++
				if !metrics[name] {
					t.Errorf("%s: no metric %s; --metrics-file writes %v", page.path, name, slices.Sorted(maps.Keys(metrics)))
				}
			}
		}
	}
	if flags == 0 || names == 0 {
		t.Fatalf("found %d srimport flags and %d metric names in docs/; want some of each", flags, names)
	}
	checkLinks(t)
	checkArchitecture(t)
}

var (
	linkRE    = regexp.MustCompile(`\]\(([^()\s#]*)(?:#([^()\s]+))?\)`)
	slugStrip = regexp.MustCompile(`[^\p{L}\p{N} _-]`)
)

// checkLinks checks that every relative link of docs/ and ARCHITECTURE.md
// leads to a file of the tree and, with a #fragment, to a heading of it.
func checkLinks(t *testing.T) {
	t.Helper()
	headings := map[string]map[string]bool{} // page → its heading anchors
	anchors := func(page string) map[string]bool {
		if h, ok := headings[page]; ok {
			return h
		}
		h := map[string]bool{}
		if _, prose, err := docBlocks(page); err == nil {
			for _, l := range prose {
				if title, ok := strings.CutPrefix(strings.TrimLeft(l, "#"), " "); ok && strings.HasPrefix(l, "#") {
					h[githubSlug(title)] = true
				}
			}
		}
		headings[page] = h
		return h
	}
	links := 0
	for _, page := range docPages(t) {
		if page.path == "README.md" {
			continue
		}
		_, prose, err := docBlocks(page.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range prose {
			for _, m := range linkRE.FindAllStringSubmatch(l, -1) {
				target, frag := m[1], m[2]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				dest := page.path
				if target != "" {
					dest = filepath.Join(filepath.Dir(page.path), target)
					if _, err := os.Stat(filepath.Join(repoRoot, dest)); err != nil {
						t.Errorf("%s: a link to %s, which is not in the tree", page.path, target)
						continue
					}
				}
				if frag != "" && strings.HasSuffix(dest, ".md") && !anchors(dest)[frag] {
					t.Errorf("%s: a link to %s#%s, which has no such heading", page.path, target, frag)
				}
			}
		}
	}
	if links == 0 {
		t.Error("no relative links found in docs/")
	}
}

// githubSlug is the anchor GitHub gives a heading: lower case, punctuation
// dropped, spaces turned into hyphens.
func githubSlug(title string) string {
	title = strings.TrimSpace(inlineCode.ReplaceAllString(title, "$1"))
	return strings.ReplaceAll(slugStrip.ReplaceAllString(strings.ToLower(title), ""), " ", "-")
}

// k8sCalls returns the srimport command lines the containers of a YAML
// block run: args after a command that names srimport, written out as
// "srimport ARGS", and args after srimport-job, which hands them to
// srimport import.
func k8sCalls(text string) []string {
	var out []string
	dec := yaml.NewDecoder(strings.NewReader(text))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			return out
		}
		var walk func(any)
		walk = func(n any) {
			switch v := n.(type) {
			case map[string]any:
				if cmd := list(v, "command"); len(cmd) > 0 {
					var args []string
					for _, a := range list(v, "args") {
						args = append(args, fmt.Sprint(a))
					}
					last := fmt.Sprint(cmd[len(cmd)-1])
					switch {
					case strings.HasSuffix(last, "srimport-job") || strings.HasSuffix(last, "srimport-job.sh"):
						out = append(out, "srimport import "+strings.Join(args, " "))
					case filepath.Base(last) == "srimport":
						out = append(out, "srimport "+strings.Join(args, " "))
					}
				}
				for _, c := range v {
					walk(c)
				}
			case []any:
				for _, c := range v {
					walk(c)
				}
			}
		}
		walk(doc)
	}
}

// hasFlag reports whether cmd takes the flag written as f (--name,
// --name=value or -x).
func hasFlag(cmd *cobra.Command, f string) bool {
	name, _, _ := strings.Cut(f, "=")
	if long, ok := strings.CutPrefix(name, "--"); ok {
		return cmd.Flags().Lookup(long) != nil || long == "help"
	}
	short := strings.TrimPrefix(name, "-")
	return len(short) == 1 && (cmd.Flags().ShorthandLookup(short) != nil || short == "h")
}

// writtenMetrics returns the names of the metrics --metrics-file writes.
func writtenMetrics(t *testing.T) map[string]bool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.prom")
	err := progress.WriteTextfile(path, progress.RunMetrics{Rows: map[reports.Status]int{}, Finished: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		names[strings.FieldsFunc(l, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	if len(names) == 0 {
		t.Fatalf("no metrics in\n%s", b)
	}
	return names
}

var (
	// citedPath is an inline-code span naming a file or directory of the
	// tree: importer/importer.go, state/, cmd/srimport/root.go.
	citedPath = regexp.MustCompile(`^[a-z][\w-]*(?:/[\w.-]+)*(?:\.go|\.md|\.txtar|/)$`)
	// citedName is an inline-code span naming a declaration:
	// package.Name or package.Type.Member.
	citedName = regexp.MustCompile(`^\*?([a-z][a-z0-9]*)\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?(?:\(\))?$`)
)

// fileExt are extensions that make name.ext a file name, not a
// declaration.
var fileExt = map[string]bool{"go": true, "md": true, "yaml": true, "yml": true, "db": true, "csv": true, "xlsx": true, "jsonl": true, "json": true, "log": true, "txt": true, "prom": true}

// checkArchitecture checks that every file, directory and declaration
// ARCHITECTURE.md cites in inline code exists.
func checkArchitecture(t *testing.T) {
	t.Helper()
	blocks, prose, err := docBlocks("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	var spans []string
	for _, l := range prose {
		for _, m := range inlineCode.FindAllStringSubmatch(l, -1) {
			spans = append(spans, m[1])
		}
	}
	for _, b := range blocks {
		if b.marker != "" {
			t.Errorf("%s: ARCHITECTURE.md holds no commands", b.where())
		}
	}
	decls := map[string]map[string]bool{} // package directory → declared names
	paths, names := 0, 0
	for _, s := range spans {
		switch {
		case citedPath.MatchString(s):
			paths++
			if _, err := os.Stat(filepath.Join(repoRoot, s)); err != nil {
				t.Errorf("ARCHITECTURE.md cites %s, which is not in the tree", s)
			}
		case citedName.MatchString(s):
			m := citedName.FindStringSubmatch(s)
			if m[3] == "" && fileExt[m[2]] {
				continue // a file name: mapping.yaml
			}
			dir := packageDir(m[1])
			if dir == "" {
				continue // not a package of the tree (a field such as sum.Counts)
			}
			names++
			if decls[dir] == nil {
				decls[dir] = declaredNames(t, dir)
			}
			name := m[2]
			if m[3] != "" {
				name += "." + m[3]
			}
			if !decls[dir][name] {
				t.Errorf("ARCHITECTURE.md cites %s, which package %s does not declare", s, m[1])
			}
		}
	}
	if paths == 0 || names == 0 {
		t.Errorf("ARCHITECTURE.md cites %d paths and %d declarations; want some of each", paths, names)
	}
}

// packageDir returns the directory of the tree's package named pkg, "" if
// there is none.
func packageDir(pkg string) string {
	for _, d := range []string{pkg, filepath.Join("internal", pkg)} {
		if info, err := os.Stat(filepath.Join(repoRoot, d)); err == nil && info.IsDir() {
			return d
		}
	}
	if pkg == "main" {
		return filepath.Join("cmd", "srimport")
	}
	return ""
}

// declaredNames returns the names dir's non-test Go files declare at top
// level: functions, types, constants and variables, and Type.Method,
// Type.Field for methods, struct fields and interface methods.
func declaredNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					names[d.Name.Name] = true
					continue
				}
				typ := d.Recv.List[0].Type
				for {
					switch x := typ.(type) {
					case *ast.StarExpr:
						typ = x.X
						continue
					case *ast.IndexExpr:
						typ = x.X
						continue
					case *ast.IndexListExpr:
						typ = x.X
						continue
					}
					break
				}
				if id, ok := typ.(*ast.Ident); ok {
					names[id.Name+"."+d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						names[s.Name.Name] = true
						var fields *ast.FieldList
						switch x := s.Type.(type) {
						case *ast.StructType:
							fields = x.Fields
						case *ast.InterfaceType:
							fields = x.Methods
						}
						if fields == nil {
							continue
						}
						for _, fl := range fields.List {
							for _, n := range fl.Names {
								names[s.Name.Name+"."+n.Name] = true
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names[n.Name] = true
						}
					}
				}
			}
		}
	}
	return names
}
