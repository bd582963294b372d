package objfs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// synthCorpus generates documents with topical structure: a shared
// vocabulary of pronounceable words with Zipf frequencies, and topics that
// each prefer their own slice of it, so lexical and latent signals both
// have something to find. Sizes vary around meanBytes, like notes and
// articles do. The same seed gives the same corpus.
type synthCorpus struct {
	rng    *rand.Rand
	vocab  []string
	topics [][]int
	zipf   *rand.Zipf
	tzipf  *rand.Zipf
}

func newSynthCorpus(seed uint64, vocab, topics int) *synthCorpus {
	rng := rand.New(rand.NewPCG(seed, 7))
	c := &synthCorpus{rng: rng}
	syll := []string{"ka", "lo", "mi", "ne", "ru", "ta", "shi", "vo", "ber", "gan", "dor", "el", "fi", "pra", "qu", "sel", "tor", "un", "wex", "yl", "zo", "ar", "in", "os"}
	seen := map[string]bool{}
	for len(c.vocab) < vocab {
		n := 2 + rng.IntN(3)
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			c.vocab = append(c.vocab, w)
		}
	}
	for t := 0; t < topics; t++ {
		words := make([]int, 300)
		for i := range words {
			words[i] = 200 + rng.IntN(vocab-200)
		}
		c.topics = append(c.topics, words)
	}
	c.zipf = rand.NewZipf(rng, 1.1, 1, uint64(vocab-1))
	c.tzipf = rand.NewZipf(rng, 1.05, 1, 299)
	return c
}

// doc returns one document and its main topic.
func (c *synthCorpus) doc(meanBytes int) (string, int) {
	size := int(float64(meanBytes) * math.Exp(c.rng.NormFloat64()*0.6-0.18))
	topic := c.rng.IntN(len(c.topics))
	var b strings.Builder
	for b.Len() < size {
		var w string
		if c.rng.Float64() < 0.35 {
			w = c.vocab[c.topics[topic][c.tzipf.Uint64()]]
		} else {
			w = c.vocab[c.zipf.Uint64()]
		}
		b.WriteString(w)
		if c.rng.IntN(12) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String(), topic
}

// query returns a few words typical of a topic and, when common is set,
// one of the corpus's most frequent words as well (people type those
// too, and they are the expensive ones).
func (c *synthCorpus) query(topic int, common bool) string {
	n := 2 + c.rng.IntN(3)
	words := make([]string, n)
	for i := range words {
		words[i] = c.vocab[c.topics[topic][c.tzipf.Uint64()]]
	}
	if common {
		words = append(words, c.vocab[5+c.rng.IntN(100)])
	}
	return strings.Join(words, " ")
}

// writeCorpus writes n documents into dir (in subfolders of 1,000) and
// returns the bytes written.
func writeCorpus(tb testing.TB, dir string, c *synthCorpus, n, meanBytes int) int64 {
	tb.Helper()
	var total int64
	for i := 0; i < n; i++ {
		text, _ := c.doc(meanBytes)
		sub := filepath.Join(dir, fmt.Sprintf("d%03d", i/1000))
		if i%1000 == 0 {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("note-%06d.txt", i)), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
		total += int64(len(text))
	}
	return total
}
