//go:build linux

package sandbox

import (
	"fmt"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// deniedSyscalls fail with EPERM inside the sandbox. The list is a
// denylist on purpose: an allowlist that fits arbitrary build tools,
// interpreters and test runners would be long and brittle, while these
// calls are either privileged operations no sandboxed tool needs or
// rarely used kernel attack surface. Names the running architecture
// does not have are skipped.
var deniedSyscalls = []string{
	// Changing the filesystem view, including the new mount API.
	"mount", "umount", "umount2", "pivot_root", "chroot",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
	// Entering or creating namespaces (clone is filtered by flags below).
	"unshare", "setns",
	// Inspecting or controlling other processes.
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
	// Kernel, module and system state.
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	"syslog", "sethostname", "setdomainname", "vhangup", "uselib", "nfsservctl",
	"lookup_dcookie", "_sysctl",
	// Large, frequently exploited interfaces.
	"bpf", "perf_event_open", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	// Kernel keyrings.
	"keyctl", "add_key", "request_key",
	// Opening files by handle sidesteps path-based checks.
	"open_by_handle_at",
	// Setting the clocks.
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime",
	// Raw port I/O.
	"iopl", "ioperm", "vm86", "vm86old",
	// Changing identity. With no_new_privs set-user-ID binaries no
	// longer elevate, so these only matter to a program already
	// running as root, which could otherwise assume another user's
	// identity (and that user's files and processes).
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
	"setgroups", "setfsuid", "setfsgid",
	"setuid32", "setgid32", "setreuid32", "setregid32", "setresuid32", "setresgid32",
	"setgroups32", "setfsuid32", "setfsgid32",
}

// namespaceCloneFlags are the clone(2) flags that create namespaces;
// blocking unshare(2) alone would leave this door open.
const namespaceCloneFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// sIFCHR is the mknod mode bit shared by S_IFCHR and S_IFBLK (and by
// no valid mode of another file type), so testing it alone rejects
// device nodes while still allowing FIFOs, sockets and regular files.
const sIFCHR = 0o020000

const (
	actionEPERM  = seccomp.ActionErrno // go-seccomp-bpf adds EPERM
	actionENOSYS = seccomp.Action(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
)

// seccompPolicy builds the filter for the architecture described by
// info.
func seccompPolicy(info *arch.Info) seccomp.Policy {
	names := make([]string, 0, len(deniedSyscalls))
	for _, n := range deniedSyscalls {
		if _, ok := info.SyscallNames[n]; ok {
			names = append(names, n)
		}
	}
	groups := []seccomp.SyscallGroup{{Names: names, Action: actionEPERM}}

	var conditional []seccomp.NameWithConditions
	// The flags are the first argument of clone on the architectures
	// go-seccomp-bpf supports (x86, arm).
	if _, ok := info.SyscallNames["clone"]; ok {
		conditional = append(conditional, seccomp.NameWithConditions{
			Name:       "clone",
			Conditions: seccomp.ArgumentConditions{{Argument: 0, Operation: seccomp.BitsSet, Value: namespaceCloneFlags}},
		})
	}
	// Device nodes: a root program could otherwise create one for a
	// host disk wherever it may write.
	for _, mk := range []struct {
		name    string
		modeArg uint32
	}{{"mknod", 1}, {"mknodat", 2}} {
		if _, ok := info.SyscallNames[mk.name]; ok {
			conditional = append(conditional, seccomp.NameWithConditions{
				Name:       mk.name,
				Conditions: seccomp.ArgumentConditions{{Argument: mk.modeArg, Operation: seccomp.BitsSet, Value: sIFCHR}},
			})
		}
	}
	groups = append(groups, seccomp.SyscallGroup{NamesWithCondtions: conditional, Action: actionEPERM})

	// clone3 passes its flags in memory, where a filter cannot look.
	// ENOSYS (not EPERM) makes glibc and musl fall back to clone,
	// whose flags are checked above.
	if _, ok := info.SyscallNames["clone3"]; ok {
		groups = append(groups, seccomp.SyscallGroup{Names: []string{"clone3"}, Action: actionENOSYS})
	}
	return seccomp.Policy{DefaultAction: seccomp.ActionAllow, Syscalls: groups}
}

// installSeccomp sets no_new_privs and loads the filter on all
// threads. It reports false without error when the kernel has no
// seccomp, so that the sandbox degrades like Landlock does; a kernel
// that has it but rejects the filter is an error.
func installSeccomp() (bool, error) {
	if !seccomp.Supported() {
		// no_new_privs still keeps set-user-ID binaries from
		// elevating.
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return false, fmt.Errorf("setting no_new_privs: %w", err)
		}
		return false, nil
	}
	info, err := arch.GetInfo("")
	if err != nil {
		return false, err
	}
	filter := seccomp.Filter{
		NoNewPrivs: true,
		Flag:       seccomp.FilterFlagTSync,
		Policy:     seccompPolicy(info),
	}
	if err := seccomp.LoadFilter(filter); err != nil {
		return false, err
	}
	if err := loadArchGuard(uint32(info.ID)); err != nil {
		return false, err
	}
	return true, nil
}

// loadArchGuard installs a second filter that fails every syscall made
// through a foreign ABI (for example int 0x80 on x86-64) with ENOSYS.
// go-seccomp-bpf lets such syscalls through with the default action,
// and their numbers differ from the native ones the denylist matches,
// so without this guard a program could bypass the denylist.
func loadArchGuard(auditArch uint32) error {
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4}, // seccomp_data.arch
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, K: auditArch},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("loading architecture guard: %w", errno)
	}
	if r != 0 {
		// With TSYNC a positive result is the id of a thread that
		// could not be synchronized.
		return fmt.Errorf("loading architecture guard: thread %d could not be synchronized", r)
	}
	return nil
}
