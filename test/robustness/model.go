package robustness

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

// The model of the resource API that histories are checked against: the objects of one
// partition (a resource in a namespace) by name, each with its content and resourceVersion,
// and the newest etcd revision known to be committed.
//
// Content is what the traffic writes: a unique value in the object (Main) and, for Shoots,
// in its status (Status). Values are unique per write, so a read names the write it saw.

// Operation kinds.
const (
	OpCreate       = "create"
	OpUpdate       = "update"
	OpUpdateStatus = "updateStatus"
	OpDelete       = "delete"
	OpGet          = "get"
	OpList         = "list"
)

// Results of an operation.
const (
	ResultOK       = "ok"
	ResultExists   = "exists"
	ResultConflict = "conflict"
	ResultNotFound = "notfound"
	// ResultUnknown: the request failed or timed out; a write may or may not have happened.
	ResultUnknown = "unknown"
)

// Input is one request.
type Input struct {
	Partition string // resource/namespace
	Kind      string
	Key       string
	Main      string // written value (create, update)
	Status    string // written status value (updateStatus)
	Precond   int64  // resourceVersion precondition of update and updateStatus
}

// Item is an object as the server returned it.
type Item struct {
	Key    string
	RV     int64
	Main   string
	Status string
}

// Output is the server's answer.
type Output struct {
	Result string
	Item          // get, and the object a write returned
	ListRV int64  // list
	Items  []Item // list, all pages
}

// object is the model's view of one object. When Exact is false, RV is a lower bound: the
// object was written by a request whose answer was lost, or rewritten by the server (the
// re-encryption writes objects again with the same content and a new resourceVersion).
type object struct {
	Main, Status string
	RV           int64
	Exact        bool
}

type state struct {
	objs map[string]object
	rev  int64 // every write linearized after this point has a higher resourceVersion
}

func (s state) with(key string, o object, rev int64) state {
	objs := maps.Clone(s.objs)
	if objs == nil {
		objs = map[string]object{}
	}
	objs[key] = o
	return state{objs: objs, rev: max(s.rev, rev)}
}

func (s state) without(key string) state {
	objs := maps.Clone(s.objs)
	delete(objs, key)
	return state{objs: objs, rev: s.rev}
}

// canMatch reports whether a precondition can equal the object's resourceVersion.
func canMatch(o object, precond int64) bool {
	if o.Exact {
		return precond == o.RV
	}
	return precond > o.RV
}

// seen reports whether a returned resourceVersion fits the object: the same, or newer with the
// same content (a rewrite the clients did not make).
func seen(o object, rv int64) bool {
	if o.Exact {
		return rv >= o.RV
	}
	return rv > o.RV
}

// Model is the nondeterministic model of the API: an unknown outcome branches into "happened"
// and "did not happen".
var Model = porcupine.NondeterministicModel{
	Partition:         partition,
	Init:              func() []interface{} { return []interface{}{state{}} },
	Step:              step,
	Equal:             equal,
	Hash:              hash,
	DescribeOperation: describeOperation,
	DescribeState:     describeState,
}

func step(st, in, out interface{}) []interface{} {
	s, i, o := st.(state), in.(Input), out.(Output)
	switch i.Kind {
	case OpCreate:
		return create(s, i, o)
	case OpUpdate, OpUpdateStatus:
		return update(s, i, o)
	case OpDelete:
		return remove(s, i, o)
	case OpGet:
		return get(s, i, o)
	case OpList:
		return list(s, o)
	}
	return nil
}

func one(ok bool, s state) []interface{} {
	if ok {
		return []interface{}{s}
	}
	return nil
}

func create(s state, i Input, o Output) []interface{} {
	_, exists := s.objs[i.Key]
	switch o.Result {
	case ResultOK:
		// A create starts with an empty status.
		ok := !exists && o.RV > s.rev && o.Main == i.Main && o.Status == ""
		return one(ok, s.with(i.Key, object{Main: i.Main, RV: o.RV, Exact: true}, o.RV))
	case ResultExists:
		return one(exists, s)
	case ResultUnknown:
		if exists {
			return []interface{}{s}
		}
		return []interface{}{s, s.with(i.Key, object{Main: i.Main, RV: s.rev}, 0)}
	}
	return nil
}

func update(s state, i Input, o Output) []interface{} {
	cur, exists := s.objs[i.Key]
	next := cur
	if i.Kind == OpUpdate {
		next.Main = i.Main
	} else {
		next.Status = i.Status
	}
	can := canMatch(cur, i.Precond)
	switch o.Result {
	case ResultOK:
		ok := exists && can && o.RV > s.rev && o.Main == next.Main && o.Status == next.Status
		next.RV, next.Exact = o.RV, true
		return one(ok, s.with(i.Key, next, o.RV))
	case ResultConflict:
		if !exists {
			return nil
		}
		if cur.Exact && i.Precond == cur.RV {
			// Only a write the clients did not make (a rewrite) explains it: the object now
			// has a newer resourceVersion than the precondition.
			cur.Exact = false
			return []interface{}{s.with(i.Key, cur, 0)}
		}
		return []interface{}{s}
	case ResultNotFound:
		return one(!exists, s)
	case ResultUnknown:
		if !exists || !can {
			return []interface{}{s}
		}
		next.RV, next.Exact = s.rev, false
		return []interface{}{s, s.with(i.Key, next, 0)}
	}
	return nil
}

func remove(s state, i Input, o Output) []interface{} {
	_, exists := s.objs[i.Key]
	switch o.Result {
	case ResultOK:
		return one(exists, s.without(i.Key))
	case ResultNotFound:
		return one(!exists, s)
	case ResultUnknown:
		if !exists {
			return []interface{}{s}
		}
		return []interface{}{s, s.without(i.Key)}
	}
	return nil
}

func get(s state, i Input, o Output) []interface{} {
	cur, exists := s.objs[i.Key]
	switch o.Result {
	case ResultOK:
		ok := exists && o.Main == cur.Main && o.Status == cur.Status && seen(cur, o.RV)
		cur.RV, cur.Exact = o.RV, true
		return one(ok, s.with(i.Key, cur, o.RV))
	case ResultNotFound:
		return one(!exists, s)
	}
	return nil
}

// list: the latest committed state, at a revision not older than any write before it.
func list(s state, o Output) []interface{} {
	if o.Result != ResultOK || o.ListRV < s.rev || len(o.Items) != len(s.objs) {
		return nil
	}
	objs := make(map[string]object, len(o.Items))
	for _, it := range o.Items {
		cur, exists := s.objs[it.Key]
		if !exists || it.Main != cur.Main || it.Status != cur.Status || !seen(cur, it.RV) || it.RV > o.ListRV {
			return nil
		}
		objs[it.Key] = object{Main: it.Main, Status: it.Status, RV: it.RV, Exact: true}
	}
	if len(objs) != len(s.objs) {
		return nil // a name listed twice
	}
	return []interface{}{state{objs: objs, rev: o.ListRV}}
}

func equal(a, b interface{}) bool {
	x, y := a.(state), b.(state)
	return x.rev == y.rev && maps.Equal(x.objs, y.objs)
}

func hash(st interface{}) uint64 {
	s := st.(state)
	h := fnv.New64a()
	fmt.Fprint(h, s.rev)
	for _, k := range slices.Sorted(maps.Keys(s.objs)) {
		o := s.objs[k]
		fmt.Fprint(h, k, o.Main, o.Status, o.RV, o.Exact)
	}
	return h.Sum64()
}

func partition(history []porcupine.Operation) [][]porcupine.Operation {
	byPart := map[string][]porcupine.Operation{}
	for _, op := range history {
		p := op.Input.(Input).Partition
		byPart[p] = append(byPart[p], op)
	}
	var out [][]porcupine.Operation
	for _, p := range slices.Sorted(maps.Keys(byPart)) {
		out = append(out, byPart[p])
	}
	return out
}

func describeOperation(in, out interface{}) string {
	i, _ := in.(Input)
	o, _ := out.(Output)
	var b strings.Builder
	fmt.Fprintf(&b, "%s(%s", i.Kind, i.Key)
	switch i.Kind {
	case OpCreate, OpUpdate:
		fmt.Fprintf(&b, ", %s", i.Main)
	case OpUpdateStatus:
		fmt.Fprintf(&b, ", status %s", i.Status)
	}
	if i.Precond != 0 {
		fmt.Fprintf(&b, ", rv=%d", i.Precond)
	}
	fmt.Fprintf(&b, ") -> %s", o.Result)
	switch {
	case i.Kind == OpList && o.Result == ResultOK:
		fmt.Fprintf(&b, " rv=%d %d items", o.ListRV, len(o.Items))
	case o.Result == ResultOK && i.Kind != OpDelete:
		fmt.Fprintf(&b, " rv=%d %s/%s", o.RV, o.Main, o.Status)
	}
	return b.String()
}

func describeState(st interface{}) string {
	s := st.(state)
	var b strings.Builder
	fmt.Fprintf(&b, "rev>=%d", s.rev)
	for _, k := range slices.Sorted(maps.Keys(s.objs)) {
		o := s.objs[k]
		rel := "="
		if !o.Exact {
			rel = ">"
		}
		fmt.Fprintf(&b, " %s:{%s/%s rv%s%d}", k, o.Main, o.Status, rel, o.RV)
	}
	return b.String()
}
