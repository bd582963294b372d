package files_test

import (
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/runtime"
)

func runtimeSubmission(p *pipelinetest.Pipeline, name, target string) runtime.Submission {
	return runtime.Submission{Subject: p.Human, Draft: action.Draft{Action: name, Target: []byte(target)}}
}
