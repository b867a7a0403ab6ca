package robustness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/garden-apiserver/garden-apiserver/test/kmsplugin"
)

// Run is one run of a profile: the cluster, its clients and watchers, the faults.
type Run struct {
	Profile  Profile
	Dir      string
	Cluster  *Cluster
	Traffic  *Traffic
	Clients  []*Client
	Watchers []*Watcher
	Injector *Injector
	KMS      *kmsplugin.Plugin
}

// Start writes the encryption configuration, starts the KMS plugin and the cluster, and
// creates the clients: each replica gets clients in both wire formats.
func Start(p Profile, dir string, bins Binaries) (*Run, error) {
	r := &Run{Profile: p, Dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	// A unix socket path is limited to about 100 bytes: not below the run directory.
	sock := filepath.Join(os.TempDir(), fmt.Sprintf("robustness-kms-%d.sock", os.Getpid()))
	kms, err := kmsplugin.New(sock, "robustness-key-1", nil)
	if err != nil {
		return r, err
	}
	if err := kms.Start(); err != nil {
		return r, err
	}
	r.KMS = kms
	enc, err := NewEncryptionConfig(dir, sock)
	if err != nil {
		return r, err
	}
	r.Cluster, err = StartCluster(dir, bins, "--encryption-provider-config="+enc.Path,
		"--encryption-provider-config-automatic-reload", "--encryption-provider-config-reload-interval=1s")
	if err != nil {
		return r, err
	}
	r.Traffic = &Traffic{History: NewHistory(), Keys: p.Keys, Pause: p.Pause}
	for _, res := range []string{InternalSecrets, Shoots} {
		for n := range p.Namespaces {
			r.Traffic.Partitions = append(r.Traffic.Partitions, fmt.Sprintf("%s/robustness-%d", res, n))
		}
	}
	r.Injector = &Injector{Cluster: r.Cluster, Traffic: r.Traffic, Encryption: enc, KMS: kms, Hold: p.Hold}
	return r, r.newClients()
}

// newClients: traffic clients alternate replica and format; per partition two watchers, each
// resuming on alternating replicas, one of them with bookmarks.
func (r *Run) newClients() error {
	formats := []string{Protobuf, JSON}
	id := 0
	client := func(replica int, format string) (*Client, error) {
		cs, err := NewClient(r.Cluster.Replicas[replica], format)
		id++
		return NewTrafficClient(id-1, fmt.Sprintf("%s/%s", r.Cluster.Replicas[replica].Name, map[string]string{Protobuf: "protobuf", JSON: "json"}[format]), cs), err
	}
	for i := range r.Profile.Clients {
		c, err := client(i%2, formats[(i/2)%2])
		if err != nil {
			return err
		}
		r.Clients = append(r.Clients, c)
	}
	for i := range r.Cluster.Replicas {
		c, err := client(i, Protobuf)
		if err != nil {
			return err
		}
		r.Injector.Admin = append(r.Injector.Admin, c)
	}
	for _, p := range r.Traffic.Partitions {
		for w := range 2 {
			var cs []*Client
			for i := range r.Cluster.Replicas {
				c, err := client((i+w)%2, formats[w])
				if err != nil {
					return err
				}
				cs = append(cs, c)
			}
			r.Watchers = append(r.Watchers, &Watcher{Name: fmt.Sprintf("w%d-%s", w, cs[0].Name), Partition: p, Clients: cs, Bookmarks: w == 0, Traffic: r.Traffic})
		}
	}
	return nil
}

// Stop stops the processes and the plugin.
func (r *Run) Stop() {
	if r.Cluster != nil {
		r.Cluster.Stop()
	}
	if r.KMS != nil {
		r.KMS.Stop()
	}
}

// Drive runs the traffic and watchers for the profile's duration while injecting its faults
// one after another.
func (r *Run) Drive() {
	ctx, cancel := context.WithTimeout(context.Background(), r.Profile.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range r.Clients {
		wg.Go(func() { r.Traffic.Run(ctx, c) })
	}
	for _, w := range r.Watchers {
		wg.Go(func() { w.Run(ctx) })
	}
	for i := 0; ctx.Err() == nil; i++ {
		if i == 0 {
			if out, err := r.Traffic.ListOnce(r.Injector.Admin[0], r.Traffic.Partitions[0]); err == nil {
				r.Injector.FirstRV = out.ListRV
			}
		}
		if !quiet(ctx, r.Profile.FaultGap) {
			break
		}
		// Not the traffic's context: a fault that outlasts the traffic still completes.
		r.Injector.Inject(context.Background(), r.Profile.Faults[i%len(r.Profile.Faults)])
	}
	wg.Wait()
}

// quiet lets the traffic run undisturbed for d; false when the run ends first.
func quiet(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
