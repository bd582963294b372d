package translate

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDebugPlan prints plans for NOEMA_DEBUG_PLAN sentences (separated by
// '|'); it is a development aid and does nothing otherwise.
func TestDebugPlan(t *testing.T) {
	in := os.Getenv("NOEMA_DEBUG_PLAN")
	if in == "" {
		t.Skip("set NOEMA_DEBUG_PLAN")
	}
	tr := New(testCatalog(t))
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, s := range strings.Split(in, "|") {
		toks := stripFiller(expand(tokenize(s)))
		c1 := tr.tier1(toks, now)
		c2 := tr.tier2(toks, now)
		p := tr.Translate(s, now)
		fmt.Printf("%q → %s %v %v\n", s, p.Status, p.Steps, p.Questions)
		if c1 != nil {
			fmt.Printf("   T1 %s %v missing=%v\n", c1.s.m.Name, c1.target, c1.missing)
		}
		if c2 != nil {
			fmt.Printf("   T2 %s %v missing=%v cov=%.2f abs=%.2f conf=%.2f anchor=%v strong=%v foreign=%v score=%.2f\n", c2.s.m.Name, c2.target, c2.missing, c2.coverage, c2.absorbed, c2.conf, c2.anchor, c2.strong, c2.foreignVerb, c2.score)
		}
	}
}

func TestDebugRank(t *testing.T) {
	in := os.Getenv("NOEMA_DEBUG_RANK")
	if in == "" {
		t.Skip("set NOEMA_DEBUG_RANK")
	}
	tr := New(testCatalog(t))
	tr.vocabulary()
	toks := stripFiller(expand(tokenize(in)))
	words := norms(toks)
	for _, w := range words {
		sp, _ := tr.postings(stem(w))
		fmt.Printf("%s: idf=%.2f", w, sp.idf)
		for _, p := range sp.posts {
			fmt.Printf(" %s=%.1f", tr.specs[p.spec].m.Name, p.w)
			if p.valueOnly {
				fmt.Print("(value)")
			}
		}
		fmt.Println()
	}
}
