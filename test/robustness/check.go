package robustness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/anishathalye/porcupine"
)

// LinearizabilityReport is the outcome of checking a history with porcupine.
type LinearizabilityReport struct {
	Result        porcupine.CheckResult
	Operations    int
	Partitions    int
	Duration      time.Duration
	Visualization string // HTML file written when the history is not linearizable
}

// CheckLinearizable checks ops against Model within timeout. When the result is not Ok, the
// porcupine visualization is written to dir (if set).
func CheckLinearizable(ops []porcupine.Operation, timeout time.Duration, dir string) (LinearizabilityReport, error) {
	model := Model.ToModel()
	start := time.Now()
	result, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	r := LinearizabilityReport{Result: result, Operations: len(ops), Partitions: len(partition(ops)), Duration: time.Since(start)}
	if result == porcupine.Ok || dir == "" {
		return r, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	// The history itself, to check it again without a new run.
	if b, err := json.Marshal(ops); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "history.json"), b, 0o644)
	}
	r.Visualization = filepath.Join(dir, "linearizability.html")
	return r, porcupine.VisualizePath(model, info, r.Visualization)
}
