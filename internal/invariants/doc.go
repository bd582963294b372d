// Package invariants holds the tests of DESIGN.md section 1: one test per
// invariant, run against the real pipeline (real SQLite, real files, a
// private D-Bus session with dconf where the desktop is involved).
package invariants
