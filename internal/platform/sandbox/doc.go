// Package sandbox runs a single program, given as an argv array, under
// a set of Linux confinement mechanisms: a minimal environment, a
// timeout that kills the whole process group, capped output capture,
// resource limits, a Landlock filesystem policy and a seccomp-BPF
// filter.
//
// # Why a re-exec
//
// Landlock and seccomp restrict the calling process (every thread of
// it) for the rest of its life, and they are inherited across fork and
// execve. Applying them in the caller would confine the caller itself.
// [Run] therefore starts a fresh copy of the current executable
// (/proc/self/exe) with a marker in its environment and a JSON spec on
// file descriptor 3. That copy, the "child", must call [MaybeRunChild]
// before doing anything else: it applies the resource limits, Landlock
// and seccomp to itself, reports what it enforced on file descriptor 4,
// and then replaces itself with the target program via execve(2). The
// target therefore inherits exactly the restrictions and nothing of the
// child's Go runtime.
//
// Every program that calls [Run] must call [MaybeRunChild] first thing
// in main (and test binaries in TestMain), because the child is that
// same program.
//
// # What is enforced
//
//   - Landlock (best effort, up to the newest ABI known to
//     go-landlock): read and execute access to the usual system
//     directories (/usr, /bin, /lib*, /etc, /opt, ...), a few device
//     files and /proc/self; read access to [Spec.Dir] and
//     [Spec.Readable]; full access to [Spec.Writable]. Signals and
//     abstract UNIX sockets towards processes outside the sandbox are
//     scoped away on kernels that support it (ABI 6+). The network is
//     not restricted.
//   - seccomp-BPF with no_new_privs: privileged or kernel-attack-surface
//     syscalls (mount and the new mount API, namespaces, ptrace, module
//     loading, kexec, reboot, bpf, perf, keyrings, io_uring, clock
//     setting, uid/gid changes, ...) fail with EPERM; clone3 fails with
//     ENOSYS so that libc falls back to clone, whose namespace flags are
//     checked; syscalls of foreign ABIs (i386 and x32 on x86-64) fail
//     with ENOSYS so the filter cannot be bypassed through them.
//   - RLIMIT_CORE=0 always and RLIMIT_FSIZE=[Spec.MaxFileSize] when set.
//   - stdin is /dev/null; stdout and stderr are captured up to
//     [Spec.MaxOutput] bytes each and then drained and discarded so the
//     program never blocks on a full pipe.
//
// The sandbox is a damage-limiting layer, not a complete isolation
// boundary: the program keeps the caller's uid and capabilities, can
// use the network, and can read everything under the readable system
// directories (including root-only files in /etc when run as root).
package sandbox
