package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/noema-project/noema/objfs/fusefs"
)

// requireMount skips a test that needs a real FUSE mount where there can
// be none, saying why.
func requireMount(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE here: %v", err)
	}
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			t.Skip("not root, and fusermount3 (Debian package fuse3) is not installed")
		}
	}
}

// mountPoint makes an empty folder to mount on, and makes sure nothing
// is left mounted on it however the test ends.
func (h *fsHarness) mountPoint() string {
	h.t.Helper()
	mnt := filepath.Join(h.cwd, "..", "mnt")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		h.t.Fatal(err)
	}
	mnt, _ = filepath.Abs(mnt)
	h.t.Cleanup(func() {
		if info, err := fusefs.Probe(mnt); err == nil && info.State != fusefs.NotMounted {
			h.t.Errorf("%s still mounted (%s) at the end of the test", mnt, info.State)
			fusefs.Unmount(context.Background(), mnt, true)
		}
	})
	return mnt
}

// foreground starts `noema fs mount --foreground DIR` as a process (this
// test binary acting as the CLI) and returns once the view is up.
func (h *fsHarness) foreground(mnt string) *exec.Cmd {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], "fs", "mount", "--foreground", mnt)
	cmd.Env = append(os.Environ(), fsCLIEnv+"=1")
	for k, v := range h.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		first <- line
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-first:
		if strings.HasPrefix(line, "mounted ") {
			return cmd
		}
		cmd.Wait()
		if strings.Contains(stderr.String(), "operation not permitted") {
			h.t.Skipf("mounting is not permitted here: %s", stderr.String())
		}
		h.t.Fatalf("noema fs mount --foreground: %q %s", line, stderr.String())
	case <-time.After(30 * time.Second):
		h.t.Fatalf("noema fs mount --foreground did not mount in 30 s: %s", stderr.String())
	}
	return nil
}

func listNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ls %s: %v", dir, err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// checkView reads the view the way a person would.
func (h *fsHarness) checkView(mnt, ml, content string) {
	h.t.Helper()
	hits := listNames(h.t, filepath.Join(mnt, "search", "machine learning"))
	if len(hits) == 0 || hits[0] != "01 ml.txt" {
		h.t.Fatalf("search/machine learning: %q", hits)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "search", "machine learning", hits[0])); err != nil || string(b) != content {
		h.t.Fatalf("01 ml.txt: %q %v", b, err)
	}
	if vs := listNames(h.t, filepath.Join(mnt, "history", ml)); len(vs) != 2 {
		h.t.Fatalf("history: %q", vs)
	}
	err := os.WriteFile(filepath.Join(mnt, "current", ml), []byte("x"), 0o644)
	if !errors.Is(err, syscall.EROFS) {
		h.t.Fatalf("writing through the view: %v, want EROFS", err)
	}
}

func mounted(t *testing.T, dir string) fusefs.State {
	t.Helper()
	info, err := fusefs.Probe(dir)
	if err != nil {
		t.Fatal(err)
	}
	return info.State
}

// exited reports whether process pid has ended (a zombie has).
func exited(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func TestFSMount(t *testing.T) {
	requireMount(t)
	h := newFSHarness(t)
	ml := h.write("ml.txt", "Machine learning notes, first draft.\n")
	h.write("garden.md", "# Garden\nTomatoes and basil.\n")
	h.ok("fs", "index", ".")
	content := "Machine learning: gradient descent, learning rates, machine learning models.\n"
	h.write("ml.txt", content)
	h.ok("fs", "index", ".")
	mnt := h.mountPoint()

	// In the foreground, SIGTERM unmounts cleanly.
	cmd := h.foreground(mnt)
	h.checkView(mnt, ml, content)
	if _, _, code := h.run("fs", "mount", mnt); code != ExitCannotDo {
		t.Errorf("mounting twice: exit %d", code)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the foreground mount after SIGTERM: %v", err)
	}
	if s := mounted(t, mnt); s != fusefs.NotMounted {
		t.Fatalf("after SIGTERM: %s", s)
	}

	// In the background, the command returns once the view is up, and
	// `noema fs umount` stops the server.
	t.Setenv(fsCLIEnv, "1") // the server is this test binary too
	out := h.ok("fs", "mount", mnt)
	m := regexp.MustCompile(`server pid (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("mount said %q", out)
	}
	pid, _ := strconv.Atoi(m[1])
	h.checkView(mnt, ml, content)
	if out := h.ok("fs", "umount", mnt); !strings.Contains(out, "unmounted") {
		t.Errorf("umount said %q", out)
	}
	if s := mounted(t, mnt); s != fusefs.NotMounted {
		t.Fatalf("after umount: %s", s)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !exited(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatal("the background server did not exit after umount")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A server that dies leaves a dead mount; the next mount notices and
	// clears it, and so does umount.
	cmd = h.foreground(mnt)
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.ReadDir(mnt); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("a killed server's mount: %v, want ENOTCONN", err)
	}
	if s := mounted(t, mnt); s != fusefs.Dead {
		t.Fatalf("a killed server's mount is %s, want dead", s)
	}
	_, errs, code := h.run("fs", "mount", mnt)
	if code != 0 || !strings.Contains(errs, "dead view") {
		t.Fatalf("mount over a dead view: exit %d %s", code, errs)
	}
	h.checkView(mnt, ml, content)
	h.ok("fs", "umount", mnt)

	cmd = h.foreground(mnt)
	cmd.Process.Kill()
	cmd.Wait()
	if out := h.ok("fs", "umount", mnt); !strings.Contains(out, "dead view") {
		t.Errorf("umount of a dead view said %q", out)
	}
	if s := mounted(t, mnt); s != fusefs.NotMounted {
		t.Fatalf("after clearing the dead view: %s", s)
	}

	// Plain mistakes get plain errors.
	if _, errs, code := h.run("fs", "umount", mnt); code != ExitCannotDo || !strings.Contains(errs, "nothing is mounted") {
		t.Errorf("umount of nothing: exit %d %s", code, errs)
	}
	if _, _, code := h.run("fs", "mount", filepath.Join(mnt, "missing")); code != ExitUsage {
		t.Errorf("mount on a missing folder: exit %d", code)
	}
	if _, _, code := h.run("fs", "mount", ml); code != ExitUsage {
		t.Errorf("mount on a file: exit %d", code)
	}
}
