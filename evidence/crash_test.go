package evidence

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "NOEMA_EVIDENCE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if home := os.Getenv(crashChildEnv); home != "" {
		crashChild(home)
		return
	}
	os.Exit(m.Run())
}

// crashChild appends until killed, printing each acknowledged record id.
func crashChild(home string) {
	tl := &testLog{home: home, dir: home + "/evidence", run: home + "/run", keys: home + "/keys"}
	k, _, err := LoadOrCreateKey(tl.keys)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l, err := Open(context.Background(), Options{Dir: tl.dir, RunDir: tl.run, Key: k, SegmentBytes: 64 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10000/8; i++ {
				r, err := l.Append(context.Background(), Record{Type: "crash.test", Data: json.RawMessage(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i))})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				// One write per ack, so a line in the pipe is an ack given.
				os.Stdout.WriteString(r[0].ID + "\n")
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	l.Close()
	os.Exit(0)
}

// TestKillDuringAppends kills a writer at random moments, repeatedly, and
// checks that every acknowledged record survives and the log verifies.
func TestKillDuringAppends(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns writers")
	}
	home := t.TempDir()
	rounds := 8
	acked := map[string]bool{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+home)
		out, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(5+rng.IntN(150)) * time.Millisecond
		timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			acked[sc.Text()] = true
			n++
		}
		cmd.Wait()
		timer.Stop()
		if strings.TrimSpace(stderr.String()) != "" {
			t.Fatalf("round %d: writer failed: %s", round, stderr.String())
		}
		// Reopen: recovery cuts any torn tail and records it.
		tl := &testLog{home: home, dir: home + "/evidence", run: home + "/run", keys: home + "/keys"}
		tl.key, _, _ = LoadOrCreateKey(tl.keys)
		l := tl.open(t, 64<<10)
		l.Close()
		rep := tl.verify(t)
		if !rep.OK {
			t.Fatalf("round %d (killed after %v, %d acks): verify: %v", round, delay, n, rep.Problem)
		}
		have := map[string]bool{}
		if err := Scan(context.Background(), tl.dir, Position{}, func(e Entry) error {
			if e.Record != nil {
				have[e.Record.ID] = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for id := range acked {
			if !have[id] {
				t.Fatalf("round %d: acknowledged record %s lost", round, id)
			}
		}
		t.Logf("round %d: killed after %v, %d acks this round, %d records, %d frames", round, delay, n, rep.Records, rep.Frames)
	}
}
