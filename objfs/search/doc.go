// Package search ranks the documents of the object store for a query,
// offline and without downloaded weights.
//
// Three signals are fused. BM25 over an in-memory inverted index finds and
// scores candidates. RM3 pseudo-relevance feedback expands the query with
// the words that dominate the best first-pass documents and rescores the
// candidates, which catches documents that say the same thing in other
// words. Latent semantic indexing, a truncated SVD of the user's own
// term-document matrix, adds a dense similarity learned from the corpus
// itself. When a neural embedding model is configured its cosine
// similarity joins the fusion.
//
// The choice was made by measurement on the Cranfield and CISI collections
// (see the objfs tests and bench/objfs): stop-word removal and RM3 each
// add several points of nDCG@10 over plain BM25, and LSI adds more on top;
// random indexing and term proximity were tried and added less.
//
// The package keeps no state of its own: an Index is an immutable snapshot
// built from stored forward vectors, safe for concurrent queries.
package search
