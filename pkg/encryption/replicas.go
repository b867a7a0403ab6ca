package encryption

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"k8s.io/klog/v2"
)

// sessionTTL bounds how long a crashed replica keeps the migration lock.
const sessionTTL = 15

// replicaSet coordinates the replicas sharing an etcd: each publishes the configuration it has
// in effect under a lease, and one at a time holds the migration lock.
type replicaSet struct {
	id      string
	keyBase string // etcd key under which the lock and the records live
	etcd    *etcdClient

	session   *concurrency.Session
	published string // the record last written
}

func newReplicaSet(id, etcdPrefix string, etcd *etcdClient) *replicaSet {
	return &replicaSet{id: id, keyBase: path.Join("/", etcdPrefix, "garden-apiserver", "encryption"), etcd: etcd}
}

// liveSession returns a lease-backed session; replica records and the lock die with it.
func (rs *replicaSet) liveSession() (*concurrency.Session, error) {
	if rs.session != nil {
		select {
		case <-rs.session.Done():
			rs.session, rs.published = nil, ""
		default:
			return rs.session, nil
		}
	}
	cli, err := rs.etcd.get()
	if err != nil {
		return nil, err
	}
	// Not bound to ctx: close must still be able to revoke the lease during shutdown.
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(sessionTTL))
	if err != nil {
		return nil, err
	}
	rs.session = s
	return s, nil
}

// tryLead takes the migration lock without waiting. The returned context ends when the lock's
// lease is lost. Rewrites are safe even if two replicas overlap; the lock avoids double work.
func (rs *replicaSet) tryLead(ctx context.Context) (context.Context, func(), bool) {
	s, err := rs.liveSession()
	if err != nil {
		klog.ErrorS(err, "Cannot reach etcd for the encryption migration lock")
		return nil, nil, false
	}
	m := concurrency.NewMutex(s, path.Join(rs.keyBase, "migration-lock"))
	if err := m.TryLock(ctx); err != nil {
		if !errors.Is(err, concurrency.ErrLocked) {
			klog.ErrorS(err, "Taking the encryption migration lock failed")
		}
		return nil, nil, false
	}
	lctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	return lctx, func() {
		cancel()
		uctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = m.Unlock(uctx)
	}, true
}

// sync publishes this replica's record and reads everyone's; it reports whether all live
// replicas have the same file content in effect.
func (rs *replicaSet) sync(ctx context.Context, me ReplicaStatus) (bool, []ReplicaStatus) {
	s, err := rs.liveSession()
	if err != nil {
		return false, nil
	}
	me.Replica = rs.id
	b, _ := json.Marshal(me)
	base := rs.keyBase + "/replicas/"
	if string(b) != rs.published {
		if _, err := rs.etcd.cli.Put(ctx, base+rs.id, string(b), clientv3.WithLease(s.Lease())); err != nil {
			return false, nil
		}
		rs.published = string(b)
	}
	resp, err := rs.etcd.cli.Get(ctx, base, clientv3.WithPrefix())
	if err != nil {
		return false, nil
	}
	agree := true
	var all []ReplicaStatus
	for _, kv := range resp.Kvs {
		var r ReplicaStatus
		if json.Unmarshal(kv.Value, &r) != nil {
			continue
		}
		all = append(all, r)
		agree = agree && r.ConfigLoaded && r.ConfigHash == me.ConfigHash
	}
	return agree, all
}

func (rs *replicaSet) close() {
	if rs.session != nil {
		_ = rs.session.Close()
	}
}
