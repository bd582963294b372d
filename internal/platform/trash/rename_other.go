//go:build unix && !linux

package trash

// renameNoReplace renames oldpath to newpath, failing with an error
// wrapping fs.ErrExist if newpath exists.
func renameNoReplace(oldpath, newpath string) error {
	return renameChecked(oldpath, newpath)
}
