// Package webui is the daemon's browser front end: plain HTML, CSS and
// JavaScript modules embedded in the binary, so the pages work offline,
// load nothing from elsewhere (the daemon's content security policy
// forbids it), and are exactly as trustworthy as the binary serving them.
//
// The daemon mounts the handler New returns as server.Config.UI, behind
// the same authentication as the API: a browser reaches the pages only
// after redeeming a one-time login link from `noema web`.
package webui

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// contentType names the media type of each kind of file the UI ships.
// A fixed table, not the host's mime.types: a module served with another
// type would not run under the nosniff header.
func contentType(ext string) (string, bool) {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8", true
	case ".css":
		return "text/css; charset=utf-8", true
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".svg":
		return "image/svg+xml", true
	}
	return "", false
}

// file is one page or asset, read once when the handler is made.
type file struct {
	data  []byte
	ctype string
}

// New returns the handler that serves the UI: / is the single page, and
// every other path names an embedded file. It answers GET and HEAD;
// anything else is 405. The files are read into memory once, here.
func New() (http.Handler, error) {
	files, err := load(static)
	if err != nil {
		return nil, err
	}
	return handler{files: files}, nil
}

func load(fsys fs.FS) (map[string]file, error) {
	root, err := fs.Sub(fsys, "static")
	if err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	files := map[string]file{}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentType(path.Ext(p))
		if !ok {
			return fmt.Errorf("webui: %s: no content type for %q files", p, path.Ext(p))
		}
		data, err := fs.ReadFile(root, p)
		if err != nil {
			return fmt.Errorf("webui: %w", err)
		}
		files["/"+p] = file{data: data, ctype: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := files["/index.html"]; !ok {
		return nil, fmt.Errorf("webui: no index.html")
	}
	files["/"] = files["/index.html"]
	return files, nil
}

type handler struct {
	files map[string]file
}

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := h.files[r.URL.Path]
	if !ok {
		http.Error(w, "not found: this page is not part of Noema's web UI", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	// A zero modification time: the content is fixed for the binary's
	// life, and ServeContent still handles HEAD and ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}
