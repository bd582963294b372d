package trash

import (
	"bufio"
	"bytes"
	"os"
	"strings"
)

// pseudoFS lists filesystem types that never hold user files. Skipping
// them keeps List from probing kernel interfaces and, for autofs, from
// triggering automounts.
var pseudoFS = map[string]bool{
	"autofs": true, "binfmt_misc": true, "bpf": true, "cgroup": true,
	"cgroup2": true, "configfs": true, "debugfs": true, "devpts": true,
	"efivarfs": true, "fusectl": true, "hugetlbfs": true, "mqueue": true,
	"nsfs": true, "proc": true, "pstore": true, "rpc_pipefs": true,
	"securityfs": true, "selinuxfs": true, "sysfs": true, "tracefs": true,
}

// mountPoints returns the mount points of the current mount namespace
// that may hold trash directories.
func mountPoints() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return parseMountinfo(data), nil
}

// parseMountinfo extracts mount points from /proc/self/mountinfo
// content: field 5 is the mount point (with octal escapes), and the
// filesystem type follows the "-" separator.
func parseMountinfo(data []byte) []string {
	var mounts []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 {
			continue
		}
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(fields) || pseudoFS[fields[sep+1]] {
			continue
		}
		mounts = append(mounts, unescapeMountinfo(fields[4]))
	}
	return mounts
}

// unescapeMountinfo decodes the \NNN octal escapes the kernel uses for
// space, tab, newline and backslash in mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] <= '3' && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }
