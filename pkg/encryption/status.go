package encryption

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"time"
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
	// WritePrefix is what new writes start with: "k8s:enc:<provider>:<version>:<key>:" or "identity".
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

// Status returns a copy of the current status.
func (c *Controller) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	s.Resources = nil
	for _, r := range c.order {
		rs := r.status
		rs.StoredWith = make(map[string]int, len(r.status.StoredWith))
		for k, v := range r.status.StoredWith {
			rs.StoredWith[k] = v
		}
		rs.StoredAs = maps.Clone(r.status.StoredAs)
		s.Resources = append(s.Resources, rs)
	}
	s.Replicas = append([]ReplicaStatus(nil), c.status.Replicas...)
	sort.Slice(s.Replicas, func(i, j int) bool { return s.Replicas[i].Replica < s.Replicas[j].Replica })
	return s
}

// ServeHTTP serves the status.
func (c *Controller) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	b, err := json.MarshalIndent(c.Status(), "", "  ")
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
