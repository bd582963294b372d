//go:build unix && !linux

package trash

// mountPoints is not implemented outside Linux; List then covers the
// home trash only.
func mountPoints() ([]string, error) { return nil, nil }
