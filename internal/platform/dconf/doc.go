// Package dconf reads and writes the user's dconf database, the storage
// behind GSettings on GNOME, without cgo and without running the dconf or
// gsettings command-line tools.
//
// The package exists so that a program can change a desktop setting and
// then prove that the change took effect by reading the value back exactly
// the way GSettings clients see it. It therefore speaks the same three
// formats that dconf itself uses:
//
//   - Writes go through the dconf-service D-Bus API (ca.desrt.dconf.Writer,
//     method Change), which takes a changeset serialised in the GVariant
//     binary format. dconf-service rewrites the database file before it
//     replies, so a read that follows a successful write observes it.
//   - Reads parse the GVDB database file ($XDG_CONFIG_HOME/dconf/user)
//     directly, as dconf's client engine does, so they need no bus at all.
//   - Schema defaults come from the gschema XML sources (and vendor
//     .gschema.override files) in the XDG data directories, with default
//     values written in the GVariant text format.
//
// [Value] is the typed representation shared by all three: a GVariant type
// string together with a Go value. [Marshal] and [Unmarshal] convert to and
// from the binary form; [Parse], [ParseAs] and [Value.String] handle the text
// form used by gsettings, dconf and schema files.
//
// [Client] ties these together. Only the per-user database is consulted:
// system databases and locks named in a dconf profile are not.
package dconf
