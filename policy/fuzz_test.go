package policy

import (
	"errors"
	"testing"
)

// FuzzCompile feeds hostile policy files to the loader: it must return a
// located error or a set whose decisions never panic and never allow on a
// hard-deny request.
func FuzzCompile(f *testing.F) {
	f.Add(`permit(principal, action, resource);`)
	f.Add(`@id("x") @approval("required") permit(principal, action in Noema::Action::"domain:fs", resource) when { context.risk.destructive };`)
	f.Add(`forbid(principal, action, resource) unless { resource.path like "/home/*" };`)
	f.Add(`permit(principal, action, resource) when { context.x == };`)
	f.Fuzz(func(t *testing.T, text string) {
		set, err := Compile([]Source{{Name: "fuzz.cedar", Text: text}})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.File == "" {
				t.Fatalf("error without a file: %v", err)
			}
			return
		}
		k := New(set, Protected{Home: "/home/u"}, nil)
		in := benchInput()
		k.Decide(in)
		in.Request.Action = "fs.delete"
		in.Request.Target = []byte(`{"path":"/home/u"}`)
		in.Manifest.Name = "fs.delete"
		if d := k.Decide(in); d.Effect != Deny {
			t.Fatalf("a policy file lifted a hard deny: %v", d)
		}
	})
}
