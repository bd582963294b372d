// Command nlu measures the offline translator on public utterance sets:
// CLINC150 (in-scope accuracy for the intents Noema serves, and the
// refusal rate for everything else) and others as mapping files are
// added. It runs in process, offline.
//
//	go run ./bench/nlu -set clinc150 -data ../shared/eval/public/clinc150-oos-eval/data_full.json
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
	data := flag.String("data", "../shared/eval/public/clinc150-oos-eval/data_full.json", "CLINC150 data_full.json")
	mapFile := flag.String("map", "bench/nlu/clinc150.json", "intent → actions mapping")
	show := flag.Int("show", 10, "print this many failures of each kind")
	flag.Parse()

	var m mapping
	readJSON(*mapFile, &m)
	var d map[string][][2]string
	readJSON(*data, &d)

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
	items := append(append([][2]string{}, d["test"]...), d["oos_test"]...)
	for _, it := range items {
		text, intent := it[0], it[1]
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
			if plan.Status == translate.Ready && len(plan.Steps) == 1 && contains(want, plan.Steps[0].Action) {
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
			if !(plan.Status == translate.Ready && len(plan.Steps) == 1 && contains(want, plan.Steps[0].Action)) && plan.Status != translate.Clarify && len(fails) < *show*len(m.Map) {
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
	fmt.Printf("CLINC150 test + oos_test, %d utterances, %v per utterance\n", len(items), elapsed/time.Duration(len(items)))
	fmt.Printf("in-scope (mapped intents): %d/%d planned right (%.1f%%); asked a question %.1f%%; wrongly rejected %.1f%%; wrong action %.1f%%\n",
		inScope.ok, inScope.n, pct(inScope.ok, inScope.n), pct(inAsked, inScope.n), pct(inRejected, inScope.n), pct(inWrong, inScope.n))
	fmt.Printf("out-of-scope (oos_test): %d/%d not planned (%.1f%%), of which refused outright %d (%.1f%%)\n", oosKnown.ok, oosKnown.n, pct(oosKnown.ok, oosKnown.n), oosRefused, pct(oosRefused, oosKnown.n))
	fmt.Printf("out-of-scope (the other 143 intents): %d/%d not planned (%.1f%%)\n", oosOther.ok, oosOther.n, pct(oosOther.ok, oosOther.n))
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

func readJSON(path string, v any) {
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}
