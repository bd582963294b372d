// Package trash moves files and directories to the freedesktop.org trash
// and restores them, following the FreeDesktop.org Trash specification
// 1.0, so that items trashed here show up in desktop file managers and
// vice versa.
//
// # Where items go
//
// Items on the same filesystem as the home trash ($XDG_DATA_HOME/Trash,
// by default ~/.local/share/Trash) are renamed into it. Items on another
// filesystem are renamed into that filesystem's own trash, so that
// trashing never copies data between disks: $topdir/.Trash/$uid when an
// administrator has prepared a sticky $topdir/.Trash, otherwise
// $topdir/.Trash-$uid, created with mode 0700. If neither can be used
// (read-only or foreign-owned mount point, a planted symlink), the item is
// copied into the home trash, the copy is compared with the original, and
// only then is the original removed. If that is impossible too, Put
// fails and the item is left as it was.
//
// # Metadata
//
// For every item a files/NAME entry and an info/NAME.trashinfo file are
// kept. The .trashinfo file is created first with O_EXCL, which is what
// makes the choice of NAME race-free between concurrent trashers, and
// the item is then moved with RENAME_NOREPLACE where the kernel supports
// it. Path values are absolute in the home trash and relative to the
// mount point in per-filesystem trash directories, as the specification
// recommends, so that removable media keep working when mounted
// elsewhere. DeletionDate is local time.
//
// The optional directorysizes cache is neither read nor written. It is
// only a cache: readers validate its entries against the .trashinfo
// modification time and compute sizes that are missing, so leaving it
// alone never produces wrong answers, whereas keeping it up to date
// would need a read-modify-write of a shared file on every operation.
//
// .trashinfo files are untrusted input (anyone able to write a trash
// directory on shared media can plant one); ParseInfo is written and
// fuzzed accordingly.
//
// The package builds on Unix systems. Atomic no-replace renames and the
// discovery of per-filesystem trash directories for List (from
// /proc/self/mountinfo) are Linux-specific; elsewhere a check-then-rename
// is used and List covers the home trash only.
package trash
