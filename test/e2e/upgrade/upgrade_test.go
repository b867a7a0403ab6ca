package upgrade

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// The previous build stores InternalSecrets (encrypted) and Shoots as protobuf with the earlier
// field numbers; the current build on the same etcd reads every field as stored, converts every
// value to Gardener's numbering in the background, and reads every field the same afterwards.
func TestUpgradeFromPreviousBuild(t *testing.T) {
	root := repoRoot(t)
	etcdBin := executable(t, filepath.Join(root, "_output", "tools", "bin", "etcd"))
	current := executable(t, filepath.Join(root, "_output", "bin", "garden-apiserver"))
	dir := t.TempDir()
	previous := buildPrevious(t, root, dir)

	g := &procs.Group{Dir: dir}
	t.Cleanup(func() {
		g.StopAll()
		if t.Failed() {
			t.Logf("logs in %s", dir)
		}
	})
	etcdURL, _, err := g.StartEtcd(etcdBin, "etcd", "--unsafe-no-fsync")
	require.NoError(t, err)
	stateDir := filepath.Join(dir, "state")

	old := startServer(t, g, "garden-apiserver-previous", previous, etcdURL, stateDir)
	want := writeObjects(t, old)
	total := len(want.secrets) + len(want.shoots)
	old.proc.Stop()
	require.Equal(t, map[string]int{storagecodec.LegacyProtobuf: total}, storedFormats(t, etcdURL, stateDir),
		"the previous build stores protobuf without the marker")

	// A slow rewrite, so the first reads below meet values still in the earlier numbering.
	s := startServer(t, g, "garden-apiserver-current", current, etcdURL, stateDir, "--encryption-migration-rate=1")
	waitLegacyReported(t, s)
	requireSame(t, s, want, false)
	require.NotZero(t, storedFormats(t, etcdURL, stateDir)[storagecodec.LegacyProtobuf],
		"the rewrite finished before the first reads: they did not read the earlier numbering")

	waitConverted(t, s, total)
	require.Equal(t, map[string]int{runtime.ContentTypeProtobuf: total}, storedFormats(t, etcdURL, stateDir))
	requireSame(t, s, want, false)
}

// waitLegacyReported waits until /encryption-status shows values in the earlier numbering as
// a format of their own (the first scan finds them; the slow rewrite leaves seconds to see it).
func waitLegacyReported(t *testing.T, s *server) {
	t.Helper()
	poll(t, time.Minute, "earlier numbering in storedAs", func(ctx context.Context) error {
		mustRun(t, s.proc)
		st, err := s.encryptionStatus(ctx)
		if err != nil {
			return err
		}
		for _, r := range st.Resources {
			if r.StoredAs[storagecodec.LegacyProtobuf] > 0 && r.Remaining > 0 {
				return nil
			}
		}
		return fmt.Errorf("storedAs without %s: %+v", storagecodec.LegacyProtobuf, st.Resources)
	})
}

// waitConverted waits until /encryption-status reports every object as protobuf with
// Gardener's numbers and nothing left to rewrite.
func waitConverted(t *testing.T, s *server, total int) {
	t.Helper()
	poll(t, 3*time.Minute, "background rewrite to Gardener's numbering", func(ctx context.Context) error {
		mustRun(t, s.proc)
		st, err := s.encryptionStatus(ctx)
		if err != nil {
			return err
		}
		converted := 0
		for _, r := range st.Resources {
			if r.Remaining != 0 || len(r.StoredAs) != 1 {
				return fmt.Errorf("%s: remaining %d, storedAs %v", r.Resource, r.Remaining, r.StoredAs)
			}
			converted += r.StoredAs[runtime.ContentTypeProtobuf]
		}
		if !st.AllMigrated || converted != total {
			return fmt.Errorf("allMigrated %v, %d of %d objects as protobuf: %s", st.AllMigrated, converted, total, st.Message)
		}
		return nil
	})
}
