//go:build linux

package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// MaybeRunChild must be called first thing in main (and in TestMain of
// any test binary that uses [Run]). In an ordinary process it returns
// immediately. In a process started by Run as a sandbox child it
// applies the restrictions, replaces the process with the target
// program and never returns; on any failure it reports the error to
// the parent and exits with status 127.
func MaybeRunChild() {
	if os.Getenv(childEnvKey) != childEnvValue {
		return
	}
	// Every step below acts on the calling thread at least, and
	// execve must come from a thread that has them all.
	runtime.LockOSThread()

	// Only a pipe can be Run's status pipe; anything else on fd 4
	// (a stray marker in an interactive shell) must not be written to.
	var status *os.File
	if isPipe(statusFD) {
		status = os.NewFile(statusFD, "sandbox-status")
	}
	err := runChild(status)
	// runChild only returns on failure.
	report(status, childStatus{Error: err.Error(), Errno: errnoOf(err)})
	os.Exit(127)
}

func runChild(status *os.File) error {
	if status == nil {
		return errors.New("sandbox child: no status pipe on fd 4; was this process started by sandbox.Run?")
	}
	// Descriptors the caller inherited without close-on-exec (from a
	// shell or service manager) would otherwise pass through Run into
	// the target. This also covers the status pipe: its closing on
	// execve is how the parent learns that the exec succeeded, and the
	// target must not be able to forge status records.
	if err := closeOnExecFrom(3); err != nil {
		return fmt.Errorf("sandbox child: %w", err)
	}
	if !isPipe(specFD) {
		return errors.New("sandbox child: no spec pipe on fd 3; was this process started by sandbox.Run?")
	}
	specFile := os.NewFile(specFD, "sandbox-spec")
	spec, err := decodeChildSpec(specFile)
	specFile.Close()
	if err != nil {
		return fmt.Errorf("sandbox child: %w", err)
	}

	if err := setRlimits(spec.MaxFileSize); err != nil {
		return fmt.Errorf("sandbox child: %w", err)
	}
	ll, err := restrictFS(spec.Paths)
	if err != nil {
		return fmt.Errorf("sandbox child: landlock: %w", err)
	}
	sc, err := installSeccomp()
	if err != nil {
		return fmt.Errorf("sandbox child: seccomp: %w", err)
	}
	if err := report(status, childStatus{Landlock: ll, Seccomp: sc}); err != nil {
		return fmt.Errorf("sandbox child: reporting status: %w", err)
	}

	err = syscall.Exec(spec.Path, spec.Argv, spec.Env)
	if errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("exec %s: %w (the sandbox may not grant execute access to it; add its directory to Readable)", spec.Path, err)
	}
	return fmt.Errorf("exec %s: %w", spec.Path, err)
}

// closeOnExecFrom marks every descriptor >= first close-on-exec.
func closeOnExecFrom(first int) error {
	err := unix.CloseRange(uint(first), math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("close_range: %w", err)
	}
	// Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("listing open descriptors: %w", err)
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= first {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

func isPipe(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}

// report writes one status record. When the pipe is unusable the
// error goes to stderr, which the parent captures, as a last resort.
func report(status *os.File, st childStatus) error {
	var err error
	if status != nil {
		err = json.NewEncoder(status).Encode(st)
	} else {
		err = errors.New("no status pipe")
	}
	if err != nil && st.Error != "" {
		fmt.Fprintln(os.Stderr, st.Error)
	}
	return err
}

func errnoOf(err error) int {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return int(errno)
	}
	return 0
}

// setRlimits disables core dumps (they can be large and may contain
// secrets from the program's memory) and caps the size of files the
// program writes.
func setRlimits(maxFileSize int64) error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("setting RLIMIT_CORE: %w", err)
	}
	if maxFileSize <= 0 {
		return nil
	}
	var cur unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &cur); err != nil {
		return fmt.Errorf("reading RLIMIT_FSIZE: %w", err)
	}
	// Without privilege the hard limit can only be lowered.
	n := min(uint64(maxFileSize), cur.Max)
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: n, Max: n}); err != nil {
		return fmt.Errorf("setting RLIMIT_FSIZE: %w", err)
	}
	return nil
}
