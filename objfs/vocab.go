package objfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/noema-project/noema/objfs/search"
)

// Vocabulary is the controlled set of tags automatic tagging may use,
// each with the words that suggest it. The user edits it as a text file:
//
//	# comment
//	finance: invoice, budget, tax return, bank statement
//	travel: flight, hotel, itinerary
//
// A tag applies to a document when its words are salient there: they
// occur at least twice and make up at least half a percent of the
// document's words. At most three tags, the strongest, apply.
type Vocabulary struct {
	Tags []VocabularyTag
}

// VocabularyTag is one tag and the analysed phrases that suggest it.
type VocabularyTag struct {
	Tag     string
	Phrases [][]string
}

// Automatic tagging limits.
const (
	autoTagsMax      = 3
	autoTagMinCount  = 2
	autoTagMinShare  = 0.005
	maxVocabularyTag = 500
)

// DefaultVocabulary is used when the user has no vocabulary file.
const DefaultVocabulary = `# Tags Noema may add by itself. One tag per line: "tag: word, word, phrase".
# A tag applies when its words are prominent in a document. Edit freely.
finance: invoice, receipt, budget, tax, expense, bank, payment, salary, loan, mortgage
travel: flight, hotel, itinerary, passport, visa, booking, airport, trip, train ticket
health: doctor, clinic, prescription, symptom, vaccine, medication, hospital, diet
work: meeting, deadline, project, client, agenda, quarterly, roadmap, stakeholder
recipe: recipe, ingredient, tablespoon, teaspoon, oven, bake, simmer
programming: function, compiler, variable, algorithm, debug, repository, api
research: hypothesis, experiment, dataset, abstract, citation, methodology, results
machine-learning: machine learning, neural network, training data, classifier, gradient, model accuracy
legal: contract, agreement, clause, liability, lawyer, court, tenant
home: rent, landlord, repair, furniture, garden, plumbing, utility bill
education: course, lecture, homework, exam, syllabus, semester, student
family: birthday, wedding, anniversary, kids, parents, holiday
`

// LoadVocabulary reads the vocabulary file at path; a missing file (or an
// empty path) gives the default vocabulary.
func LoadVocabulary(path string) (*Vocabulary, error) {
	if path == "" {
		return ParseVocabulary([]byte(DefaultVocabulary))
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ParseVocabulary([]byte(DefaultVocabulary))
	}
	if err != nil {
		return nil, fmt.Errorf("tag vocabulary: %w", err)
	}
	v, err := ParseVocabulary(data)
	if err != nil {
		return nil, fmt.Errorf("tag vocabulary %s: %w", path, err)
	}
	return v, nil
}

// ParseVocabulary reads the vocabulary format. Errors name the line.
func ParseVocabulary(data []byte) (*Vocabulary, error) {
	a := search.NewAnalyzer()
	v := &Vocabulary{}
	seen := make(map[string]bool)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, words, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want \"tag: word, word\"", n)
		}
		tag, err := search.NormalizeTag(name)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if seen[tag] {
			return nil, fmt.Errorf("line %d: tag %q appears twice", n, tag)
		}
		seen[tag] = true
		vt := VocabularyTag{Tag: tag}
		for _, w := range append([]string{strings.ReplaceAll(tag, "-", " ")}, strings.Split(words, ",")...) {
			var phrase []string
			for _, t := range a.Tokens(w) {
				phrase = append(phrase, t.Term)
			}
			if len(phrase) > 0 {
				vt.Phrases = append(vt.Phrases, phrase)
			}
		}
		v.Tags = append(v.Tags, vt)
		if len(v.Tags) > maxVocabularyTag {
			return nil, fmt.Errorf("more than %d tags", maxVocabularyTag)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return v, nil
}

// Match returns the vocabulary tags salient in a document, strongest
// first, given its analysed terms in order.
func (v *Vocabulary) Match(tokens []string) []string {
	if v == nil || len(tokens) == 0 {
		return nil
	}
	counts := make(map[string]int, len(tokens))
	for _, t := range tokens {
		counts[t]++
	}
	type scored struct {
		tag string
		n   int
	}
	var hits []scored
	need := max(autoTagMinCount, int(autoTagMinShare*float64(len(tokens))+0.999))
	for _, vt := range v.Tags {
		n := 0
		for _, p := range vt.Phrases {
			if len(p) == 1 {
				n += counts[p[0]]
			} else {
				n += phraseCount(tokens, p)
			}
		}
		if n >= need {
			hits = append(hits, scored{vt.Tag, n})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].n != hits[j].n {
			return hits[i].n > hits[j].n
		}
		return hits[i].tag < hits[j].tag
	})
	out := make([]string, 0, autoTagsMax)
	for i := 0; i < len(hits) && i < autoTagsMax; i++ {
		out = append(out, hits[i].tag)
	}
	return out
}

func phraseCount(tokens, phrase []string) int {
	n := 0
	for i := 0; i+len(phrase) <= len(tokens); i++ {
		match := true
		for j, p := range phrase {
			if tokens[i+j] != p {
				match = false
				break
			}
		}
		if match {
			n++
		}
	}
	return n
}
