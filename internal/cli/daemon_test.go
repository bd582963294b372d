package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/internal/platform/sandbox"
	"github.com/noema-project/noema/server"
	"github.com/noema-project/noema/server/client"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunChild()
	os.Exit(m.Run())
}

// install is an installation in a temporary folder.
type install struct {
	t    *testing.T
	dir  string
	vars map[string]string
}

func newInstall(t *testing.T) *install {
	dir, err := os.MkdirTemp("", "ncli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	in := &install{t: t, dir: dir, vars: map[string]string{
		"HOME": filepath.Join(dir, "home"), "NOEMA_HOME": filepath.Join(dir, "noema"),
		"XDG_RUNTIME_DIR": filepath.Join(dir, "run"), "XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_DATA_HOME": filepath.Join(dir, "data"), "XDG_CACHE_HOME": filepath.Join(dir, "cache"),
	}}
	for _, d := range []string{in.vars["HOME"], in.vars["XDG_RUNTIME_DIR"], in.work()} {
		os.MkdirAll(d, 0o700)
	}
	return in
}

func (in *install) work() string           { return filepath.Join(in.dir, "work") }
func (in *install) getenv(k string) string { return in.vars[k] }

// serve runs the daemon in process until the test ends.
func (in *install) serve() {
	t := in.t
	ready := make(chan server.Info, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- server.Run(ctx, server.Config{Getenv: in.getenv, Version: "test", Listen: "127.0.0.1:0", NoDBus: true,
			Stderr: &stderr, Ready: func(i server.Info) { ready <- i }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
}

type outcome struct {
	stdout, stderr string
	code           int
}

// run runs the CLI in process; stdin, when set, is what the person types.
func (in *install) run(stdin string, args ...string) outcome {
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: in.getenv, Interactive: stdin != "", Cwd: in.work()}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Run(ctx, env, args)
	return outcome{out.String(), errb.String(), code}
}

// normalize replaces what differs between two installations and runs:
// ids, hashes, times, sequence numbers and the folders.
func normalize(s string, in *install, ids map[string]string) string {
	s = strings.ReplaceAll(s, in.dir, "DIR")
	s = regexp.MustCompile(`\b(act|ev|cor|apr|dec)_[0-9A-Z]{26}\b`).ReplaceAllStringFunc(s, func(id string) string {
		if v, ok := ids[id]; ok {
			return v
		}
		v := fmt.Sprintf("%s_%d", id[:strings.IndexByte(id, '_')], len(ids))
		ids[id] = v
		return v
	})
	s = regexp.MustCompile(`\b[0-9a-f]{64}\b|\b[0-9a-f]{16}\b`).ReplaceAllString(s, "HASH")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?`).ReplaceAllString(s, "TIME")
	s = regexp.MustCompile(`"seq": \d+`).ReplaceAllString(s, `"seq": N`)
	s = regexp.MustCompile(`"ms": [\d.]+`).ReplaceAllString(s, `"ms": N`)
	return s
}

// The CLI gives the same output and exit codes whether it works in
// process or through a running daemon: typed actions, approval at the
// prompt and by command, refusal, undo, status, the log, ask, and the
// errors of each.
func TestCLIThroughTheDaemonMatchesInProcess(t *testing.T) {
	local, remote := newInstall(t), newInstall(t)
	remote.serve()
	if c, _, err := client.Find(context.Background(), filepath.Join(remote.vars["XDG_RUNTIME_DIR"], "noema", "noema.sock"), remote.vars["NOEMA_HOME"], "cli"); c == nil || err != nil {
		t.Fatalf("no daemon found: %v", err)
	}
	type step struct {
		stdin string
		args  []string
	}
	// Arguments may name the id of an earlier step's first action: {N}.
	steps := []step{
		{"", []string{"do", "--json", "fs.write", "path=a.txt", "content=hello"}},
		{"", []string{"do", "fs.write", "path=b.txt", "content=bee"}},
		{"", []string{"do", "no.such"}},
		{"", []string{"do", "desktop.theme.set", "mode=purple"}},
		{"", []string{"do", "fs.write", "path"}},
		{"", []string{"do", "--json", "fs.delete", "path=a.txt"}},
		{"", []string{"approve", "{5}"}},
		{"", []string{"do", "fs.delete", "path=b.txt"}},
		{"", []string{"refuse", "--json", "--reason", "no", "{7}"}},
		{"", []string{"refuse", "{7}"}},
		{"", []string{"undo", "--json", "{1}"}},
		{"", []string{"undo", "{7}"}},
		{"", []string{"undo", "act_00000000000000000000000000"}},
		{"", []string{"status", "--json", "{0}"}},
		{"", []string{"status", "{1}"}},
		{"", []string{"status", "-n", "3"}},
		{"", []string{"status", "act_00000000000000000000000000"}},
		{"", []string{"log", "list", "--json", "--action", "{0}"}},
		{"", []string{"log", "list", "--type", "approval.*", "--json"}},
		{"", []string{"ask", "--json", "write hello to c.txt"}},
		{"", []string{"ask", "--dry-run", "delete c.txt"}},
		{"", []string{"ask", "delete c.txt"}},
		{"y\n", []string{"do", "fs.delete", "path=c.txt"}},
		{"n\n", []string{"do", "fs.write", "path=d.txt", "content=d", "--idempotency-key", "k1"}},
		{"", []string{"do", "--json", "fs.write", "path=d.txt", "content=d", "--idempotency-key", "k1"}},
		{"", []string{"do", "fs.write", "path=d.txt", "content=other", "--idempotency-key", "k1"}},
		{"", []string{"do", "--dry-run", "fs.write", "path=e.txt", "content=e"}},
		{"", []string{"ask", "flibber the jabberwock"}},
		{"n\n", []string{"do", "fs.delete", "path=d.txt"}},
		{"", []string{"log", "list", "--type", "approval.*", "--json"}},
	}
	idOf := func(out string) string {
		var v struct {
			Actions []struct {
				ID string `json:"action_id"`
			} `json:"actions"`
		}
		if json.Unmarshal([]byte(out), &v) == nil && len(v.Actions) > 0 {
			return v.Actions[0].ID
		}
		if m := regexp.MustCompile(`act_[0-9A-Z]{26}`).FindString(out); m != "" {
			return m
		}
		return ""
	}
	for _, side := range []*install{local, remote} {
		side.vars["PWD"] = side.work()
	}
	lids, rids := map[string]string{}, map[string]string{}
	var localIDs, remoteIDs []string
	for i, st := range steps {
		subst := func(ids []string) []string {
			var out []string
			for _, a := range st.args {
				for j := len(ids) - 1; j >= 0; j-- {
					a = strings.ReplaceAll(a, fmt.Sprintf("{%d}", j), ids[j])
				}
				out = append(out, a)
			}
			return out
		}
		lo := local.run(st.stdin, subst(localIDs)...)
		ro := remote.run(st.stdin, subst(remoteIDs)...)
		localIDs = append(localIDs, idOf(lo.stdout+lo.stderr))
		remoteIDs = append(remoteIDs, idOf(ro.stdout+ro.stderr))
		name := fmt.Sprintf("step %d (%s)", i, strings.Join(st.args, " "))
		if lo.code != ro.code {
			t.Errorf("%s: exit %d in process, %d through the daemon\nlocal: %s%s\nremote: %s%s", name, lo.code, ro.code, lo.stdout, lo.stderr, ro.stdout, ro.stderr)
			continue
		}
		for _, pair := range [][2]string{{lo.stdout, ro.stdout}, {lo.stderr, ro.stderr}} {
			l, r := normalize(pair[0], local, lids), normalize(pair[1], remote, rids)
			if l != r {
				t.Errorf("%s: output differs\n--- in process\n%s\n--- through the daemon\n%s", name, l, r)
			}
		}
	}
	// The same effects on both sides: c.txt deleted at the prompt, a.txt
	// deleted on approval, b.txt's write undone, d.txt written once, e.txt
	// only simulated.
	for _, side := range []*install{local, remote} {
		ents, _ := os.ReadDir(side.work())
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if strings.Join(names, ",") != "d.txt" {
			t.Errorf("%s holds %v, want only d.txt", side.work(), names)
		}
	}
}

// In recovery mode the CLI does not use a daemon that is not itself in
// recovery mode, and says so; NOEMA_DAEMON=off works in process.
func TestCLIRecoveryModeAndDaemonOff(t *testing.T) {
	in := newInstall(t)
	in.serve()
	o := in.run("", "--recovery", "status")
	if o.code != ExitFailure || !strings.Contains(o.stderr, "not in recovery mode") {
		t.Fatalf("recovery beside a normal daemon: %+v", o)
	}
	in.vars["NOEMA_DAEMON"] = "off"
	o = in.run("", "status")
	if o.code != 0 {
		t.Fatalf("status in process beside the daemon (a read): %+v", o)
	}
}

// noema web asks the daemon for a one-time link and prints it; without a
// daemon it says how to start one.
func TestWebPrintsALoginLink(t *testing.T) {
	in := newInstall(t)
	web := func() outcome {
		var out, errb bytes.Buffer
		g := &globals{env: Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: in.getenv, Cwd: in.work()}}
		c := webCmd(g)
		c.SetArgs([]string{"--print"})
		err := c.ExecuteContext(context.Background())
		return outcome{out.String(), fmt.Sprint(err), Code(err)}
	}
	if o := web(); o.code == 0 || !strings.Contains(o.stderr, "noema serve") {
		t.Fatalf("without a daemon: %+v", o)
	}
	in.serve()
	o := web()
	if o.code != 0 || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/login\?code=[A-Za-z0-9_-]{43}\n$`).MatchString(o.stdout) {
		t.Fatalf("with a daemon: %+v", o)
	}
}
