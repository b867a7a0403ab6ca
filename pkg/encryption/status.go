package encryption

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"sync"
	"time"

	"k8s.io/apiserver/pkg/storage"
	"k8s.io/klog/v2"
)

// StatusPath serves Status as JSON (verb get on the non-resource URL).
const StatusPath = "/encryption-status"

// Status is what an operator reads before removing an old key.
type Status struct {
	// AllMigrated is true when the configuration file on disk is in effect on every replica and
	// the last full scan found every stored object written with the current write key of its
	// resource: keys other than the first can then be removed from the file.
	AllMigrated bool   `json:"allMigrated"`
	Message     string `json:"message"`

	ConfigFile      string `json:"configFile,omitempty"`
	AutomaticReload bool   `json:"automaticReload"`
	// ConfigHash identifies the file content in effect (the library's sha256 of the file).
	ConfigHash string `json:"configHash,omitempty"`
	// ConfigLoaded: the file on disk is the configuration this replica encrypts with.
	ConfigLoaded bool   `json:"configLoaded"`
	ConfigError  string `json:"configError,omitempty"`

	Replica string `json:"replica"`
	// Migrating: this replica holds the migration lock and is rewriting objects.
	Migrating bool `json:"migrating"`
	// Replicas are the live replicas sharing this etcd and the configuration each has in effect.
	Replicas      []ReplicaStatus `json:"replicas,omitempty"`
	ReplicasAgree bool            `json:"replicasAgree"`

	Resources         []ResourceStatus `json:"resources"`
	LastScanCompleted *time.Time       `json:"lastScanCompleted,omitempty"`
}

// ReplicaStatus is one replica's published configuration.
type ReplicaStatus struct {
	Replica      string `json:"replica"`
	ConfigHash   string `json:"configHash"`
	ConfigLoaded bool   `json:"configLoaded"`
}

// ResourceStatus describes the stored objects of one resource.
type ResourceStatus struct {
	Resource string `json:"resource"`
	// WritePrefix is what values written under the configuration in effect start with:
	// "k8s:enc:<provider>:<version>:<key>:" or "identity"; empty until a write or a scan showed it.
	WritePrefix string `json:"writePrefix"`
	Objects     int    `json:"objects"`
	// Remaining objects are stale (written with another key or in another format) or unreadable.
	Remaining  int `json:"remaining"`
	Unreadable int `json:"unreadable"`
	// StoredWith counts objects per stored prefix at the last scan.
	StoredWith map[string]int `json:"storedWith,omitempty"`
	// StoredAs counts readable objects per serialization (media type) at the last scan; objects
	// not in the format of --storage-media-type count as remaining and are rewritten.
	StoredAs map[string]int `json:"storedAs,omitempty"`
	// Migrated and Errors count rewrites by this replica since it started.
	Migrated  int64  `json:"migrated"`
	Errors    int64  `json:"errors"`
	LastError string `json:"lastError,omitempty"`
}

// resourceScan is what one scan found for a resource.
type resourceScan struct {
	Objects, Stale, Unreadable int
	StoredWith, StoredAs       map[string]int
	LastError                  error
}

// reporter owns what the controller reports: the status served at StatusPath and the
// metrics. Every method may be called from any goroutine.
type reporter struct {
	mu        sync.Mutex
	status    Status
	resources []*ResourceStatus
	byName    map[string]*ResourceStatus
	// stored are the resources in the order of resources, and current the configuration in
	// effect: a snapshot shows a write's prefix at once, not only after the loop's next pass.
	stored  []*resource
	current func() *generation
}

func newReporter(file string, reload bool, replica string) *reporter {
	return &reporter{
		status: Status{ConfigFile: file, AutomaticReload: reload, Replica: replica},
		byName: map[string]*ResourceStatus{},
	}
}

func (p *reporter) setResources(rs []*resource, current func() *generation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stored, p.current = rs, current
	for _, r := range rs {
		st := &ResourceStatus{Resource: r.gr.String()}
		p.resources = append(p.resources, st)
		p.byName[st.Resource] = st
	}
}

// setConfig reports whether the file on disk is in effect, the hash of the content loaded
// ("" before the first load) and the write prefix of each resource.
func (p *reporter) setConfig(loaded bool, err error, hash string, writePrefixes map[string]string) {
	if loaded {
		configLoadedGauge.Set(1)
	} else {
		configLoadedGauge.Set(0)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.ConfigLoaded = loaded
	p.status.ConfigError = ""
	if err != nil {
		p.status.ConfigError = err.Error()
	}
	if hash != "" && p.status.ConfigHash != hash {
		p.status.ConfigHash = hash
		// Never show a new hash next to the verdict about the previous configuration.
		p.setAllMigratedLocked(false)
	}
	if !loaded {
		p.setAllMigratedLocked(false)
	}
	for name, prefix := range writePrefixes {
		if st := p.byName[name]; st != nil {
			st.WritePrefix = prefix
		}
	}
	p.refreshMessageLocked()
}

func (p *reporter) configLoadFailed() { configErrorsTotal.Inc() }

func (p *reporter) setReplicas(agree bool, all []ReplicaStatus) {
	recordReplicas(agree, all)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.ReplicasAgree, p.status.Replicas = agree, all
}

func (p *reporter) setMigrating(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.Migrating = on
}

func (p *reporter) setScanCompleted() {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.LastScanCompleted = &now
}

func (p *reporter) setScan(r *resource, scan resourceScan) {
	gr := r.gr.String()
	remainingGauge.WithLabelValues(gr).Set(float64(scan.Stale + scan.Unreadable))
	unreadableGauge.WithLabelValues(gr).Set(float64(scan.Unreadable))
	if scan.Unreadable > 0 {
		errorsTotal.WithLabelValues(gr).Add(float64(scan.Unreadable))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.byName[gr]
	st.Objects, st.Remaining, st.Unreadable, st.StoredWith = scan.Objects, scan.Stale+scan.Unreadable, scan.Unreadable, scan.StoredWith
	st.StoredAs = scan.StoredAs
	if scan.LastError != nil {
		st.LastError = scan.LastError.Error()
	}
	p.refreshMessageLocked()
}

// setRewritten counts one rewrite of r; err is its outcome (not found: deleted meanwhile).
func (p *reporter) setRewritten(r *resource, err error) {
	gr := r.gr.String()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.byName[gr]
	switch {
	case err == nil:
		st.Migrated++
		st.Remaining--
		migratedTotal.WithLabelValues(gr).Inc()
	case storage.IsNotFound(err):
		st.Remaining--
	default:
		st.Errors++
		st.LastError = err.Error()
		errorsTotal.WithLabelValues(gr).Inc()
	}
	remainingGauge.WithLabelValues(gr).Set(float64(max(0, st.Remaining)))
}

func (p *reporter) setLastError(r *resource, err error) {
	klog.ErrorS(err, "Encryption re-encryption scan failed", "resource", r.gr.String())
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byName[r.gr.String()].LastError = err.Error()
	p.refreshMessageLocked()
}

// setAllMigrated reports the verdict of the controller's loop.
func (p *reporter) setAllMigrated(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setAllMigratedLocked(ok)
	p.refreshMessageLocked()
}

// setAllMigratedLocked is the one place that sets AllMigrated and the completion gauge.
func (p *reporter) setAllMigratedLocked(ok bool) {
	p.status.AllMigrated = ok && p.status.LastScanCompleted != nil
	if p.status.AllMigrated {
		completeGauge.Set(1)
	} else {
		completeGauge.Set(0)
	}
}

func (p *reporter) refreshMessageLocked() {
	s := p.status
	for _, st := range p.resources {
		s.Resources = append(s.Resources, *st)
	}
	p.status.Message = s.message(p.status.AutomaticReload)
}

// snapshot returns a copy of the current status.
func (p *reporter) snapshot() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.status
	s.Resources = nil
	for i, st := range p.resources {
		rs := *st
		if prefix := lastWritePrefix(p.stored[i], p.current()); prefix != "" {
			rs.WritePrefix = prefix
		}
		rs.StoredWith = maps.Clone(st.StoredWith)
		if rs.StoredWith == nil {
			rs.StoredWith = map[string]int{}
		}
		rs.StoredAs = maps.Clone(st.StoredAs)
		s.Resources = append(s.Resources, rs)
	}
	s.Replicas = append([]ReplicaStatus(nil), p.status.Replicas...)
	sort.Slice(s.Replicas, func(i, j int) bool { return s.Replicas[i].Replica < s.Replicas[j].Replica })
	return s
}

// ServeHTTP serves the status.
func (p *reporter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	b, err := json.MarshalIndent(p.snapshot(), "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

// message explains the state in one sentence, most important problem first.
func (s *Status) message(reload bool) string {
	remaining, unreadable := 0, 0
	for _, r := range s.Resources {
		remaining += r.Remaining
		unreadable += r.Unreadable
	}
	switch {
	case s.ConfigError != "":
		return "the encryption configuration file could not be loaded, the previous configuration stays in effect: " + s.ConfigError
	case !s.ConfigLoaded && !reload:
		return "the encryption configuration file changed but automatic reload is off: restart the server to apply it; do not remove keys"
	case !s.ConfigLoaded:
		return "waiting for the server to load the changed encryption configuration file; do not remove keys"
	case unreadable > 0:
		return fmt.Sprintf("%d stored objects cannot be decrypted with the current configuration: add back the provider or key named in resources[].storedWith", unreadable)
	case remaining > 0:
		return fmt.Sprintf("%d stored objects are not yet written with the current write key and storage media type; do not remove old keys", remaining)
	case s.LastScanCompleted == nil:
		return "checking stored objects against the encryption configuration"
	case !s.ReplicasAgree:
		return "replicas sharing this etcd have different encryption configurations in effect; do not remove keys"
	case !s.AllMigrated:
		return "re-checking stored objects against the encryption configuration"
	case s.ConfigFile == "":
		return "no --encryption-provider-config: objects are stored unencrypted"
	default:
		return "every stored object is written with the current write key of its resource; other keys can be removed from the configuration"
	}
}
