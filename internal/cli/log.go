package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/evidence/evindex"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/server/client"
	"github.com/spf13/cobra"
)

func logCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "log",
		Short: "Read and verify the evidence log",
		Long: `Every step of every action is recorded in an append-only, hash-chained,
signed evidence log under $NOEMA_HOME/evidence. These commands read it;
nothing can edit or delete it.`,
	}
	c.AddCommand(logListCmd(g), logShowCmd(g), logVerifyCmd(g), logExportCmd(g), logRecoverCmd(g), logReindexCmd(g))
	return c
}

func logListCmd(g *globals) *cobra.Command {
	var asJSON bool
	var q evindex.Query
	var since string
	c := &cobra.Command{
		Use:   "list",
		Short: "List evidence records (filter by action, correlation, type, time)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			p, err := g.paths()
			if err != nil {
				return err
			}
			if since != "" {
				d, err := time.ParseDuration(since)
				if err != nil {
					t, terr := time.Parse(time.RFC3339, since)
					if terr != nil {
						return exitf(ExitUsage, "--since: want a duration (1h) or RFC 3339 time")
					}
					q.Since = t
				} else {
					q.Since = time.Now().Add(-d)
				}
			}
			hits, err := g.logHits(ctx, p, q)
			if err != nil {
				return err
			}
			if asJSON {
				type rec struct {
					ID            string    `json:"id"`
					Type          string    `json:"type"`
					ActionID      string    `json:"action_id"`
					CorrelationID string    `json:"correlation_id,omitempty"`
					Time          time.Time `json:"time"`
					Seq           uint64    `json:"seq"`
				}
				out := struct {
					Records []rec `json:"records"`
				}{Records: []rec{}}
				for _, h := range hits {
					out.Records = append(out.Records, rec{h.ID, h.Type, h.ActionID, h.CorrelationID, h.Time, h.Seq})
				}
				return writeJSON(g.env.Stdout, out)
			}
			for _, h := range hits {
				fmt.Fprintf(g.env.Stdout, "%s  %-6d %-30s %-28s %s\n", h.Time.Local().Format("2006-01-02 15:04:05"), h.Seq, h.ID, safe(h.Type), orDash(h.ActionID))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().StringVar(&q.ActionID, "action", "", "records of one action")
	c.Flags().StringVar(&q.CorrelationID, "correlation", "", "records of one correlation id")
	c.Flags().StringVar(&q.Type, "type", "", "record type (a trailing * matches a prefix)")
	c.Flags().StringVar(&since, "since", "", "records since a duration ago (1h) or a time")
	c.Flags().IntVarP(&q.Limit, "limit", "n", 0, "at most this many records")
	c.Flags().BoolVar(&q.Newest, "newest", false, "newest first")
	return c
}

func logShowCmd(g *globals) *cobra.Command {
	var withProof bool
	c := &cobra.Command{
		Use:   "show RECORD_ID",
		Short: "Show one evidence record (with --proof, its Merkle inclusion proof)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			p, err := g.paths()
			if err != nil {
				return err
			}
			idx, err := p.OpenIndex(ctx)
			if err != nil {
				return err
			}
			defer idx.Close()
			rec, err := idx.Get(ctx, args[0])
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			out := map[string]any{"record": rec}
			if withProof {
				pub, err := p.PublicKey()
				if err != nil {
					return err
				}
				pr, err := evidence.ProveInclusion(ctx, p.Evidence(), pub, rec.Seq)
				if err != nil {
					return err
				}
				out["proof"] = pr
				out["public_key"] = pub.String()
			}
			return writeJSON(g.env.Stdout, out)
		},
	}
	c.Flags().BoolVar(&withProof, "proof", false, "include an inclusion proof against the signed checkpoint")
	return c
}

func logVerifyCmd(g *globals) *cobra.Command {
	var asJSON, all bool
	var keyFile, dir string
	c := &cobra.Command{
		Use:   "verify",
		Short: "Check every byte of the evidence log; exit 0 only if all checks pass",
		Long: `Checks the hash chain over every frame, the Ed25519 seals of finished
segments and the final commit, and the signed Merkle checkpoint, so any
changed, removed, reordered or inserted byte, truncation, or added or removed
file is found. On failure it names the first bad record. Use --dir and --key
to check a copy of someone else's log with their public key.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			p, err := g.paths()
			if err != nil {
				return err
			}
			if dir == "" {
				dir = p.Evidence()
			}
			var pub *evidence.PublicKey
			if keyFile != "" {
				pub, err = evidence.LoadPublicKey(keyFile)
			} else {
				pub, err = p.PublicKey()
			}
			if err != nil {
				return err
			}
			start := time.Now()
			rep, err := evidence.Verify(ctx, dir, pub, evidence.VerifyOptions{AllSignatures: all})
			if err != nil {
				return err
			}
			elapsed := time.Since(start)
			if asJSON {
				if err := writeJSON(g.env.Stdout, rep); err != nil {
					return err
				}
			} else if rep.OK {
				fmt.Fprintf(g.env.Stdout, "✔ evidence log verified: %d records, %d frames in %d segments (%d bytes), checkpoint %d, root %s (%v)\n",
					rep.Records, rep.Frames, rep.Segments, rep.Bytes, rep.CheckpointSize, rep.Root[:16], elapsed.Round(time.Millisecond))
				for _, n := range rep.Notes {
					fmt.Fprintln(g.env.Stdout, "  note:", n)
				}
			} else {
				fmt.Fprintf(g.env.Stdout, "✘ evidence log FAILED verification\n  first bad: %s\n", safe(rep.Problem.String()))
			}
			if !rep.OK {
				return silent(ExitFailure)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&all, "all-signatures", false, "check every commit signature, not only seals and the last commit")
	c.Flags().StringVar(&keyFile, "key", "", "public key file (default: this installation's)")
	c.Flags().StringVar(&dir, "dir", "", "evidence folder to check (default: this installation's)")
	return c
}

func logExportCmd(g *globals) *cobra.Command {
	var out, raw string
	c := &cobra.Command{
		Use:   "export",
		Short: "Export the evidence as JSON lines, or (--raw DIR) copy the signed log for others to verify",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			p, err := g.paths()
			if err != nil {
				return err
			}
			pub, err := p.PublicKey()
			if err != nil {
				return err
			}
			if raw != "" {
				return exportRaw(p.Evidence(), p.Keys(), raw, g.env.Stdout)
			}
			w := g.env.Stdout
			if out != "" {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			enc := json.NewEncoder(w)
			cp, _ := os.ReadFile(filepath.Join(p.Evidence(), "checkpoint"))
			if err := enc.Encode(map[string]any{"public_key": pub.String(), "checkpoint": string(cp)}); err != nil {
				return err
			}
			return evidence.Scan(ctx, p.Evidence(), evidence.Position{}, func(e evidence.Entry) error {
				if e.Record == nil {
					return nil
				}
				return enc.Encode(e.Record)
			})
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "", "write to a new file instead of standard output")
	c.Flags().StringVar(&raw, "raw", "", "copy the segments, checkpoint and public key into this new folder")
	return c
}

func exportRaw(evDir, keyDir, dst string, w io.Writer) error {
	if err := os.Mkdir(dst, 0o700); err != nil {
		return err
	}
	evOut := filepath.Join(dst, "evidence")
	if err := os.Mkdir(evOut, 0o700); err != nil {
		return err
	}
	ents, err := os.ReadDir(evDir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := copyPlain(filepath.Join(evDir, e.Name()), filepath.Join(evOut, e.Name())); err != nil {
			return err
		}
	}
	if err := copyPlain(evidence.PublicKeyPath(keyDir), filepath.Join(dst, "evidence.pub")); err != nil {
		return err
	}
	fmt.Fprintf(w, "exported to %s; check it with: noema log verify --dir %s --key %s\n", dst, evOut, filepath.Join(dst, "evidence.pub"))
	return nil
}

func copyPlain(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o600)
}

func logRecoverCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "recover",
		Short: "Cut a torn tail left by a crash (and record that it did)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			a, err := g.open(c.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			if r := a.Evidence.Recovered(); r != nil {
				fmt.Fprintf(g.env.Stdout, "recovered: cut %d bytes after %s offset %d (%s)\n", r.BytesCut, fmt.Sprintf("seg-%08d.log", r.Segment), r.Offset, r.Reason)
			} else {
				fmt.Fprintln(g.env.Stdout, "nothing to recover")
			}
			return nil
		},
	}
}

func logReindexCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the evidence query index from the segments",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			p, err := g.paths()
			if err != nil {
				return err
			}
			idx, err := p.OpenIndex(c.Context())
			if err != nil {
				return err
			}
			defer idx.Close()
			return idx.Rebuild(c.Context())
		},
	}
}

// logHits finds evidence records through the daemon when it runs (its
// index follows the log it writes), else with the index here.
func (g *globals) logHits(ctx context.Context, p app.Paths, q evindex.Query) ([]evindex.Hit, error) {
	dc, _, err := g.daemon(ctx)
	if err != nil {
		return nil, err
	}
	if dc != nil {
		defer dc.Close()
		recs, err := dc.Log(ctx, client.LogQuery{ActionID: q.ActionID, CorrelationID: q.CorrelationID, Type: q.Type, Since: q.Since, Limit: q.Limit, Newest: q.Newest})
		if err != nil {
			return nil, err
		}
		hits := make([]evindex.Hit, 0, len(recs))
		for _, r := range recs {
			hits = append(hits, evindex.Hit{Seq: r.Seq, ID: r.ID, Type: r.Type, ActionID: r.ActionID, CorrelationID: r.CorrelationID, Subject: r.Subject, Time: r.Time})
		}
		return hits, nil
	}
	idx, err := p.OpenIndex(ctx)
	if err != nil {
		return nil, err
	}
	defer idx.Close()
	return idx.Find(ctx, q)
}
