package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/objfs"
	"github.com/noema-project/noema/objfs/fusefs"
	"github.com/noema-project/noema/objfs/search"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// fsCmd is `noema fs`: AIOS-FS, the versioned and searchable object store
// of the user's files. Everything but rollback and tag reads or writes
// the store directly (no daemon, no model); rollback and tag change the
// user's files or metadata and so go through the pipeline as actions.
func fsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "fs",
		Short: "Versioned, searchable files (AIOS-FS)",
		Long: `Every file you index becomes an object with immutable versions; search ranks
them by meaning as well as words, offline; rollback restores an earlier
version and can itself be undone. Nothing here needs a model or a daemon.`,
	}
	c.AddCommand(fsIndexCmd(g), fsSearchCmd(g), fsHistoryCmd(g), fsRollbackCmd(g), fsTagCmd(g),
		fsVerifyCmd(g), fsReindexCmd(g), fsLsCmd(g), fsMountCmd(g), fsUmountCmd(g))
	return c
}

// openStore opens the object store for a command.
func (g *globals) openStore(ctx context.Context) (*objfs.Store, app.Paths, error) {
	p, err := g.paths()
	if err != nil {
		return nil, p, err
	}
	st, err := app.OpenObjFS(ctx, p, g.env.Getenv)
	return st, p, err
}

// absArg resolves a path argument against the working folder.
func (g *globals) absArg(p string) (string, error) {
	if p == "" {
		return "", &ExitError{Code: ExitUsage, Err: errors.New("empty path")}
	}
	if strings.HasPrefix(p, "~/") || p == "~" {
		home := g.env.Getenv("HOME")
		if home == "" {
			return "", &ExitError{Code: ExitUsage, Err: fmt.Errorf("cannot expand %s: HOME is not set", p)}
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(g.env.Cwd, p)
	}
	return filepath.Clean(p), nil
}

// stderrTTY reports whether progress may be drawn on stderr.
func (g *globals) stderrTTY() bool {
	f, ok := g.env.Stderr.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func fsIndexCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "index [--json] PATH…",
		Short: "Version and index files and folders (returns when done)",
		Long: `Record every file under each PATH as a version in the object store when it
is new or changed, extract its text (plain text, Markdown, HTML, source code,
PDF, DOCX, ODT) and index it for search. Files gone from an indexed folder get
a deletion version. Unreadable files are skipped and named once. Hidden files
and folders, and Noema's own state, are left out.`,
		Example: `  noema fs index ~/Documents ~/notes
  noema fs index --json report.pdf`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			var roots []string
			for _, a := range args {
				p, err := g.absArg(a)
				if err != nil {
					return err
				}
				if _, err := os.Lstat(p); err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				roots = append(roots, p)
			}
			st, _, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			opts := objfs.IndexOptions{}
			tty := !asJSON && g.stderrTTY()
			if tty {
				opts.Progress = func(p objfs.Progress) {
					if p.Finished {
						fmt.Fprint(g.env.Stderr, "\r\033[K")
						return
					}
					fmt.Fprintf(g.env.Stderr, "\r\033[Kindexing %d/%d files, %s of %s", p.Done, p.Files, humanBytes(p.DoneBytes), humanBytes(p.Bytes))
				}
			}
			rep, err := st.Index(ctx, roots, opts)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(g.env.Stdout, rep)
			}
			w := g.env.Stdout
			fmt.Fprintf(w, "indexed %d files (%d new, %d changed, %d unchanged, %d deleted), %s in %.1f s; %d documents searchable\n",
				rep.Files, rep.New, rep.Changed, rep.Unchanged, rep.Deleted, humanBytes(rep.Bytes), rep.Seconds, rep.Documents)
			repeated := 0
			for _, p := range rep.Problems {
				if p.Repeated {
					repeated++
					continue
				}
				fmt.Fprintf(g.env.Stderr, "noema: skipped %s: %s\n", safe(p.Path), safe(p.Reason))
			}
			if repeated > 0 {
				fmt.Fprintf(g.env.Stderr, "noema: %d file(s) still cannot be read or extracted (reported before)\n", repeated)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON summary")
	return c
}

// searchResult is the contract shape of one hit.
type searchResult struct {
	Path    string  `json:"path"`
	Score   float64 `json:"score"`
	Snippet string  `json:"snippet"`
	Version string  `json:"version"`
}

func fsSearchCmd(g *globals) *cobra.Command {
	var asJSON bool
	var k int
	var kinds, tags, folders []string
	var after, before string
	c := &cobra.Command{
		Use:   "search [--json] [-k N] QUERY…",
		Short: "Search indexed files by meaning and words",
		Long: `Rank the current versions of indexed files for QUERY: BM25 with
pseudo-relevance feedback, plus latent semantic similarity learned from your
own files, plus neural embeddings when NOEMA_EMBED_MODEL is set. Filters can be
flags or words in the query: type:pdf, tag:work, in:~/notes, after:2024-01-01,
before:30d.`,
		Example: `  noema fs search "notes about machine learning"
  noema fs search --json -k 3 -- budget type:pdf after:2025-01-01`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			if k < 1 || k > 1000 {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("-k must be between 1 and 1000")}
			}
			q := objfs.Query{Text: strings.Join(args, " "), Limit: k}
			now := time.Now()
			for _, t := range kinds {
				kind, ok := search.NormalizeKind(t)
				if !ok {
					return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--type %q: use text, markdown, html, code, pdf, docx or odt", t)}
				}
				q.Filters.Kinds = append(q.Filters.Kinds, kind)
			}
			for _, t := range tags {
				tag, err := search.NormalizeTag(t)
				if err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				q.Filters.Tags = append(q.Filters.Tags, tag)
			}
			for _, f := range folders {
				dir, err := g.absArg(f)
				if err != nil {
					return err
				}
				q.Filters.Folders = append(q.Filters.Folders, dir)
			}
			for _, d := range []struct {
				s   string
				dst *time.Time
			}{{after, &q.Filters.After}, {before, &q.Filters.Before}} {
				if d.s == "" {
					continue
				}
				t, err := search.ParseDate(d.s, now)
				if err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				*d.dst = t
			}
			st, _, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			hits, err := st.Search(ctx, q)
			if errors.Is(err, objfs.ErrBadQuery) {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			if err != nil {
				return err
			}
			if asJSON {
				out := struct {
					Results []searchResult `json:"results"`
				}{Results: make([]searchResult, 0, len(hits))}
				for _, h := range hits {
					out.Results = append(out.Results, searchResult{Path: h.Path, Score: h.Score, Snippet: h.Snippet, Version: h.Version})
				}
				return writeJSON(g.env.Stdout, out)
			}
			w := g.env.Stdout
			if len(hits) == 0 {
				fmt.Fprintln(w, "no matches")
				return nil
			}
			for _, h := range hits {
				extra := h.Kind
				if len(h.Tags) > 0 {
					extra += ", tags " + strings.Join(h.Tags, " ")
				}
				fmt.Fprintf(w, "%.3f  %s  (%s)\n        %s\n", h.Score, safe(h.Path), safe(extra), safe(h.Snippet))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().IntVarP(&k, "limit", "k", 10, "how many results")
	c.Flags().StringArrayVar(&kinds, "type", nil, "only this document type (repeatable)")
	c.Flags().StringArrayVar(&tags, "tag", nil, "only files with this tag (repeatable: all must match)")
	c.Flags().StringArrayVar(&folders, "in", nil, "only files inside this folder (repeatable)")
	c.Flags().StringVar(&after, "after", "", "modified on or after (YYYY-MM-DD, RFC 3339, or 30d/2w/1y ago)")
	c.Flags().StringVar(&before, "before", "", "modified before")
	return c
}

// versionJSON is the contract shape of one version.
type versionJSON struct {
	Version   string    `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	Size      int64     `json:"size"`
	Hash      string    `json:"hash"`
}

func fsHistoryCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "history [--json] PATH",
		Short: "List a file's versions, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			path, err := g.absArg(args[0])
			if err != nil {
				return err
			}
			st, _, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			vs, err := st.Versions(ctx, path)
			if errors.Is(err, objfs.ErrNotFound) {
				return &ExitError{Code: ExitCannotDo, Err: err}
			}
			if err != nil {
				return err
			}
			if asJSON {
				out := struct {
					Versions []versionJSON `json:"versions"`
				}{Versions: make([]versionJSON, 0, len(vs))}
				for _, v := range vs {
					out.Versions = append(out.Versions, versionJSON{Version: v.ID, CreatedAt: v.CreatedAt, Size: v.Size, Hash: v.Hash})
				}
				return writeJSON(g.env.Stdout, out)
			}
			w := g.env.Stdout
			for _, v := range vs {
				mark := " "
				if v.Current {
					mark = "*"
				}
				what := fmt.Sprintf("%10s  %s", humanBytes(v.Size), short(v.Hash))
				if v.Deleted {
					what = fmt.Sprintf("%10s  %-12s", "-", "deleted")
				}
				fmt.Fprintf(w, "%s %3d  %s  %s  %s  %s\n", mark, v.Seq, v.CreatedAt.Local().Format(time.DateTime), what, v.ID, v.Origin)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// submitFS submits one fs.* action as the user (to the daemon when one
// runs) and takes it through approval, execution and verification like
// `noema do`.
func (g *globals) submitFS(ctx context.Context, name string, target any, f runFlags) error {
	raw, err := marshalTarget(target)
	if err != nil {
		return err
	}
	p, err := g.pipe(ctx)
	if err != nil {
		return err
	}
	defer p.close()
	if lp, ok := p.(*localPipe); ok {
		if err := ensureObjects(lp.a, g.env.Getenv); err != nil {
			return err
		}
	}
	if _, ok, err := p.manifest(ctx, name); err != nil {
		return err
	} else if !ok {
		return exitf(ExitCannotDo, "%s is not in this noema's catalog (is the running daemon older?)", name)
	}
	env, err := p.submit(ctx, action.Draft{Action: name, Target: raw})
	if err != nil {
		return submitError(err)
	}
	return g.finish(ctx, p, []*action.Envelope{env}, f)
}

// ensureObjects installs the objects adapter when the app's catalog does
// not carry it yet.
func ensureObjects(a *app.App, getenv func(string) string) error {
	if _, ok := a.Registry.Handler("fs.rollback"); ok {
		return nil
	}
	return a.Registry.Install(app.ObjectsModule(a.Paths, getenv))
}

func fsRollbackCmd(g *globals) *cobra.Command {
	var f runFlags
	var steps int
	c := &cobra.Command{
		Use:   "rollback [--yes] [--json] PATH --steps N",
		Short: "Restore the version N steps back (an undoable, verified action)",
		Long: `Restore the version of PATH that lies N steps back in its history as the
fs.rollback action: policy decides, the effect is proven by content hash and
recorded, and "noema undo" brings the replaced version back. Unsaved changes
in the file are kept as a version first.`,
		Example: `  noema fs rollback notes.txt --steps 2`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			if steps < 1 {
				return &ExitError{Code: ExitUsage, Err: errors.New("--steps must be at least 1")}
			}
			path, err := g.absArg(args[0])
			if err != nil {
				return err
			}
			if err := g.checkRollback(ctx, path, steps); err != nil {
				return err
			}
			return g.submitFS(ctx, "fs.rollback", map[string]any{"path": path, "steps": steps}, f)
		},
	}
	f.add(c)
	c.Flags().IntVarP(&steps, "steps", "n", 1, "how many versions back")
	return c
}

// checkRollback says plainly when there is nothing to roll back to, before
// anything is submitted.
func (g *globals) checkRollback(ctx context.Context, path string, steps int) error {
	st, _, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.PlanRollback(ctx, path, steps); err != nil {
		return &ExitError{Code: ExitCannotDo, Err: err}
	}
	return nil
}

func fsTagCmd(g *globals) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:     "tag [--yes] [--json] PATH TAG…",
		Short:   "Add tags to a file (an undoable, verified action)",
		Example: `  noema fs tag lease.pdf housing contracts`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			path, err := g.absArg(args[0])
			if err != nil {
				return err
			}
			if _, err := objfs.NormalizeTags(args[1:]); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			return g.submitFS(c.Context(), "fs.tag", map[string]any{"path": path, "tags": args[1:]}, f)
		},
	}
	f.add(c)
	return c
}

func fsVerifyCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "verify [--json]",
		Short: "Check every stored chunk and version against its hash",
		Long: `Read every chunk of the object store back and check its BLAKE3 hash, and
check that every version adds up to its size and hash. Exits 0 only when
everything verifies; otherwise names the first damaged chunk or version.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			st, _, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var progress objfs.VerifyProgress
			if !asJSON && g.stderrTTY() {
				progress = func(done, total int) {
					fmt.Fprintf(g.env.Stderr, "\r\033[Kverifying chunk %d/%d", done, total)
				}
			}
			rep, err := st.Verify(ctx, progress)
			if progress != nil {
				fmt.Fprint(g.env.Stderr, "\r\033[K")
			}
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(g.env.Stdout, rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(g.env.Stdout, "%d chunks (%s) and %d versions checked in %.1f s\n", rep.Chunks, humanBytes(rep.Bytes), rep.Versions, rep.Seconds)
			}
			if rep.OK() {
				if !asJSON {
					fmt.Fprintln(g.env.Stdout, "✔ every chunk and version verifies")
				}
				return nil
			}
			if len(rep.BadChunks) > 0 {
				b := rep.BadChunks[0]
				return exitf(ExitFailure, "%d damaged chunk(s) and %d unrestorable version(s); first: chunk %s in pack %d at %d: %s",
					len(rep.BadChunks), len(rep.BadVersions), short(b.Hash), b.Pack, b.Offset, b.Error)
			}
			b := rep.BadVersions[0]
			return exitf(ExitFailure, "%d unrestorable version(s); first: %s of %s: %s", len(rep.BadVersions), b.Version, b.Path, b.Error)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func fsReindexCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "reindex [--json]",
		Short: "Rebuild the search index and automatic tags from the stored versions",
		Long: `Rebuild the search index, the automatic tags (from the tag vocabulary,
$XDG_CONFIG_HOME/noema/tags.txt) and the semantic model from the versions the
store holds; the files themselves are not read. Needs no model and no daemon.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			st, _, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var progress func(int, int)
			if !asJSON && g.stderrTTY() {
				progress = func(done, total int) { fmt.Fprintf(g.env.Stderr, "\r\033[Kreindexing %d/%d", done, total) }
			}
			rep, err := st.Reindex(ctx, progress)
			if progress != nil {
				fmt.Fprint(g.env.Stderr, "\r\033[K")
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(g.env.Stdout, rep)
			}
			fmt.Fprintf(g.env.Stdout, "reindexed %d objects, %d documents searchable, in %.1f s\n", rep.Objects, rep.Documents, rep.Seconds)
			for _, p := range rep.Problems {
				fmt.Fprintf(g.env.Stderr, "noema: %s: %s\n", safe(p.Path), safe(p.Reason))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func fsLsCmd(g *globals) *cobra.Command {
	var asJSON, deleted bool
	var tag string
	c := &cobra.Command{
		Use:   "ls [--json] [--tag TAG] [--deleted] [FOLDER]",
		Short: "List the objects in the store",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			opts := objfs.ListOptions{Deleted: deleted}
			if len(args) == 1 {
				dir, err := g.absArg(args[0])
				if err != nil {
					return err
				}
				opts.Folder = dir
			}
			if tag != "" {
				t, err := search.NormalizeTag(tag)
				if err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				opts.Tag = t
			}
			st, _, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			objs, err := st.Objects(ctx, opts)
			if err != nil {
				return err
			}
			if asJSON {
				if objs == nil {
					objs = []objfs.Object{}
				}
				return writeJSON(g.env.Stdout, map[string]any{"objects": objs})
			}
			printObjects(g.env.Stdout, objs)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&deleted, "deleted", false, "include files that are gone")
	c.Flags().StringVar(&tag, "tag", "", "only objects with this tag")
	return c
}

func printObjects(w io.Writer, objs []objfs.Object) {
	for _, o := range objs {
		state := fmt.Sprintf("%10s", humanBytes(o.Size))
		if o.Deleted {
			state = fmt.Sprintf("%10s", "deleted")
		}
		tags := ""
		if len(o.Tags) > 0 {
			tags = "  [" + strings.Join(o.Tags, " ") + "]"
		}
		fmt.Fprintf(w, "%s  %3d v  %s  %s%s\n", state, o.Versions, o.ModTime.Local().Format(time.DateTime), safe(o.Path), safe(tags))
	}
}

func marshalTarget(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	return b, nil
}

// fsMountCmd is `noema fs mount`: the store as a folder any program can
// read. It is long-running (cmd/noema keeps the garbage collector on for
// it); without --foreground it starts itself again in the background and
// returns once the view is up, as sshfs does.
func fsMountCmd(g *globals) *cobra.Command {
	var foreground, debug bool
	var results, readyFD int
	c := &cobra.Command{
		Use:   "mount [--foreground] [-k N] DIR",
		Short: "Show the store as a read-only folder: search/, tags/, history/, current/",
		Long: `Mount a read-only view of the object store on the folder DIR, for any
program to use:

  DIR/search/<query>/   the best matches for the query, best first:
                        "01 notes.md", "02 ml.txt", … (the number is the rank)
  DIR/tags/<tag>/       the files with the tag
  DIR/history/<path>/   every version of the file at /<path>, named by version
                        id and dated when it was recorded
  DIR/current/<path>    the current version of every file that exists

Files keep their names; two with the same name get the folder that tells
them apart ("notes (work).md"). Nothing in the view can be changed. Search
folders follow the index within a second.

Without --foreground the view is served in the background and the command
returns once it is mounted; "noema fs umount DIR" (or fusermount3 -u DIR)
stops it. In the foreground, Ctrl-C or SIGTERM unmounts it. A view whose
server died is noticed and cleared by the next mount or umount. As root
nothing else is needed; other users need fusermount3 (Debian package fuse3).`,
		Example: `  noema fs mount ~/noema
  ls ~/noema/search/"machine learning"/
  cat ~/noema/history/home/me/todo.txt/ver_…
  noema fs umount ~/noema`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			if results < 1 || results > 1000 {
				return &ExitError{Code: ExitUsage, Err: errors.New("-k must be between 1 and 1000")}
			}
			if debug && !foreground {
				return &ExitError{Code: ExitUsage, Err: errors.New("--debug needs --foreground, where the log can be read")}
			}
			dir, err := g.absArg(args[0])
			if err != nil {
				return err
			}
			opts := fusefs.Options{Results: results, Debug: debug}
			if readyFD > 0 {
				return g.serveMount(ctx, dir, opts, readyFile(readyFD))
			}
			if err := g.prepareMountPoint(ctx, dir); err != nil {
				return err
			}
			if !foreground {
				return g.mountBackground(ctx, dir, results)
			}
			return g.serveMount(ctx, dir, opts, nil)
		},
	}
	c.Flags().BoolVarP(&foreground, "foreground", "f", false, "serve in this process until Ctrl-C, SIGTERM or umount")
	c.Flags().IntVarP(&results, "limit", "k", fusefs.DefaultResults, "how many matches a search folder lists")
	c.Flags().BoolVar(&debug, "debug", false, "log every FUSE request (with --foreground)")
	c.Flags().IntVar(&readyFD, "ready-fd", 0, "report readiness on this file descriptor (used by the background mount)")
	c.Flags().MarkHidden("ready-fd")
	return c
}

// prepareMountPoint checks DIR before mounting, and clears a dead view
// left by a server that was killed, which would otherwise make every
// access to DIR fail with "transport endpoint is not connected".
func (g *globals) prepareMountPoint(ctx context.Context, dir string) error {
	info, err := fusefs.Probe(dir)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	switch {
	case info.State == fusefs.Dead && info.Noema():
		fmt.Fprintf(g.env.Stderr, "noema: %s held a dead view (its server had stopped); clearing it\n", safe(dir))
		if err := fusefs.Unmount(ctx, info.Dir, true); err != nil {
			return err
		}
	case info.State == fusefs.Dead:
		return exitf(ExitCannotDo, "%s holds a dead %s mount; unmount it first (fusermount3 -u)", dir, info.FSType)
	case info.State == fusefs.Mounted && info.Noema():
		return exitf(ExitCannotDo, "a view is already mounted on %s (noema fs umount %s stops it)", dir, dir)
	case info.State == fusefs.Mounted:
		return exitf(ExitCannotDo, "%s already has a %s file system mounted on it", dir, info.FSType)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if !fi.IsDir() {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s is not a folder", dir)}
	}
	return nil
}

// readyFile is the pipe on which a background mount says it is ready.
// The pipe is closed on exec, so that no program the server starts
// (fusermount3) holds it open and keeps the parent waiting.
func readyFile(fd int) func(error) {
	syscall.CloseOnExec(fd)
	return func(err error) {
		f := os.NewFile(uintptr(fd), "ready")
		if f == nil {
			return
		}
		defer f.Close()
		if err != nil {
			fmt.Fprintln(f, err)
			return
		}
		fmt.Fprintln(f, mountReady)
	}
}

// mountReady is what a background mount writes once it serves.
const mountReady = "ready"

// serveMount mounts the view and serves it until a signal or an unmount.
// ready, when set, is told once whether the mount came up (the
// background parent waits for it); errors are also returned.
func (g *globals) serveMount(ctx context.Context, dir string, opts fusefs.Options, ready func(error)) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// After the first signal a second one ends the process at once.
	context.AfterFunc(ctx, stop)
	fail := func(err error) error {
		if ready != nil {
			ready(err)
		}
		return err
	}
	st, _, err := g.openStore(ctx)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	opts.Logf = func(format string, args ...any) {
		fmt.Fprintf(g.env.Stderr, "noema: %s\n", safe(fmt.Sprintf(format, args...)))
	}
	srv, err := fusefs.Mount(ctx, st, dir, opts)
	if err != nil {
		return fail(err)
	}
	if ready != nil {
		ready(nil)
	} else {
		fmt.Fprintf(g.env.Stdout, "mounted the view of the store on %s; Ctrl-C or `noema fs umount %s` unmounts it\n", safe(srv.Dir()), safe(srv.Dir()))
	}
	if err := srv.Run(ctx); err != nil {
		return err
	}
	if ready == nil {
		fmt.Fprintf(g.env.Stdout, "unmounted %s\n", safe(srv.Dir()))
	}
	return nil
}

// mountEnv lists the variables that choose the store and its options: a
// background mount gets them as this command saw them.
var mountEnv = []string{"HOME", "NOEMA_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "NOEMA_LLM_URL", "NOEMA_EMBED_MODEL"}

// mountBackground starts `noema fs mount --foreground` in a new session
// and returns once it serves the view, or with its reason for failing.
func (g *globals) mountBackground(ctx context.Context, dir string, results int) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the noema binary: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(exe, "fs", "mount", "--foreground", "--ready-fd", "3", "-k", strconv.Itoa(results), "--", dir)
	env := os.Environ()
	for _, k := range mountEnv {
		env = withoutVar(env, k)
		if v := g.env.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	cmd.Env = env
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start the mount: %w", err)
	}
	w.Close()
	// Ctrl-C while waiting stops the server cleanly, mounted or not.
	stopWaiting := context.AfterFunc(ctx, func() { cmd.Process.Signal(syscall.SIGTERM) })
	msg, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	interrupted := !stopWaiting()
	reply := strings.TrimSpace(string(msg))
	if reply == mountReady && !interrupted {
		pid := cmd.Process.Pid
		cmd.Process.Release()
		fmt.Fprintf(g.env.Stdout, "mounted the view of the store on %s (server pid %d); `noema fs umount %s` unmounts it\n", safe(dir), pid, safe(dir))
		return nil
	}
	werr := cmd.Wait()
	if interrupted {
		return ctx.Err()
	}
	if reply == "" {
		reply = fmt.Sprintf("the mount server stopped before the view was up (%v)", werr)
	}
	return exitf(ExitFailure, "%s", reply)
}

// withoutVar drops KEY=… from an environment list.
func withoutVar(env []string, key string) []string {
	out := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// fsUmountCmd is `noema fs umount`: it unmounts only Noema views, and also
// clears one whose server was killed.
func fsUmountCmd(g *globals) *cobra.Command {
	var lazy bool
	c := &cobra.Command{
		Use:     "umount [--lazy] DIR",
		Aliases: []string{"unmount"},
		Short:   "Unmount a view mounted with noema fs mount, or clear a dead one",
		Long: `Unmount the view on DIR; its server then exits. A view that is in use (a
program has a file open there, or works in one of its folders) is refused
unless --lazy, which detaches it at once and lets open files finish. A view
whose server died is cleared. Only Noema views are touched.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			dir, err := g.absArg(args[0])
			if err != nil {
				return err
			}
			info, err := fusefs.Probe(dir)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			switch {
			case info.State == fusefs.NotMounted:
				return exitf(ExitCannotDo, "nothing is mounted on %s", dir)
			case !info.Noema():
				return exitf(ExitCannotDo, "%s is a %s mount, not a Noema view; leaving it alone", dir, info.FSType)
			case info.State == fusefs.Dead:
				if err := fusefs.Unmount(ctx, info.Dir, true); err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "cleared the dead view on %s (its server had stopped)\n", safe(dir))
				return nil
			}
			err = fusefs.Unmount(ctx, info.Dir, lazy)
			if errors.Is(err, unix.EBUSY) {
				return exitf(ExitFailure, "%s is busy: a program has a file open there or works in one of its folders; close it, or use --lazy", dir)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "unmounted %s\n", safe(dir))
			return nil
		},
	}
	c.Flags().BoolVarP(&lazy, "lazy", "l", false, "detach even while in use; open files keep working until closed")
	return c
}
