// Command startup measures `noema plan` as a whole process against
// `noema version`, the floor every command pays (exec, runtime start,
// package initialisation). Each round runs every case once, in a shuffled
// order, so that a burst of load on a shared machine falls on all cases
// alike; before each plan the plan cache is removed, so that the
// translator is built and the request is read from scratch (the tier
// shown), except for the case marked cached.
//
//	go build -o /tmp/noema ./cmd/noema
//	go run ./bench/startup -bin /tmp/noema -n 100
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A benchCase is one command line to time.
type benchCase struct {
	name   string
	args   []string
	cached bool // measure a plan cache hit (T0) instead of a cold read
	tier   string
	times  []time.Duration
}

func main() {
	bin := flag.String("bin", "noema", "the noema binary to measure")
	n := flag.Int("n", 60, "rounds (each runs every case once)")
	asJSON := flag.Bool("json", false, "print the results as JSON")
	flag.Parse()
	if *n < 1 {
		log.Fatal("-n must be at least 1")
	}
	exe, err := exec.LookPath(*bin)
	if err != nil {
		log.Fatalf("binary: %v", err)
	}
	home, err := os.MkdirTemp("", "noema-startup-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(home)
	// A fresh installation, offline: no configuration, no model.
	noemaHome := filepath.Join(home, "noema")
	env := append(os.Environ(), "HOME="+home, "NOEMA_HOME="+noemaHome, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"), "NOEMA_LLM_URL=", "NOEMA_LLM_MODEL=")
	cache := filepath.Join(noemaHome, "cache", "plans.json")

	cases := []*benchCase{
		{name: "version", args: []string{"version"}},
		{name: "plan, cached", args: plan("turn on the night light"), cached: true},
		{name: "plan, template", args: plan("set the volume to 45 percent")},
		{name: "plan, two actions", args: plan("dim the screen a little and then mute the sound")},
		{name: "plan, retrieval", args: plan("check my calendar for friday")},
		{name: "plan, refusal", args: plan("who painted the mona lisa")},
	}
	run := func(c *benchCase) (time.Duration, []byte) {
		if !c.cached {
			os.Remove(cache)
		}
		cmd := exec.Command(exe, c.args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout = &out
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if err != nil && cmd.ProcessState == nil {
			log.Fatalf("%s: %v", c.name, err)
		}
		return d, out.Bytes()
	}
	// Warm up the page cache, fill the plan cache for the cached case and
	// learn each case's tier.
	for _, c := range cases {
		for range 3 {
			_, out := run(c)
			var p struct{ Tier string }
			if json.Unmarshal(out, &p) == nil {
				c.tier = p.Tier
			}
		}
	}
	order := slices.Clone(cases)
	for i := range *n {
		rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, c := range order {
			d, _ := run(c)
			c.times = append(c.times, d)
		}
		if !*asJSON && (i+1)%20 == 0 {
			fmt.Fprintf(os.Stderr, "%d/%d rounds\n", i+1, *n)
		}
	}
	report(cases, *asJSON)
}

func plan(text string) []string { return []string{"plan", "--json", text} }

func report(cases []*benchCase, asJSON bool) {
	base := median(cases[0].times)
	type row struct {
		Case     string  `json:"case"`
		Tier     string  `json:"tier,omitempty"`
		MedianMS float64 `json:"median_ms"`
		P90MS    float64 `json:"p90_ms"`
		Ratio    float64 `json:"ratio_to_version"`
	}
	var rows []row
	for _, c := range cases {
		m := median(c.times)
		rows = append(rows, row{Case: c.name, Tier: c.tier, MedianMS: ms(m), P90MS: ms(percentile(c.times, 0.9)), Ratio: float64(m) / float64(base)})
	}
	if asJSON {
		json.NewEncoder(os.Stdout).Encode(rows)
		return
	}
	fmt.Printf("%-20s %-5s %10s %10s %8s\n", "case", "tier", "median", "p90", "ratio")
	for _, r := range rows {
		fmt.Printf("%-20s %-5s %8.2fms %8.2fms %7.2fx\n", r.Case, r.Tier, r.MedianMS, r.P90MS, r.Ratio)
	}
	fmt.Println(strings.Repeat("-", 57))
	fmt.Printf("%d rounds; ratio = median ÷ median of `noema version` in the same run\n", len(cases[0].times))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration { return percentile(ds, 0.5) }

func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}
