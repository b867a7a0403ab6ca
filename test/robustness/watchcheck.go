package robustness

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/anishathalye/porcupine"
)

// Watch event types as the API sends them.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
)

// Event is one watch event: the object's name, resourceVersion and content.
type Event struct {
	Type string
	Item
}

// Stream is what one watcher saw from StartRV on: the events of its watch and of every watch
// it resumed from the last resourceVersion after a disconnect. A 410 ends a stream; the
// watcher lists again and starts a new one.
type Stream struct {
	Watcher   string
	Partition string
	StartRV   int64
	Events    []Event
	Resumes   int
}

// LastRV is the newest resourceVersion the stream is complete up to (events and bookmarks).
func (s Stream) LastRV() int64 {
	last := s.StartRV
	for _, e := range s.Events {
		last = max(last, e.RV)
	}
	return last
}

// version is a committed write of one object.
type version struct {
	Item
	create bool
}

// committed holds what the clients wrote, by partition and name: the acknowledged writes
// ordered by resourceVersion, and every value written, including by writes with an unknown
// outcome ("m:" main values, "s:" status values).
type committed struct {
	versions map[string]map[string][]version
	values   map[string]map[string]map[string]bool // partition, name, value
	unsure   map[string]map[string]map[string]bool // the values of writes with an unknown outcome
}

func add(m map[string]map[string]map[string]bool, p, key, value string) {
	if m[p] == nil {
		m[p] = map[string]map[string]bool{}
	}
	if m[p][key] == nil {
		m[p][key] = map[string]bool{}
	}
	m[p][key][value] = true
}

// unsureChange reports whether writes with an unknown outcome explain every field in which
// it differs from prev.
func (c committed) unsureChange(p string, prev *Item, it Item) bool {
	u := c.unsure[p][it.Key]
	mainOK := u["m:"+it.Main] || (prev != nil && prev.Main == it.Main)
	statusOK := u["s:"+it.Status] || (prev != nil && prev.Status == it.Status) || (prev == nil && it.Status == "")
	return mainOK && statusOK
}

// possible reports whether some write (acknowledged or not) put this content into the object.
func (c committed) possible(p string, it Item) bool {
	v := c.values[p][it.Key]
	return v["m:"+it.Main] && (it.Status == "" || v["s:"+it.Status])
}

func newCommitted(ops []porcupine.Operation) committed {
	c := committed{versions: map[string]map[string][]version{}, values: map[string]map[string]map[string]bool{},
		unsure: map[string]map[string]map[string]bool{}}
	for _, op := range ops {
		in, out := op.Input.(Input), op.Output.(Output)
		if in.Kind != OpCreate && in.Kind != OpUpdate && in.Kind != OpUpdateStatus {
			continue
		}
		if out.Result == ResultOK || out.Result == ResultUnknown {
			v := "m:" + in.Main
			if in.Kind == OpUpdateStatus {
				v = "s:" + in.Status
			}
			add(c.values, in.Partition, in.Key, v)
			if out.Result == ResultUnknown {
				add(c.unsure, in.Partition, in.Key, v)
			}
		}
		if out.Result == ResultOK {
			if c.versions[in.Partition] == nil {
				c.versions[in.Partition] = map[string][]version{}
			}
			it := out.Item
			it.Key = in.Key
			c.versions[in.Partition][in.Key] = append(c.versions[in.Partition][in.Key], version{Item: it, create: in.Kind == OpCreate})
		}
	}
	for _, byKey := range c.versions {
		for _, vs := range byKey {
			slices.SortFunc(vs, func(a, b version) int { return cmp.Compare(a.RV, b.RV) })
		}
	}
	return c
}

// WatchReport is the outcome of validating the watch streams.
type WatchReport struct {
	Streams    int
	Events     int
	Bookmarks  int
	Rewrites   int // MODIFIED events of a rewrite by the server, content unchanged
	Violations []string
}

// ValidateWatches checks every stream against the committed writes of ops, and the streams of
// a partition against each other.
func ValidateWatches(ops []porcupine.Operation, streams []Stream) WatchReport {
	c := newCommitted(ops)
	r := WatchReport{Streams: len(streams)}
	for _, s := range streams {
		r.validate(c, s)
	}
	r.compare(streams)
	return r
}

func (r *WatchReport) violate(s Stream, format string, args ...any) {
	r.Violations = append(r.Violations, fmt.Sprintf("watch %s on %s from %d: ", s.Watcher, s.Partition, s.StartRV)+fmt.Sprintf(format, args...))
}

// validate checks order, content and completeness of one stream.
func (r *WatchReport) validate(c committed, s Stream) {
	last := s.StartRV
	seen := map[string][]Event{} // events by name
	for _, e := range s.Events {
		if e.Type == Bookmark {
			r.Bookmarks++
			if e.RV < last {
				r.violate(s, "bookmark at %d after resourceVersion %d", e.RV, last)
			}
			last = max(last, e.RV)
			continue
		}
		r.Events++
		if e.RV <= last {
			r.violate(s, "%s %s at %d is not newer than %d (out of order or repeated)", e.Type, e.Key, e.RV, last)
		}
		last = max(last, e.RV)
		r.checkEvent(c, s, e, seen[e.Key])
		seen[e.Key] = append(seen[e.Key], e)
	}
	r.complete(c, s, seen, last)
}

// checkEvent: an event is a committed write, a write with an unknown outcome, or a rewrite
// that keeps the content; a DELETED event carries the last content.
func (r *WatchReport) checkEvent(c committed, s Stream, e Event, before []Event) {
	vs := c.versions[s.Partition][e.Key]
	i, found := slices.BinarySearchFunc(vs, e.RV, func(v version, rv int64) int { return cmp.Compare(v.RV, rv) })
	var prev *Item // the object's content before this event; none for a new object
	switch {
	case e.Type == Added:
	case len(before) > 0:
		prev = &before[len(before)-1].Item
	case i > 0:
		prev = &vs[i-1].Item
	}
	sameAsPrev := prev != nil && prev.Main == e.Main && prev.Status == e.Status
	switch {
	case e.Type == Deleted:
		if !sameAsPrev && !c.possible(s.Partition, e.Item) {
			r.violate(s, "DELETED %s at %d with content %s/%s that was not its last", e.Key, e.RV, e.Main, e.Status)
		}
	case found:
		v := vs[i]
		if v.Main != e.Main || v.Status != e.Status {
			r.violate(s, "%s %s at %d has %s/%s, the write at that resourceVersion wrote %s/%s", e.Type, e.Key, e.RV, e.Main, e.Status, v.Main, v.Status)
		}
		if (e.Type == Added) != v.create {
			r.violate(s, "%s %s at %d for a write that was a %s", e.Type, e.Key, e.RV, map[bool]string{true: "create", false: "update"}[v.create])
		}
	case e.Type == Modified && sameAsPrev:
		r.Rewrites++
	case e.Type != Deleted && c.unsureChange(s.Partition, prev, e.Item):
	default:
		r.violate(s, "%s %s at %d with content %s/%s that no client wrote (a rewrite must not change content)", e.Type, e.Key, e.RV, e.Main, e.Status)
	}
}

// complete: every committed write between the start and the last resourceVersion was seen,
// and so was a deletion between a version and a later create of the same name.
func (r *WatchReport) complete(c committed, s Stream, seen map[string][]Event, last int64) {
	for key, vs := range c.versions[s.Partition] {
		rvs := map[int64]bool{}
		for _, e := range seen[key] {
			rvs[e.RV] = true
		}
		for i, v := range vs {
			if v.RV > s.StartRV && v.RV <= last && !rvs[v.RV] {
				r.violate(s, "missing the write of %s at %d (%s/%s); stream complete up to %d", key, v.RV, v.Main, v.Status, last)
			}
			if i == 0 || !v.create || vs[i-1].RV <= s.StartRV || v.RV > last {
				continue
			}
			if !slices.ContainsFunc(seen[key], func(e Event) bool { return e.Type == Deleted && e.RV > vs[i-1].RV && e.RV < v.RV }) {
				r.violate(s, "missing the deletion of %s between %d and %d", key, vs[i-1].RV, v.RV)
			}
		}
	}
}

// compare: two streams of a partition saw the same events where their ranges overlap.
func (r *WatchReport) compare(streams []Stream) {
	for i := range streams {
		for j := i + 1; j < len(streams); j++ {
			a, b := streams[i], streams[j]
			if a.Partition != b.Partition {
				continue
			}
			from, to := max(a.StartRV, b.StartRV), min(a.LastRV(), b.LastRV())
			x, y := eventsIn(a, from, to), eventsIn(b, from, to)
			if !slices.Equal(x, y) {
				r.violate(a, "watch %s from %d saw other events in (%d, %d]: %d against %d events, first difference %s",
					b.Watcher, b.StartRV, from, to, len(x), len(y), firstDiff(x, y))
			}
		}
	}
}

func eventsIn(s Stream, from, to int64) []Event {
	var out []Event
	for _, e := range s.Events {
		if e.Type != Bookmark && e.RV > from && e.RV <= to {
			out = append(out, e)
		}
	}
	return out
}

func firstDiff(x, y []Event) string {
	for i := range max(len(x), len(y)) {
		switch {
		case i >= len(x):
			return fmt.Sprintf("only in the other: %v", y[i])
		case i >= len(y):
			return fmt.Sprintf("only in this one: %v", x[i])
		case x[i] != y[i]:
			return fmt.Sprintf("%v against %v", x[i], y[i])
		}
	}
	return "none"
}

// CheckStaleReads checks the reads that allowed a cached answer: every object listed holds a
// value written to it, and a "not older than" list is not older than asked.
func CheckStaleReads(ops []porcupine.Operation, reads []staleRead) []string {
	c := newCommitted(ops)
	var out []string
	for _, r := range reads {
		if r.ListRV < r.MinRV {
			out = append(out, fmt.Sprintf("list of %s not older than %d answered at %d", r.Partition, r.MinRV, r.ListRV))
		}
		for _, it := range r.Items {
			if !c.possible(r.Partition, it) || it.RV > r.ListRV {
				out = append(out, fmt.Sprintf("cached list of %s at %d has %s at %d with %s/%s, not a written state", r.Partition, r.ListRV, it.Key, it.RV, it.Main, it.Status))
			}
		}
	}
	return out
}
