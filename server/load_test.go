package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/server/api"
	"github.com/noema-project/noema/server/client"
)

// Many plans and submissions at once over loopback HTTP: none fails, and
// the evidence holds every record of every action exactly once, in a
// chain that verifies. (bench/serve measures the same at 1,000 each.)
func TestConcurrentLoadKeepsEvidenceWhole(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	hc := client.HTTP(d.info.HTTP, e.token(t), &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * n}})
	ctx := context.Background()
	envs := make([]*action.Envelope, n)
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			out, err := hc.Plan(ctx, api.PlanRequest{Text: "enable dark mode and set the volume to 30%"})
			if err != nil || out.Status != "READY" || len(out.Actions) != 2 {
				errs <- fmt.Errorf("plan %d: %v %+v", i, err, out)
			}
		}()
		go func() {
			defer wg.Done()
			target, _ := json.Marshal(map[string]string{"path": filepath.Join(e.work(), fmt.Sprintf("f%04d.txt", i)), "content": fmt.Sprint(i)})
			env, err := hc.Submit(ctx, action.Draft{Action: "fs.write", Target: target}, true)
			if err != nil || env.Execution.State != action.Succeeded {
				errs <- fmt.Errorf("submit %d: %v", i, err)
				return
			}
			envs[i] = env
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	d.stop(t)
	checkEvidenceWhole(t, filepath.Join(e.vars["NOEMA_HOME"], "evidence"), envs)
}

// checkEvidenceWhole reads the whole log back: no record twice, every
// record every envelope names present exactly once and linked to its
// action, and Verify passes.
func checkEvidenceWhole(t *testing.T, dir string, envs []*action.Envelope) {
	t.Helper()
	ctx := context.Background()
	byID := map[string]*evidence.Record{}
	err := evidence.Scan(ctx, dir, evidence.Position{}, func(en evidence.Entry) error {
		if en.Record == nil {
			return nil
		}
		if _, dup := byID[en.Record.ID]; dup {
			return fmt.Errorf("record %s twice", en.Record.ID)
		}
		byID[en.Record.ID] = en.Record
		return nil
	})
	if err != nil {
		t.Fatal(err)
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
			r, ok := byID[ev]
			if !ok {
				t.Fatalf("%s: record %s is missing from the log", id, ev)
			}
			if r.ActionID != id {
				t.Fatalf("record %s belongs to %s, not %s", ev, r.ActionID, id)
			}
		}
		if perAction[id] != len(env.Execution.Evidence) {
			t.Fatalf("%s: %d records in the log, the envelope names %d", id, perAction[id], len(env.Execution.Evidence))
		}
	}
	pub, err := evidence.LoadPublicKey(evidence.PublicKeyPath(filepath.Join(filepath.Dir(dir), "keys")))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.Verify(ctx, dir, pub, evidence.VerifyOptions{AllSignatures: true})
	if err != nil || !rep.OK {
		t.Fatalf("verify: %v %+v", err, rep.Problem)
	}
}
