package objfs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "NOEMA_OBJFS_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

const crashFiles = 3

// crashContent is what transaction n writes to file i: random bytes of a
// random length, several chunks for some.
func crashContent(n, i int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(i)))
	size := 1 + rng.IntN(160<<10)
	if i == 99 {
		size = 1 + rng.IntN(8<<10)
	}
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(rng.Uint32())
	}
	return b
}

func crashPath(n, i int) string { return fmt.Sprintf("/crash/tx-%06d/f-%d", n, i) }

// crashChild commits transactions until killed, printing each committed
// transaction's number once Update has returned.
func crashChild(dir string) {
	start, _ := strconv.Atoi(os.Getenv(crashChildEnv + "_START"))
	st, err := Open(context.Background(), Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for n := start; ; n++ {
		err := st.Update(context.Background(), func(tx *Tx) error {
			for i := 0; i < crashFiles; i++ {
				if _, _, err := tx.Put(crashPath(n, i), bytes.NewReader(crashContent(n, i)), PutInfo{Mode: 0o644}); err != nil {
					return err
				}
			}
			_, _, err := tx.Put("/crash/shared", bytes.NewReader(crashContent(n, 99)), PutInfo{Mode: 0o644})
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.WriteString(strconv.Itoa(n) + "\n")
	}
}

// TestKillDuringTransactions kills a writer at random moments with
// SIGKILL, repeatedly, and checks after each kill that every acknowledged
// transaction is there whole, that no transaction is there in part, and
// that every stored version restores byte for byte.
func TestKillDuringTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns writers")
	}
	dir := t.TempDir() + "/objfs"
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[int]bool{}
	next := 0
	rounds := 12
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, fmt.Sprintf("%s_START=%d", crashChildEnv, next))
		out, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(10+rng.IntN(400)) * time.Millisecond
		timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			v, err := strconv.Atoi(sc.Text())
			if err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			acked[v] = true
			n++
		}
		cmd.Wait()
		timer.Stop()
		if s := strings.TrimSpace(stderr.String()); s != "" {
			t.Fatalf("round %d: writer failed: %s", round, s)
		}
		visible := checkCrashStore(t, dir, acked)
		t.Logf("round %d: killed after %v, %d commits acknowledged this round, %d transactions visible", round, delay, n, len(visible))
		for v := range visible {
			next = max(next, v+1)
			// Committed for sure now, acknowledged or not: it must stay.
			acked[v] = true
		}
	}
}

// checkCrashStore reopens the store and checks it against the
// acknowledged transactions; it returns the transactions it holds.
func checkCrashStore(t *testing.T, dir string, acked map[int]bool) map[int]bool {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := st.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("store does not verify after a kill: %+v", rep)
	}
	objs, err := st.Objects(ctx, ListOptions{Folder: "/crash"})
	if err != nil {
		t.Fatal(err)
	}
	files := map[int]int{}
	for _, o := range objs {
		if o.Path == "/crash/shared" {
			continue
		}
		var n, i int
		if _, err := fmt.Sscanf(o.Path, "/crash/tx-%06d/f-%d", &n, &i); err != nil {
			t.Fatalf("unexpected object %s", o.Path)
		}
		files[n]++
		data, err := st.ReadVersion(ctx, o.Current)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, crashContent(n, i)) {
			t.Fatalf("%s does not restore byte for byte", o.Path)
		}
	}
	visible := map[int]bool{}
	last := -1
	for n, c := range files {
		if c != crashFiles {
			t.Fatalf("transaction %d is visible in part: %d of %d files", n, c, crashFiles)
		}
		visible[n] = true
		last = max(last, n)
	}
	for n := range acked {
		if !visible[n] {
			t.Fatalf("acknowledged transaction %d is lost", n)
		}
	}
	for n := range visible {
		if !acked[n] && n != last {
			t.Fatalf("transaction %d is visible but was neither acknowledged nor the last in flight", n)
		}
	}
	if len(visible) > 0 {
		vs, err := st.Versions(ctx, "/crash/shared")
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != len(visible) {
			t.Fatalf("shared file has %d versions for %d transactions", len(vs), len(visible))
		}
		data, err := st.ReadVersion(ctx, vs[0].ID)
		if err != nil || !bytes.Equal(data, crashContent(last, 99)) {
			t.Fatalf("shared file's current version is not transaction %d's: %v", last, err)
		}
	}
	return visible
}
