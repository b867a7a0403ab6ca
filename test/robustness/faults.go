package robustness

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/garden-apiserver/garden-apiserver/test/kmsplugin"
)

// Fault types. Each is bounded: a process stays down or paused until the traffic made a
// number of requests or a few seconds passed, whichever comes first.
const (
	FaultKillReplica       = "kill-replica"
	FaultKillEtcdFollower  = "kill-etcd-follower"
	FaultKillEtcdLeader    = "kill-etcd-leader"
	FaultPauseEtcdLeader   = "pause-etcd-leader"
	FaultPauseEtcdFollower = "pause-etcd-follower"
	FaultCompaction        = "compaction"
	FaultRotateKey         = "encryption-rotate-key"
	FaultEncryptResource   = "encryption-add-resource"
	FaultKMSRotation       = "kms-key-rotation"
)

// AllFaults is every fault type.
var AllFaults = []string{FaultKillReplica, FaultKillEtcdFollower, FaultKillEtcdLeader, FaultPauseEtcdLeader,
	FaultPauseEtcdFollower, FaultCompaction, FaultRotateKey, FaultEncryptResource, FaultKMSRotation}

// FaultRecord is one injected fault.
type FaultRecord struct {
	Name   string
	At     time.Duration // since the start of the run
	Took   time.Duration
	Detail string
	Err    error
}

// Injector injects faults into a running cluster.
type Injector struct {
	Cluster    *Cluster
	Traffic    *Traffic
	Encryption *EncryptionConfig
	KMS        *kmsplugin.Plugin
	Admin      []*Client // one per replica, for /encryption-status and the compaction checks
	Hold       int       // requests to wait for while a process is down or paused
	FirstRV    int64     // a resourceVersion from the start of the run

	mu      sync.Mutex
	records []FaultRecord
	streams []Stream // of the lagging watches
	gone    int      // lagging watches answered 410
	kills   int
	kmsKeys int
}

// Inject runs one fault and records it.
func (f *Injector) Inject(ctx context.Context, name string) FaultRecord {
	start := time.Now()
	rec := FaultRecord{Name: name, At: time.Duration(f.Traffic.History.Now())}
	var err error
	switch name {
	case FaultKillReplica:
		rec.Detail, err = f.killReplica()
	case FaultKillEtcdFollower, FaultKillEtcdLeader:
		rec.Detail, err = f.killEtcd(name == FaultKillEtcdLeader)
	case FaultPauseEtcdLeader, FaultPauseEtcdFollower:
		rec.Detail, err = f.pauseEtcd(name == FaultPauseEtcdLeader)
	case FaultCompaction:
		rec.Detail, err = f.compaction(ctx)
	case FaultRotateKey:
		rec.Detail, err = f.rotateKey(ctx)
	case FaultEncryptResource:
		rec.Detail, err = f.encryptShoots(ctx)
	case FaultKMSRotation:
		rec.Detail, err = f.kmsRotation(ctx)
	default:
		err = fmt.Errorf("unknown fault %q", name)
	}
	rec.Took, rec.Err = time.Since(start), err
	f.mu.Lock()
	f.records = append(f.records, rec)
	f.mu.Unlock()
	return rec
}

// Records are the faults injected so far.
func (f *Injector) Records() []FaultRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FaultRecord(nil), f.records...)
}

// hold waits until the traffic made n more requests or max passed.
func (f *Injector) hold(max time.Duration) int {
	start, deadline := f.Traffic.requests(), time.Now().Add(max)
	for f.Traffic.requests()-start < f.Hold && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling the request count
	}
	return f.Traffic.requests() - start
}

func (f *Injector) killReplica() (string, error) {
	f.kills++
	r := f.Cluster.Replicas[f.kills%len(f.Cluster.Replicas)]
	r.Proc.Kill()
	n := f.hold(3 * time.Second)
	start := time.Now()
	if err := f.Cluster.StartReplica(r); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s killed, %d requests while down, ready %s after restart", r.Name, n, time.Since(start).Round(100*time.Millisecond)), nil
}

func (f *Injector) etcdVictim(leader bool) (*EtcdMember, error) {
	l, err := f.Cluster.Leader()
	if err != nil || leader {
		return l, err
	}
	for i, m := range f.Cluster.Etcd {
		if m == l {
			return f.Cluster.Etcd[(i+1)%len(f.Cluster.Etcd)], nil
		}
	}
	return nil, fmt.Errorf("leader not among the members")
}

func (f *Injector) killEtcd(leader bool) (string, error) {
	m, err := f.etcdVictim(leader)
	if err != nil {
		return "", err
	}
	m.Proc.Kill()
	n := f.hold(5 * time.Second)
	if err := f.Cluster.StartEtcd(m); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s killed, %d requests while down", m.Name, n), nil
}

func (f *Injector) pauseEtcd(leader bool) (string, error) {
	m, err := f.etcdVictim(leader)
	if err != nil {
		return "", err
	}
	if err := m.Proc.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return "", err
	}
	n := f.hold(5 * time.Second)
	if err := m.Proc.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s paused, %d requests meanwhile", m.Name, n), nil
}

// compaction compacts etcd at its current revision between two pages of a list (the second
// answers 410, or the watch cache serves it from its snapshot), lists again, then watches from a resourceVersion older than
// the compaction (410, or the watch cache still has it: then the events are validated).
func (f *Injector) compaction(ctx context.Context) (string, error) {
	c := f.Admin[0]
	p := f.Traffic.Partitions[0]
	resource, ns := split(p)
	before, err := c.res(resource).list(ctx, ns, metav1.ListOptions{Limit: 1})
	if err != nil {
		return "", fmt.Errorf("first page: %w", err)
	}
	oldRV, cont, _ := itemsOf(before)
	f.hold(5 * time.Second) // newer revisions, so the compaction removes the list's
	rev, err := f.Cluster.Revision()
	if err != nil {
		return "", err
	}
	if err := f.Cluster.Compact(rev); err != nil {
		return "", err
	}
	var details []string
	if cont != "" {
		d, err := f.nextPage(ctx, c, p, cont, oldRV)
		if err != nil {
			return "", fmt.Errorf("compacted at %d: %w", rev, err)
		}
		details = append(details, d)
	}
	if _, err := f.Traffic.ListOnce(c, p); err != nil {
		return "", fmt.Errorf("list after the compaction: %w", err)
	}
	for i, a := range f.Admin {
		// From the page's resourceVersion and from the oldest one of the run.
		from := oldRV
		if i%2 == 1 && f.FirstRV > 0 {
			from = f.FirstRV
		}
		details = append(details, f.laggingWatch(ctx, a, p, from))
	}
	return fmt.Sprintf("compacted at %d: %s", rev, strings.Join(details, ", ")), nil
}

// nextPage reads the page after a compaction: 410 from etcd, or the page of the same snapshot
// when the watch cache still holds it (checked like a cached read).
func (f *Injector) nextPage(ctx context.Context, c *Client, p, cont string, rv int64) (string, error) {
	resource, ns := split(p)
	next, err := c.res(resource).list(ctx, ns, metav1.ListOptions{Limit: 1, Continue: cont})
	switch {
	case apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
		return "next page 410", nil
	case err != nil:
		return "", fmt.Errorf("next page: %w, want the page or 410", err)
	}
	pageRV, _, items := itemsOf(next)
	if pageRV != rv {
		return "", fmt.Errorf("next page at resourceVersion %d, the first was at %d", pageRV, rv)
	}
	f.Traffic.addStaleRead(staleRead{Partition: p, ListRV: rv, Items: items})
	return "next page served (snapshot in the watch cache)", nil
}

// laggingWatch watches from an old resourceVersion for two seconds. On 410 it lists again and
// watches from the list, as a client must; every stream is validated with the others.
func (f *Injector) laggingWatch(ctx context.Context, c *Client, p string, rv int64) string {
	s, gone, err := f.watchFor(ctx, c, p, rv)
	switch {
	case err != nil:
		return fmt.Sprintf("watch from %d on %s: %v", rv, c.Name, err)
	case !gone:
		return fmt.Sprintf("watch from %d on %s: served from the watch cache, %d events", rv, c.Name, len(s.Events))
	}
	out, err := f.Traffic.ListOnce(c, p)
	if err != nil {
		return fmt.Sprintf("watch from %d on %s: 410 after %d events, then the list failed", rv, c.Name, len(s.Events))
	}
	s2, gone, err := f.watchFor(ctx, c, p, out.ListRV)
	if err != nil || gone {
		return fmt.Sprintf("watch from %d on %s: 410, list at %d, then watch: 410 %v, %v", rv, c.Name, out.ListRV, gone, err)
	}
	return fmt.Sprintf("watch from %d on %s: 410 after %d events, list at %d, watch %d events", rv, c.Name, len(s.Events), out.ListRV, len(s2.Events))
}

func (f *Injector) watchFor(ctx context.Context, c *Client, p string, rv int64) (Stream, bool, error) {
	resource, ns := split(p)
	timeout := int64(2)
	s := Stream{Watcher: "lagging-" + c.Name, Partition: p, StartRV: rv}
	wi, err := c.res(resource).watch(ctx, ns, metav1.ListOptions{ResourceVersion: rvString(rv), TimeoutSeconds: &timeout})
	if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		f.gone++
		return s, true, nil
	}
	if err != nil {
		return s, false, err
	}
	defer wi.Stop()
	last := rv
	gone := (&Watcher{}).consume(wi, &s, &last)
	if gone {
		f.gone++
	}
	f.mu.Lock()
	f.streams = append(f.streams, s)
	f.mu.Unlock()
	return s, gone, nil
}

// LaggingStreams are the streams of the watches from before a compaction.
func (f *Injector) LaggingStreams() []Stream {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Stream(nil), f.streams...)
}
