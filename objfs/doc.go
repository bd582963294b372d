// Package objfs is AIOS-FS, Noema's object store for the user's files.
//
// Every file Noema indexes or watches becomes an object; every change to
// it becomes an immutable version whose content is kept as BLAKE3-named,
// deduplicated, content-defined chunks in append-only pack files. Named
// pointers say which version is current and remember the versions a
// rollback moved away from, so nothing is lost by rolling back. Writes
// happen in transactions that are all-or-nothing across a crash: chunks
// are synced before the SQLite rows that name them commit.
//
// The store also keeps a search index of each object's current text (see
// objfs/search for the ranking), tags the user sets or that are derived
// from a controlled vocabulary, and the roots the user asked to index,
// which a Watcher keeps up to date.
//
// Views such as a FUSE mount read through a small API, safe for
// concurrent use and across processes:
//
//   - Objects and Object list what the store holds (filter by folder or
//     tag); Tags lists the tags in use.
//   - Versions lists a path's versions newest first; Lineage is the chain
//     a rollback walks; Pointers names the current version and the
//     versions rollbacks displaced; Version looks one up by id.
//   - OpenVersion returns a VersionReader, an io.ReaderAt that checks
//     every chunk's hash as it reads; ReadVersion returns a whole version.
//   - Search ranks the current versions for a query.
//
// Nothing here needs a model or a daemon: listing objects, reading any
// version, rolling back, verifying every chunk and rebuilding the index
// all work offline. Neural embeddings are an optional extra signal.
package objfs
