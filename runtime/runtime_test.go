package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/files"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/runtime"
)

// More queued work than a queue holds must wait, not deadlock.
func TestQueueBackpressure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 1,200 actions")
	}
	home := t.TempDir()
	p := pipelinetest.New(t, pipelinetest.Options{}, files.New(files.Options{Home: home, CheckpointDir: filepath.Join(home, ".cp")}))
	ctx := context.Background()
	const n = 1200
	ids := make([]string, n)
	for i := range ids {
		target, _ := json.Marshal(map[string]string{"path": filepath.Join(home, fmt.Sprintf("f%04d.txt", i)), "content": "x"})
		env, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: p.Human, Draft: action.Draft{Action: "fs.write", Target: target}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = env.Identity.ActionID
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			env, err := p.Runtime.Run(ctx, id)
			if err != nil {
				errs <- err
				return
			}
			if env.Execution.State != action.Succeeded {
				errs <- fmt.Errorf("%s is %s", id, env.Execution.State)
			}
		}(id)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
