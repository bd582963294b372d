// Command serve load-tests the daemon over loopback HTTP: N plan and N
// submit requests all at once (fs.write of N distinct files, each allowed,
// executed and verified). It checks that none fails, that the evidence
// holds every record of every action exactly once and that the chain
// verifies, and reports throughput and latency percentiles beside a
// baseline: the same work done in process, without HTTP, on a fresh
// installation in the same run.
//
//	go run ./bench/serve -n 1000
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/internal/platform/sandbox"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/server"
	"github.com/noema-project/noema/server/api"
	"github.com/noema-project/noema/server/client"
)

const planText = "enable dark mode and set the volume to 30%"

func main() {
	sandbox.MaybeRunChild()
	n := flag.Int("n", 1000, "concurrent plan requests, and as many concurrent submit requests")
	flag.Parse()
	raiseFileLimit(4**n + 256)

	base, err := measure("in process (baseline)", *n, inProcess)
	if err != nil {
		log.Fatal(err)
	}
	api, err := measure("daemon over loopback HTTP", *n, overHTTP)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nratio daemon/baseline: throughput %.2f, p99 plan %.2f, p99 submit %.2f\n",
		api.throughput/base.throughput, ratio(api.plan.p99, base.plan.p99), ratio(api.submit.p99, base.submit.p99))
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// worker runs one kind of request; the submission returns its envelope.
type workers struct {
	plan   func(ctx context.Context) error
	submit func(ctx context.Context, i int) (*action.Envelope, error)
	// finish stops what serves them and returns the evidence folder.
	finish func() (string, error)
}

type percentiles struct{ p50, p90, p99, max time.Duration }

type result struct {
	throughput   float64
	plan, submit percentiles
}

func measure(name string, n int, setup func(env map[string]string, work string) (*workers, error)) (*result, error) {
	dir, err := os.MkdirTemp("", "noema-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	env := map[string]string{
		"HOME": filepath.Join(dir, "home"), "NOEMA_HOME": filepath.Join(dir, "noema"),
		"XDG_RUNTIME_DIR": filepath.Join(dir, "run"), "XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_DATA_HOME": filepath.Join(dir, "data"), "XDG_CACHE_HOME": filepath.Join(dir, "cache"),
	}
	work := filepath.Join(dir, "work")
	for _, d := range []string{env["HOME"], env["XDG_RUNTIME_DIR"], work} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	w, err := setup(env, work)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	planLat := make([]time.Duration, n)
	subLat := make([]time.Duration, n)
	envs := make([]*action.Envelope, n)
	errs := make(chan error, 2*n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			if err := w.plan(ctx); err != nil {
				errs <- fmt.Errorf("plan %d: %w", i, err)
			}
			planLat[i] = time.Since(t0)
		}()
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			env, err := w.submit(ctx, i)
			subLat[i] = time.Since(t0)
			if err == nil && env.Execution.State != action.Succeeded {
				err = fmt.Errorf("%s ended %s", env.Identity.ActionID, env.Execution.State)
			}
			if err != nil {
				errs <- fmt.Errorf("submit %d: %w", i, err)
				return
			}
			envs[i] = env
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	evDir, ferr := w.finish()
	if len(all) > 0 {
		return nil, fmt.Errorf("%s: %d of %d requests failed, first: %w", name, len(all), 2*n, all[0])
	}
	if ferr != nil {
		return nil, ferr
	}
	records, err := checkEvidence(evDir, envs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r := &result{throughput: float64(2*n) / elapsed.Seconds(), plan: pct(planLat), submit: pct(subLat)}
	fmt.Printf("%s: %d plans + %d submissions in %v: %.0f requests/s\n", name, n, n, elapsed.Round(time.Millisecond), r.throughput)
	fmt.Printf("  plan    p50 %v  p90 %v  p99 %v  max %v\n", r.plan.p50, r.plan.p90, r.plan.p99, r.plan.max)
	fmt.Printf("  submit  p50 %v  p90 %v  p99 %v  max %v\n", r.submit.p50, r.submit.p90, r.submit.p99, r.submit.max)
	fmt.Printf("  evidence: %d records, none lost or duplicated, chain verified; 0 errors\n", records)
	return r, nil
}

func pct(lat []time.Duration) percentiles {
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1))].Round(time.Millisecond) }
	return percentiles{at(0.50), at(0.90), at(0.99), s[len(s)-1].Round(time.Millisecond)}
}

func writeTarget(work string, i int) json.RawMessage {
	t, _ := json.Marshal(map[string]string{"path": filepath.Join(work, fmt.Sprintf("f%05d.txt", i)), "content": fmt.Sprintf("file %d\n", i)})
	return t
}

// overHTTP starts the daemon in this process on a loopback port and talks
// to it with the bearer token, one connection per request in flight.
func overHTTP(env map[string]string, work string) (*workers, error) {
	ready := make(chan server.Info, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, server.Config{
			Getenv: func(k string) string { return env[k] }, Version: "bench", Listen: "127.0.0.1:0", NoDBus: true,
			Stderr: io.Discard, Ready: func(i server.Info) { ready <- i },
		})
	}()
	var info server.Info
	select {
	case info = <-ready:
	case err := <-done:
		cancel()
		return nil, fmt.Errorf("daemon: %w", err)
	}
	tok, err := os.ReadFile(filepath.Join(env["NOEMA_HOME"], "keys", "api-token"))
	if err != nil {
		cancel()
		return nil, err
	}
	hc := client.HTTP(info.HTTP, string(tok[:len(tok)-1]), &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4096}})
	return &workers{
		plan: func(ctx context.Context) error {
			out, err := hc.Plan(ctx, api.PlanRequest{Text: planText})
			if err == nil && (out.Status != "READY" || len(out.Actions) != 2) {
				err = fmt.Errorf("plan %s with %d actions", out.Status, len(out.Actions))
			}
			return err
		},
		submit: func(ctx context.Context, i int) (*action.Envelope, error) {
			return hc.Submit(ctx, action.Draft{Action: "fs.write", Target: writeTarget(work, i)}, true)
		},
		finish: func() (string, error) {
			hc.Close()
			cancel()
			return filepath.Join(env["NOEMA_HOME"], "evidence"), <-done
		},
	}, nil
}

// inProcess does the same work on the pipeline directly.
func inProcess(env map[string]string, work string) (*workers, error) {
	getenv := func(k string) string { return env[k] }
	a, err := app.Open(context.Background(), app.Options{Getenv: getenv})
	if err != nil {
		return nil, err
	}
	if err := a.Runtime.Start(context.Background()); err != nil {
		a.Close()
		return nil, err
	}
	planner := app.NewPlanner(a.Paths, getenv, a.Config, a.Registry.Catalog(), a.Desktop())
	human := identity.CurrentUser("bench")
	return &workers{
		plan: func(ctx context.Context) error {
			out, _ := app.Plan(ctx, a.Runtime, planner, app.PlanInput{Text: planText, Now: time.Now(), Cwd: env["HOME"], Human: human})
			if out.Status != "READY" || len(out.Actions) != 2 {
				return fmt.Errorf("plan %s with %d actions", out.Status, len(out.Actions))
			}
			return nil
		},
		submit: func(ctx context.Context, i int) (*action.Envelope, error) {
			e, err := a.Runtime.Submit(ctx, runtime.Submission{Subject: human, Draft: action.Draft{Action: "fs.write", Target: writeTarget(work, i)}})
			if err != nil {
				return nil, err
			}
			return a.Runtime.Run(ctx, e.Identity.ActionID)
		},
		finish: func() (string, error) {
			planner.Close()
			return a.Paths.Evidence(), a.Close()
		},
	}, nil
}

// checkEvidence reads the log back: no record twice, every record each
// envelope names present once and linked to its action, no record of an
// action the envelopes do not account for, and the chain verifies.
func checkEvidence(dir string, envs []*action.Envelope) (int, error) {
	ctx := context.Background()
	byID := map[string]*evidence.Record{}
	err := evidence.Scan(ctx, dir, evidence.Position{}, func(en evidence.Entry) error {
		if en.Record == nil {
			return nil
		}
		if _, dup := byID[en.Record.ID]; dup {
			return fmt.Errorf("record %s appears twice", en.Record.ID)
		}
		byID[en.Record.ID] = en.Record
		return nil
	})
	if err != nil {
		return 0, err
	}
	perAction := map[string]int{}
	for _, r := range byID {
		if r.ActionID != "" {
			perAction[r.ActionID]++
		}
	}
	for _, env := range envs {
		id := env.Identity.ActionID
		for _, ev := range env.Execution.Evidence {
			if r, ok := byID[ev]; !ok || r.ActionID != id {
				return 0, fmt.Errorf("%s: record %s missing or not linked", id, ev)
			}
		}
		if perAction[id] != len(env.Execution.Evidence) {
			return 0, fmt.Errorf("%s: %d records in the log, %d in the envelope", id, perAction[id], len(env.Execution.Evidence))
		}
		delete(perAction, id)
	}
	if len(perAction) > 0 {
		return 0, fmt.Errorf("%d actions in the log that no request made", len(perAction))
	}
	pub, err := evidence.LoadPublicKey(evidence.PublicKeyPath(filepath.Join(filepath.Dir(dir), "keys")))
	if err != nil {
		return 0, err
	}
	rep, err := evidence.Verify(ctx, dir, pub, evidence.VerifyOptions{AllSignatures: true})
	if err != nil {
		return 0, err
	}
	if !rep.OK {
		return 0, errors.New("chain does not verify: " + rep.Problem.String())
	}
	return len(byID), nil
}

// raiseFileLimit lets one process hold both ends of every connection.
func raiseFileLimit(want int) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil || lim.Cur >= uint64(want) {
		return
	}
	lim.Cur = min(uint64(want), lim.Max)
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
