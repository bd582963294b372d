package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultMaxOutput is the per-stream capture cap used when
// [Spec.MaxOutput] is zero.
const DefaultMaxOutput = 1 << 20

// ErrInvalidSpec is wrapped by every error that [Run] returns because
// the [Spec] itself is unusable, so callers can tell caller mistakes
// apart from failures to start or confine the program.
var ErrInvalidSpec = errors.New("invalid sandbox spec")

const (
	// childEnvKey marks a process started by Run as a sandbox child.
	// Its presence (with childEnvValue) makes MaybeRunChild take over.
	childEnvKey   = "NOEMA_SANDBOX_CHILD"
	childEnvValue = "1"

	// specFD and statusFD are the descriptors on which the child
	// receives its childSpec and reports a childStatus. They are the
	// first two ExtraFiles of the child's exec.Cmd.
	specFD   = 3
	statusFD = 4

	// specVersion guards against a parent and child built from
	// different revisions of this package; they exchange data only
	// through /proc/self/exe, so this can only happen when the binary
	// was replaced on disk between the two, but a clear error is
	// cheaper than a confusing one.
	specVersion = 1

	// maxSpecBytes bounds how much the child reads from the spec pipe.
	// Linux caps argv+envp at a fraction of the stack limit (2 MiB by
	// default), so anything much larger cannot be executed anyway.
	maxSpecBytes = 16 << 20

	// defaultSearchPath is used to resolve argv[0] when the
	// environment has no PATH; it matches glibc's confstr(_CS_PATH)
	// with /usr/local/bin added.
	defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"
)

// Spec describes one sandboxed program invocation.
type Spec struct {
	// Argv is the program and its arguments; it is never interpreted
	// by a shell. Argv[0] is resolved against the PATH in Env when it
	// contains no slash, and relative to Dir when it is a relative
	// path with a slash. The unresolved Argv[0] is what the program
	// sees as its own name.
	Argv []string

	// Dir is the absolute working directory. It is readable by the
	// program but writable only if it is also listed in Writable.
	Dir string

	// Env is the complete environment of the program, as KEY=VALUE
	// entries; later duplicates win. A nil Env means [DefaultEnv]; a
	// non-nil empty Env means an empty environment.
	Env []string

	// Timeout bounds the run in addition to the context deadline;
	// zero means no extra bound.
	Timeout time.Duration

	// MaxOutput caps how many bytes of stdout and of stderr (each) are
	// kept; zero means DefaultMaxOutput.
	MaxOutput int64

	// Writable lists absolute paths (files or directory trees) the
	// program may read, write, create, remove and execute in. They
	// must exist.
	Writable []string

	// Readable lists absolute paths (files or directory trees), beyond
	// the system defaults, the program may read and execute. They must
	// exist.
	Readable []string

	// MaxFileSize is applied as RLIMIT_FSIZE (the program gets SIGXFSZ
	// when it writes a file past it); zero means no limit.
	MaxFileSize int64
}

// Result is the outcome of a program that was started. A nonzero exit
// status is reported here rather than as an error.
type Result struct {
	// ExitCode is the exit status, or -1 if the program was killed by
	// a signal.
	ExitCode int
	// Signal names the signal that killed the program (for example
	// "SIGKILL"), or is empty.
	Signal string

	Stdout, Stderr []byte
	// StdoutTruncated and StderrTruncated report that the stream
	// produced more than the cap, or that it could not be drained to
	// its end because a descendant that escaped the process group kept
	// it open.
	StdoutTruncated, StderrTruncated bool

	// TimedOut reports that the program was killed because
	// Spec.Timeout or the context deadline expired.
	TimedOut bool
	// Duration is the wall time from start to exit.
	Duration time.Duration

	// Landlock is the enforced Landlock ABI ("v7"), or a message
	// starting with "unavailable" when the kernel offers none.
	Landlock string
	// Seccomp reports whether the seccomp filter was installed.
	Seccomp bool
}

// DefaultEnv returns the environment used when [Spec.Env] is nil:
// the caller's PATH (or a standard one), the caller's HOME if set, the
// caller's LANG (or C.UTF-8) and TERM=dumb. HOME is passed through so
// programs find their configuration, but it is not made readable or
// writable; callers that want a usable home should point HOME at a
// directory in [Spec.Writable], for example by appending "HOME=..." to
// the returned slice.
func DefaultEnv() []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = defaultSearchPath
	}
	env := []string{"PATH=" + path}
	if home := os.Getenv("HOME"); home != "" {
		env = append(env, "HOME="+home)
	}
	lang := os.Getenv("LANG")
	if lang == "" {
		lang = "C.UTF-8"
	}
	return append(env, "LANG="+lang, "TERM=dumb")
}

// validateSpec checks everything about s that does not need the
// filesystem.
func validateSpec(s Spec) error {
	if len(s.Argv) == 0 {
		return invalidf("empty argv")
	}
	if s.Argv[0] == "" {
		return invalidf("empty argv[0]")
	}
	for i, a := range s.Argv {
		if strings.IndexByte(a, 0) >= 0 {
			return invalidf("argv[%d] contains a NUL byte", i)
		}
	}
	if err := checkAbsPath("Dir", s.Dir); err != nil {
		return err
	}
	if err := checkEnv(s.Env); err != nil {
		return err
	}
	if s.Timeout < 0 {
		return invalidf("negative Timeout %v", s.Timeout)
	}
	if s.MaxOutput < 0 {
		return invalidf("negative MaxOutput %d", s.MaxOutput)
	}
	if s.MaxFileSize < 0 {
		return invalidf("negative MaxFileSize %d", s.MaxFileSize)
	}
	for _, p := range s.Writable {
		if err := checkAbsPath("Writable path", p); err != nil {
			return err
		}
	}
	for _, p := range s.Readable {
		if err := checkAbsPath("Readable path", p); err != nil {
			return err
		}
	}
	return nil
}

func checkAbsPath(what, p string) error {
	switch {
	case p == "":
		return invalidf("%s is empty", what)
	case strings.IndexByte(p, 0) >= 0:
		return invalidf("%s %q contains a NUL byte", what, p)
	case !filepath.IsAbs(p):
		return invalidf("%s %q is not absolute", what, p)
	}
	return nil
}

func checkEnv(env []string) error {
	for i, kv := range env {
		if strings.IndexByte(kv, 0) >= 0 {
			return invalidf("env[%d] contains a NUL byte", i)
		}
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return invalidf("env[%d] %q is not KEY=VALUE", i, kv)
		}
		// A target that happens to be this same binary must not
		// mistake itself for a sandbox child.
		if k == childEnvKey {
			return invalidf("env[%d] sets the reserved variable %s", i, childEnvKey)
		}
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("sandbox: %w: %s", ErrInvalidSpec, fmt.Sprintf(format, args...))
}

// dedupEnv keeps the last value of each key, in order of first
// appearance, which is what os/exec does and what a reader of the
// Spec expects.
func dedupEnv(env []string) []string {
	idx := make(map[string]int, len(env))
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// pathRule is one Landlock grant handed to the child.
type pathRule struct {
	Path string
	// Write grants full access instead of read and execute.
	Write bool
	// Optional rules are skipped when the path does not exist; they
	// are used for system paths that vary between distributions.
	Optional bool
}

// childSpec is what crosses the process boundary from Run to
// MaybeRunChild. Everything the child needs is decided by the parent,
// so that the code that runs between restriction and execve is as
// small as possible.
type childSpec struct {
	Version     int
	Path        string
	Argv        []string
	Env         []string
	Paths       []pathRule
	MaxFileSize int64
}

// wireSpec is the JSON form of childSpec. Strings travel as []byte
// (base64 in JSON) because encoding/json replaces invalid UTF-8 with
// U+FFFD, and arguments, environment values and paths on Linux are
// arbitrary bytes that must reach execve unchanged.
type wireSpec struct {
	Version     int        `json:"version"`
	Path        []byte     `json:"path"`
	Argv        [][]byte   `json:"argv"`
	Env         [][]byte   `json:"env"`
	Paths       []wireRule `json:"paths"`
	MaxFileSize int64      `json:"max_file_size,omitempty"`
}

type wireRule struct {
	Path     []byte `json:"path"`
	Write    bool   `json:"write,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

func toWire(ss []string) [][]byte {
	if ss == nil {
		return nil
	}
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func fromWire(bs [][]byte) []string {
	if bs == nil {
		return nil
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func (c *childSpec) validate() error {
	if c.Version != specVersion {
		return fmt.Errorf("spec version %d, want %d", c.Version, specVersion)
	}
	if err := checkAbsPath("program path", c.Path); err != nil {
		return err
	}
	if len(c.Argv) == 0 {
		return errors.New("empty argv")
	}
	for i, a := range c.Argv {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("argv[%d] contains a NUL byte", i)
		}
	}
	if err := checkEnv(c.Env); err != nil {
		return err
	}
	for _, r := range c.Paths {
		if err := checkAbsPath("landlock path", r.Path); err != nil {
			return err
		}
	}
	if c.MaxFileSize < 0 {
		return fmt.Errorf("negative max file size %d", c.MaxFileSize)
	}
	return nil
}

func encodeChildSpec(c childSpec) ([]byte, error) {
	w := wireSpec{
		Version:     c.Version,
		Path:        []byte(c.Path),
		Argv:        toWire(c.Argv),
		Env:         toWire(c.Env),
		MaxFileSize: c.MaxFileSize,
	}
	if c.Paths != nil {
		w.Paths = make([]wireRule, len(c.Paths))
		for i, r := range c.Paths {
			w.Paths[i] = wireRule{Path: []byte(r.Path), Write: r.Write, Optional: r.Optional}
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("sandbox: encoding child spec: %w", err)
	}
	if len(b) > maxSpecBytes {
		return nil, invalidf("spec is %d bytes, more than the %d the child accepts", len(b), maxSpecBytes)
	}
	return b, nil
}

// decodeChildSpec reads and validates a childSpec. It is strict
// (unknown fields, trailing data and oversized input are errors)
// because a malformed spec means something other than Run started this
// process.
func decodeChildSpec(r io.Reader) (childSpec, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSpecBytes+1))
	if err != nil {
		return childSpec{}, fmt.Errorf("reading spec: %w", err)
	}
	if len(b) > maxSpecBytes {
		return childSpec{}, fmt.Errorf("spec exceeds %d bytes", maxSpecBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wireSpec
	if err := dec.Decode(&w); err != nil {
		return childSpec{}, fmt.Errorf("decoding spec: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return childSpec{}, errors.New("decoding spec: trailing data after JSON object")
	}
	c := childSpec{
		Version:     w.Version,
		Path:        string(w.Path),
		Argv:        fromWire(w.Argv),
		Env:         fromWire(w.Env),
		MaxFileSize: w.MaxFileSize,
	}
	if w.Paths != nil {
		c.Paths = make([]pathRule, len(w.Paths))
		for i, r := range w.Paths {
			c.Paths[i] = pathRule{Path: string(r.Path), Write: r.Write, Optional: r.Optional}
		}
	}
	if err := c.validate(); err != nil {
		return childSpec{}, fmt.Errorf("invalid spec: %w", err)
	}
	return c, nil
}

// childStatus is what the child reports on statusFD. It writes one
// record after applying the restrictions and, if execve fails, a
// second one with the error; a successful execve closes the
// descriptor (it is close-on-exec) without further output.
type childStatus struct {
	Landlock string `json:"landlock,omitempty"`
	Seccomp  bool   `json:"seccomp,omitempty"`
	Error    string `json:"error,omitempty"`
	// Errno carries the syscall error number behind Error, if any, so
	// the parent can return an error that matches errors.Is checks
	// such as fs.ErrPermission.
	Errno int `json:"errno,omitempty"`
}
