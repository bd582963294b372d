// Command nlu measures the offline translator on public utterance sets:
// CLINC150 (in-scope accuracy for the intents Noema serves, and the
// refusal rate for everything else) and others as mapping files are
// added. It runs in process, offline.
//
//	go run ./bench/nlu -set clinc150|hwu64|ha|snips
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/translate"
)

type mapping struct {
	Map map[string][]string `json:"map"`
}

func main() {
	set := flag.String("set", "clinc150", "clinc150, hwu64, ha or snips")
	public := flag.String("public", "../shared/eval/public", "folder of the public sets")
	show := flag.Int("show", 10, "print this many failures of each kind")
	flag.Parse()

	loaders := map[string]struct {
		dir  string
		load func(string) ([]item, error)
	}{
		"clinc150": {"clinc150-oos-eval", loadCLINC},
		"hwu64":    {"hwu64-nlu-evaluation-data", loadHWU64},
		"ha":       {"home-assistant-intents", loadHA},
		"snips":    {"snips-nlu-benchmark", loadSnips},
	}
	ld, ok := loaders[*set]
	if !ok {
		log.Fatalf("unknown set %q", *set)
	}
	items, err := ld.load(filepath.Join(*public, ld.dir))
	if err != nil {
		log.Fatal(err)
	}
	var m mapping
	if err := readJSON(filepath.Join("bench", "nlu", *set+".json"), &m); err != nil {
		log.Fatal(err)
	}

	home, _ := os.MkdirTemp("", "noema-nlu-")
	defer os.RemoveAll(home)
	p, err := app.ResolvePaths(func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	})
	if err != nil {
		log.Fatal(err)
	}
	reg, closer, err := app.Catalog(p)
	if err != nil {
		log.Fatal(err)
	}
	defer closer.Close()
	tr := translate.New(reg.Catalog().All())
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

	type result struct{ n, ok int }
	inScope, oosKnown, oosOther := result{}, result{}, result{}
	asked := 0
	inRejected, inAsked, inWrong := 0, 0, 0
	oosRefused := 0
	var fails, accepts []string
	perIntent := map[string]*result{}
	start := time.Now()
	for _, it := range items {
		text, intent := it.text, it.label
		plan := tr.Translate(text, now)
		want, mapped := m.Map[intent]
		if mapped {
			inScope.n++
			r := perIntent[intent]
			if r == nil {
				r = &result{}
				perIntent[intent] = r
			}
			r.n++
			right := plan.Status == translate.Ready && len(plan.Steps) == 1 && contains(want, plan.Steps[0].Action)
			if right && it.seconds > 0 && plan.Steps[0].Action == "timer.start" {
				var tg struct{ Seconds int }
				json.Unmarshal(plan.Steps[0].Target, &tg)
				right = tg.Seconds == it.seconds
			}
			if right {
				inScope.ok++
				r.ok++
			} else {
				switch {
				case plan.Status == translate.Rejected:
					inRejected++
				case plan.Status == translate.Clarify:
					inAsked++
				default:
					inWrong++
				}
			}
			if !right && plan.Status != translate.Clarify && len(fails) < *show*len(m.Map) {
				got := string(plan.Status)
				if len(plan.Steps) > 0 {
					got += " " + plan.Steps[0].Action
				}
				fails = append(fails, fmt.Sprintf("  %-16s %-60q → %s", intent, text, got))
			}
			continue
		}
		res := &oosOther
		if intent == "oos" {
			res = &oosKnown
		}
		res.n++
		switch plan.Status {
		case translate.Rejected:
			res.ok++
			if intent == "oos" {
				oosRefused++
			}
		case translate.Clarify:
			asked++
			res.ok++ // asked, planned nothing
		default:
			if len(accepts) < *show*3 {
				accepts = append(accepts, fmt.Sprintf("  %-16s %-60q → %s %s", intent, text, plan.Status, plan.Steps[0].Action))
			}
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("%s: %d utterances, %v per utterance\n", *set, len(items), elapsed/time.Duration(len(items)))
	fmt.Printf("in-scope (mapped intents): %d/%d planned right (%.1f%%); asked a question %.1f%%; wrongly rejected %.1f%%; wrong action %.1f%%\n",
		inScope.ok, inScope.n, pct(inScope.ok, inScope.n), pct(inAsked, inScope.n), pct(inRejected, inScope.n), pct(inWrong, inScope.n))
	fmt.Printf("out-of-scope (out-of-scope set): %d/%d not planned (%.1f%%), of which refused outright %d (%.1f%%)\n", oosKnown.ok, oosKnown.n, pct(oosKnown.ok, oosKnown.n), oosRefused, pct(oosRefused, oosKnown.n))
	fmt.Printf("out-of-scope (unmapped labels): %d/%d not planned (%.1f%%)\n", oosOther.ok, oosOther.n, pct(oosOther.ok, oosOther.n))
	fmt.Printf("  of those not planned, %d were answered with a question rather than a refusal\n", asked)
	var names []string
	for k := range perIntent {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		r := perIntent[k]
		fmt.Printf("  %-18s %d/%d\n", k, r.ok, r.n)
	}
	if len(fails) > 0 {
		fmt.Println("in-scope misses:")
		for _, f := range fails {
			fmt.Println(f)
		}
	}
	if len(accepts) > 0 {
		fmt.Println("out-of-scope wrongly planned:")
		for _, f := range accepts {
			fmt.Println(f)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
