package app

import (
	"context"
	"path/filepath"

	"github.com/noema-project/noema/adapters/objects"
	"github.com/noema-project/noema/objfs"
)

// ObjFS is the folder of the AIOS-FS object store.
func (p Paths) ObjFS() string { return filepath.Join(p.Home, "objfs") }

// TagVocabulary is the tag vocabulary file the user edits (see
// objfs.Vocabulary); without it the built-in vocabulary applies.
func (p Paths) TagVocabulary() string { return filepath.Join(p.ConfigDir, "tags.txt") }

// ObjFSOptions configure the object store: Noema's own state is never
// indexed, and NOEMA_EMBED_MODEL with NOEMA_LLM_URL adds neural
// embeddings.
func ObjFSOptions(p Paths, getenv func(string) string) objfs.Options {
	o := objfs.Options{Dir: p.ObjFS(), Home: p.UserHome, Vocabulary: p.TagVocabulary(), Exclude: []string{p.Home}}
	if e := objfs.NewHTTPEmbedder(getenv("NOEMA_LLM_URL"), getenv("NOEMA_EMBED_MODEL")); e != nil {
		o.Embedder = e
	}
	return o
}

// OpenObjFS opens the object store; no daemon and no model are needed.
func OpenObjFS(ctx context.Context, p Paths, getenv func(string) string) (*objfs.Store, error) {
	return objfs.Open(ctx, ObjFSOptions(p, getenv))
}

// ObjectsModule is the adapter for fs.search, fs.history, fs.rollback,
// fs.tag and fs.open; it opens the store on first use.
func ObjectsModule(p Paths, getenv func(string) string) *objects.Module {
	return objects.New(objects.Options{Store: ObjFSOptions(p, getenv), Home: p.UserHome})
}
