package robustness

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRobustness drives traffic through two replicas on a 3-member etcd cluster while
// injecting faults, then checks the history for linearizability and every watch stream.
// The profile comes from ROBUSTNESS_PROFILE (short by default; see docs/reliability.md).
func TestRobustness(t *testing.T) {
	profile, seed, err := ProfileFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, bins, err := FindBinaries(wd)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "_output", "robustness", fmt.Sprintf("%s-%s", profile.Name, time.Now().UTC().Format("20060102-150405")))
	t.Logf("profile %s, seed %d, faults %v; processes, logs and report in %s", profile.Name, seed, profile.Faults, dir)
	start := time.Now()
	run, err := Start(profile, dir, bins)
	defer run.Stop()
	if err != nil {
		t.Fatal(err)
	}
	run.Drive()
	run.Stop()
	rep := run.Check()
	rep.Seed, rep.Wall = seed, time.Since(start)
	if err := os.WriteFile(filepath.Join(dir, "report.txt"), []byte(rep.String()), 0o644); err != nil {
		t.Error(err)
	}
	t.Log("\n" + rep.String())
	if failures := rep.Failures(); len(failures) > 0 {
		t.Fatalf("%d problems; logs and report kept in %s", len(failures), dir)
	}
	// Passed: keep the report, drop the data and logs.
	for _, name := range []string{"etcd-0-data", "etcd-1-data", "etcd-2-data", "replica-0", "replica-1"} {
		_ = os.RemoveAll(filepath.Join(dir, name))
	}
}
