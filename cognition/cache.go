package cognition

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/translate"
)

// Cache is tier T0: plans already understood, reused for the same words
// without translating again. Only confident offline plans that do not
// depend on the time of day are kept, and the cache is keyed by the
// catalog's shape so a changed catalog never serves stale plans.
type Cache struct {
	mu      sync.Mutex
	path    string
	catalog string
	entries map[string][]translate.Step
	order   []string
	dirty   bool
}

const cacheMax = 2000

type cacheFile struct {
	Catalog string                      `json:"catalog"`
	Order   []string                    `json:"order"`
	Entries map[string][]translate.Step `json:"entries"`
}

// OpenCache loads the cache at path ("" keeps it in memory) for a
// catalog. A damaged or stale file is ignored.
func OpenCache(path string, cat *action.Catalog) *Cache {
	c := &Cache{path: path, catalog: catalogKey(cat), entries: map[string][]translate.Step{}}
	if path == "" {
		return c
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	var f cacheFile
	if json.Unmarshal(data, &f) == nil && f.Catalog == c.catalog && f.Entries != nil {
		c.entries, c.order = f.Entries, f.Order
	}
	return c
}

// catalogKey fingerprints the actions and their templates, and the
// program itself: a new build may read the same words differently.
func catalogKey(cat *action.Catalog) string {
	h := fnv.New64a()
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", exe, st.Size(), st.ModTime().UnixNano())
		}
	}
	for _, m := range cat.All() {
		h.Write([]byte(m.Name))
		h.Write(m.Schema)
		for _, u := range m.Utterances {
			h.Write([]byte(u))
		}
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func cacheKey(text string) string {
	return strings.Join(strings.Fields(strings.ToLower(text)), " ")
}

// Get returns a cached plan for text.
func (c *Cache) Get(text string) ([]translate.Step, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.entries[cacheKey(text)]
	return s, ok
}

// Put remembers a plan that may be reused.
func (c *Cache) Put(text string, p translate.Plan) {
	if p.Status != translate.Ready || p.Volatile || len(p.Steps) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := cacheKey(text)
	if _, ok := c.entries[k]; ok {
		return
	}
	c.entries[k] = p.Steps
	c.order = append(c.order, k)
	for len(c.order) > cacheMax {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
	c.dirty = true
}

// Save writes the cache if it changed.
func (c *Cache) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty || c.path == "" {
		return nil
	}
	data, err := json.Marshal(cacheFile{Catalog: c.catalog, Order: c.order, Entries: c.entries})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return err
	}
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	c.dirty = false
	return os.Rename(tmp, c.path)
}
