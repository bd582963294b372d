//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// maxLandlockABI is the newest ABI that go-landlock's V11 preset
// covers; on newer kernels that is what gets enforced.
const maxLandlockABI = 11

// Access rights granted per rule. They follow go-landlock's RODirs,
// ROFiles, RWDirs and RWFiles, except that writable trees do not get
// MakeChar and MakeBlock: a program running as root could otherwise
// create a device node for a host disk in its writable directory and
// open it, which no path rule would stop.
const (
	readableFile = llsys.AccessFSExecute | llsys.AccessFSReadFile
	readableDir  = readableFile | llsys.AccessFSReadDir
	writableFile = readableFile | llsys.AccessFSWriteFile | llsys.AccessFSTruncate
	writableDir  = readableDir | writableFile |
		llsys.AccessFSRemoveDir | llsys.AccessFSRemoveFile |
		llsys.AccessFSMakeDir | llsys.AccessFSMakeReg | llsys.AccessFSMakeSock |
		llsys.AccessFSMakeFifo | llsys.AccessFSMakeSym
)

// landlockABI asks the kernel for its Landlock ABI version. It returns
// 0 and the reason when Landlock is unavailable.
func landlockABI() (int, error) {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno != 0 {
		return 0, errno
	}
	return int(v), nil
}

// landlockUnavailable describes why Landlock could not be used, for
// Result.Landlock.
func landlockUnavailable(err error) string {
	switch {
	case errors.Is(err, unix.ENOSYS):
		return "unavailable: kernel built without Landlock (ENOSYS)"
	case errors.Is(err, unix.EOPNOTSUPP):
		return "unavailable: Landlock disabled at boot (EOPNOTSUPP)"
	default:
		return fmt.Sprintf("unavailable: %v", err)
	}
}

// restrictFS confines the process to rules and returns the enforced
// ABI for Result.Landlock. An unavailable Landlock is not an error:
// the other layers still apply and the caller can see what happened.
func restrictFS(rules []pathRule) (string, error) {
	abi, err := landlockABI()
	if err != nil || abi < 1 {
		if err == nil {
			err = fmt.Errorf("ABI version %d", abi)
		}
		return landlockUnavailable(err), nil
	}

	llRules := make([]landlock.Rule, 0, len(rules))
	for _, r := range rules {
		fi, err := os.Stat(r.Path)
		if err != nil {
			if r.Optional && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return "", fmt.Errorf("path rule: %w", err)
		}
		// Directory-only rights on a non-directory make the kernel
		// reject the whole rule, so files get the file subsets.
		var access landlock.AccessFSSet
		switch {
		case fi.IsDir() && r.Write:
			access = writableDir
			// Without "refer", renaming or linking between two
			// directories fails with EXDEV, which breaks the many
			// tools that write a temp file and rename it into
			// place. ABI 1 cannot grant it (and go-landlock would
			// drop Landlock altogether if asked to), but there it
			// is denied regardless.
			if abi >= 2 {
				access |= llsys.AccessFSRefer
			}
		case fi.IsDir():
			access = readableDir
		case r.Write:
			access = writableFile
		default:
			access = readableFile
		}
		rule := landlock.PathAccess(access, r.Path)
		llRules = append(llRules, rule)
	}

	// Every filesystem right go-landlock knows is handled, so whatever
	// is not granted above is denied. Scoping keeps the program from
	// signalling or reaching abstract UNIX sockets of processes
	// outside the sandbox. The network is deliberately not handled.
	cfg := landlock.Config{
		HandledAccessFS: landlock.V11.HandledAccessFS,
		Scoped:          landlock.V11.Scoped,
	}.BestEffort()
	if err := cfg.Restrict(llRules...); err != nil {
		return "", err
	}
	return fmt.Sprintf("v%d", min(abi, maxLandlockABI)), nil
}
