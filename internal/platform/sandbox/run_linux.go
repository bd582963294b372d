//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// drainTimeout bounds how long Run keeps reading stdout and stderr
// after the process group is gone. Only a descendant that left the
// group (setsid, setpgid) can keep the pipes open that long.
const drainTimeout = 2 * time.Second

// systemPaths are granted read and execute access (or read-write
// where noted) in every sandbox. They are optional because layouts
// differ between distributions. /proc/self is resolved by the child
// itself, which is the process that becomes the target, so it names
// the target's own /proc entry and no other process's.
var systemPaths = []pathRule{
	{Path: "/usr", Optional: true},
	{Path: "/bin", Optional: true},
	{Path: "/sbin", Optional: true},
	{Path: "/lib", Optional: true},
	{Path: "/lib32", Optional: true},
	{Path: "/lib64", Optional: true},
	{Path: "/libx32", Optional: true},
	{Path: "/etc", Optional: true},
	{Path: "/opt", Optional: true},
	{Path: "/proc/self", Optional: true},
	{Path: "/proc/cpuinfo", Optional: true},
	{Path: "/proc/meminfo", Optional: true},
	{Path: "/sys/devices/system/cpu", Optional: true},
	{Path: "/dev/null", Write: true, Optional: true},
	{Path: "/dev/zero", Optional: true},
	{Path: "/dev/random", Optional: true},
	{Path: "/dev/urandom", Optional: true},
}

// Run starts spec.Argv in a sandbox, waits for it and returns what it
// did. The program is killed with its whole process group when ctx is
// done or spec.Timeout expires; a deadline is reported as
// Result.TimedOut, a cancellation as an error wrapping ctx.Err()
// alongside the partial Result. A ctx that is already done when Run is
// called is an error and nothing is started. Errors are also returned
// for invalid specs (wrapping [ErrInvalidSpec], or exec.ErrNotFound for
// an unknown program) and for failures to start or confine the
// program; the latter come with whatever output the child produced.
//
// When the program exits on its own, whatever it left running in its
// process group is killed as well, so nothing it started outlives Run.
//
// Run may be called concurrently. The calling program must call
// [MaybeRunChild] at the start of main.
func Run(ctx context.Context, spec Spec) (Result, error) {
	if os.Getenv(childEnvKey) == childEnvValue {
		// Without this guard a binary that forgot MaybeRunChild would
		// re-run its own main in every child, recursively.
		return Result{}, errors.New("sandbox: Run called inside a sandbox child; main must call sandbox.MaybeRunChild first")
	}
	cs, maxOutput, err := prepare(spec)
	if err != nil {
		return Result{}, err
	}
	payload, err := encodeChildSpec(cs)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("sandbox: not started: %w", err)
	}
	if spec.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, spec.Timeout)
		defer cancel()
	}
	return start(ctx, spec.Dir, payload, maxOutput)
}

// prepare validates spec against the filesystem and turns it into the
// child's instructions.
func prepare(spec Spec) (childSpec, int64, error) {
	if err := validateSpec(spec); err != nil {
		return childSpec{}, 0, err
	}
	fi, err := os.Stat(spec.Dir)
	if err != nil {
		return childSpec{}, 0, fmt.Errorf("sandbox: %w: Dir: %w", ErrInvalidSpec, err)
	}
	if !fi.IsDir() {
		return childSpec{}, 0, invalidf("Dir %q is not a directory", spec.Dir)
	}

	env := spec.Env
	if env == nil {
		env = DefaultEnv()
	}
	env = dedupEnv(env)

	path, err := lookPath(spec.Argv[0], envValue(env, "PATH"), spec.Dir)
	if err != nil {
		return childSpec{}, 0, fmt.Errorf("sandbox: %w", err)
	}

	rules := append([]pathRule(nil), systemPaths...)
	rules = append(rules, pathRule{Path: spec.Dir})
	for _, p := range spec.Readable {
		if _, err := os.Stat(p); err != nil {
			return childSpec{}, 0, fmt.Errorf("sandbox: %w: Readable path: %w", ErrInvalidSpec, err)
		}
		rules = append(rules, pathRule{Path: p})
	}
	for _, p := range spec.Writable {
		if _, err := os.Stat(p); err != nil {
			return childSpec{}, 0, fmt.Errorf("sandbox: %w: Writable path: %w", ErrInvalidSpec, err)
		}
		rules = append(rules, pathRule{Path: p, Write: true})
	}

	maxOutput := spec.MaxOutput
	if maxOutput == 0 {
		maxOutput = DefaultMaxOutput
	}
	cs := childSpec{
		Version:     specVersion,
		Path:        path,
		Argv:        spec.Argv,
		Env:         env,
		Paths:       rules,
		MaxFileSize: spec.MaxFileSize,
	}
	return cs, maxOutput, nil
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// lookPath resolves file like exec.LookPath, but against the
// sandboxed program's PATH and working directory rather than the
// caller's. Relative PATH entries are ignored: they would make the
// resolved program depend on Dir in a way the caller rarely intends.
func lookPath(file, pathEnv, dir string) (string, error) {
	if strings.Contains(file, "/") {
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if err := checkExecutable(p); err != nil {
			return "", &exec.Error{Name: file, Err: err}
		}
		return p, nil
	}
	if pathEnv == "" {
		pathEnv = defaultSearchPath
	}
	for _, d := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, file)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return exec.ErrNotFound
		}
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fs.ErrPermission
	}
	return nil
}

// start runs the child with the encoded spec and collects the result.
func start(ctx context.Context, dir string, payload []byte, maxOutput int64) (res Result, err error) {
	var toClose []*os.File
	defer func() {
		for _, f := range toClose {
			f.Close()
		}
	}()
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err != nil {
			return nil, nil, fmt.Errorf("sandbox: creating pipe: %w", err)
		}
		toClose = append(toClose, r, w)
		return r, w, nil
	}
	specR, specW, err := pipe()
	if err != nil {
		return res, err
	}
	statusR, statusW, err := pipe()
	if err != nil {
		return res, err
	}
	outR, outW, err := pipe()
	if err != nil {
		return res, err
	}
	errR, errW, err := pipe()
	if err != nil {
		return res, err
	}

	cmd := &exec.Cmd{
		// /proc/self/exe keeps working when the binary has been
		// replaced or removed on disk since it was started.
		Path: "/proc/self/exe",
		Args: []string{"noema-sandbox-child"},
		// The child only needs the marker; the target's environment
		// travels in the spec.
		Env:        []string{childEnvKey + "=" + childEnvValue},
		Dir:        dir,
		Stdout:     outW,
		Stderr:     errW,
		ExtraFiles: []*os.File{specR, statusW}, // specFD, statusFD
		SysProcAttr: &syscall.SysProcAttr{
			// A process group of its own lets a timeout kill the
			// program together with everything it spawned.
			Setpgid: true,
			// Do not outlive a crashed caller.
			Pdeathsig: syscall.SIGKILL,
		},
	}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("sandbox: starting child: %w", err)
	}
	pgid := cmd.Process.Pid
	// Keep only the parent's ends open, so that EOF on them means the
	// child and everything that inherited them are gone.
	for _, f := range []*os.File{specR, statusW, outW, errW} {
		f.Close()
	}

	specDone := make(chan error, 1)
	go func() {
		_, err := specW.Write(payload)
		specW.Close()
		specDone <- err
	}()
	type capture struct {
		data      []byte
		truncated bool
	}
	outDone := make(chan capture, 1)
	errDone := make(chan capture, 1)
	go func() {
		d, t := readCapped(outR, maxOutput)
		outDone <- capture{d, t}
	}()
	go func() {
		d, t := readCapped(errR, maxOutput)
		errDone <- capture{d, t}
	}()
	statusDone := make(chan childStatus, 1)
	go func() { statusDone <- readStatus(statusR) }()
	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()

	var waitErr, ctxErr error
	select {
	case waitErr = <-waitDone:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		killGroup(pgid)
		waitErr = <-waitDone
	}
	res.Duration = time.Since(begin)
	// Reap what the program left behind in its group even when it
	// exited on its own; the group id cannot be reused while any
	// member is alive, so this cannot hit an unrelated process.
	killGroup(pgid)
	deadline := time.Now().Add(drainTimeout)
	outR.SetReadDeadline(deadline)
	errR.SetReadDeadline(deadline)
	statusR.SetReadDeadline(deadline)

	out, errOut := <-outDone, <-errDone
	res.Stdout, res.StdoutTruncated = out.data, out.truncated
	res.Stderr, res.StderrTruncated = errOut.data, errOut.truncated
	st := <-statusDone
	<-specDone // an EPIPE here only means the child died early; st says why
	res.Landlock, res.Seccomp = st.Landlock, st.Seccomp

	ps := cmd.ProcessState
	if ps == nil {
		return res, fmt.Errorf("sandbox: waiting for child: %w", waitErr)
	}
	res.ExitCode = ps.ExitCode()
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = unix.SignalName(ws.Signal())
		if res.Signal == "" {
			res.Signal = ws.Signal().String()
		}
	}

	if ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			res.TimedOut = true
			return res, nil
		}
		return res, fmt.Errorf("sandbox: run canceled: %w", ctxErr)
	}
	if st.Error != "" {
		err := errors.New(st.Error)
		if st.Errno != 0 {
			err = fmt.Errorf("%s: %w", st.Error, syscall.Errno(st.Errno))
		}
		return res, fmt.Errorf("sandbox: %w", err)
	}
	if st.Landlock == "" {
		return res, fmt.Errorf("sandbox: child exited (%v) before applying restrictions; does main call sandbox.MaybeRunChild first? stderr: %q",
			ps, truncateForError(res.Stderr))
	}
	return res, nil
}

// killGroup sends SIGKILL to the process group. ESRCH (group already
// gone) is the common, harmless case and is not reported.
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// readCapped reads r to EOF, keeping at most limit bytes. It keeps
// reading past the limit so the writer never blocks on a full pipe;
// truncated reports that data was dropped or that the read deadline
// cut the stream short.
func readCapped(r *os.File, limit int64) (data []byte, truncated bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			room := limit - int64(len(data))
			take := int64(n)
			if take > room {
				take = max(room, 0)
				truncated = true
			}
			data = append(data, buf[:take]...)
		}
		if err != nil {
			if err != io.EOF {
				truncated = true
			}
			return data, truncated
		}
	}
}

// readStatus decodes the child's status records until EOF. A later
// record only adds to an earlier one, so the child can report its
// restrictions first and an execve failure afterwards.
func readStatus(r io.Reader) childStatus {
	var st childStatus
	dec := json.NewDecoder(io.LimitReader(r, 64<<10))
	for {
		var rec childStatus
		if err := dec.Decode(&rec); err != nil {
			if err != io.EOF && st.Error == "" && st.Landlock == "" {
				st.Error = fmt.Sprintf("reading child status: %v", err)
			}
			return st
		}
		if rec.Landlock != "" {
			st.Landlock = rec.Landlock
		}
		st.Seccomp = st.Seccomp || rec.Seccomp
		if rec.Error != "" && st.Error == "" {
			st.Error, st.Errno = rec.Error, rec.Errno
		}
	}
}

func truncateForError(b []byte) string {
	const n = 512
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
