package robustness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The checker must reject histories that break the API's guarantees and accept the ones that
// keep them, including unknown outcomes and rewrites by the server.

const part = "internalsecrets/ns"

func op(client int, call, ret int64, in Input, out Output) porcupine.Operation {
	in.Partition = part
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

func ok(rv int64, main, status string) Output {
	return Output{Result: ResultOK, Item: Item{RV: rv, Main: main, Status: status}}
}

func res(r string) Output { return Output{Result: r} }

var (
	createA = op(0, 0, 10, Input{Kind: OpCreate, Key: "a", Main: "v1"}, ok(10, "v1", ""))
	updateA = op(0, 20, 30, Input{Kind: OpUpdate, Key: "a", Main: "v2", Precond: 10}, ok(11, "v2", ""))
)

func checkOps(t *testing.T, ops []porcupine.Operation) (LinearizabilityReport, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := CheckLinearizable(Finish(ops), 10*time.Second, dir)
	require.NoError(t, err)
	return r, dir
}

func TestCheckerRejects(t *testing.T) {
	for name, ops := range map[string][]porcupine.Operation{
		"stale read after an acknowledged update": {createA, updateA,
			op(1, 40, 50, Input{Kind: OpGet, Key: "a"}, ok(10, "v1", ""))},
		"lost update: two updates on the same resourceVersion": {createA, updateA,
			op(1, 40, 50, Input{Kind: OpUpdate, Key: "a", Main: "v3", Precond: 10}, ok(12, "v3", ""))},
		"stale list": {createA, updateA,
			op(1, 40, 50, Input{Kind: OpList}, Output{Result: ResultOK, ListRV: 12, Items: []Item{{Key: "a", RV: 10, Main: "v1"}}})},
		"list missing a created object": {createA,
			op(1, 40, 50, Input{Kind: OpList}, Output{Result: ResultOK, ListRV: 12})},
		"create over an existing object": {createA,
			op(1, 40, 50, Input{Kind: OpCreate, Key: "a", Main: "v9"}, ok(12, "v9", ""))},
		"update lost the status": {createA,
			op(1, 20, 30, Input{Kind: OpUpdateStatus, Key: "a", Status: "s1", Precond: 10}, ok(11, "v1", "s1")),
			op(1, 40, 50, Input{Kind: OpUpdate, Key: "a", Main: "v2", Precond: 11}, ok(12, "v2", ""))},
		"read of a value that was never written": {createA,
			op(1, 40, 50, Input{Kind: OpGet, Key: "a"}, ok(12, "v7", ""))},
		"resourceVersion going backwards": {createA, updateA,
			op(1, 40, 50, Input{Kind: OpCreate, Key: "b", Main: "b1"}, ok(9, "b1", ""))},
	} {
		t.Run(name, func(t *testing.T) {
			r, dir := checkOps(t, ops)
			assert.Equal(t, porcupine.Illegal, r.Result)
			require.Equal(t, filepath.Join(dir, "linearizability.html"), r.Visualization)
			html, err := os.ReadFile(r.Visualization)
			require.NoError(t, err)
			assert.Contains(t, string(html), "<html")
		})
	}
}

func TestCheckerAccepts(t *testing.T) {
	for name, ops := range map[string][]porcupine.Operation{
		"sequential writes and reads": {createA, updateA,
			op(1, 40, 50, Input{Kind: OpGet, Key: "a"}, ok(11, "v2", "")),
			op(1, 60, 70, Input{Kind: OpList}, Output{Result: ResultOK, ListRV: 15, Items: []Item{{Key: "a", RV: 11, Main: "v2"}}})},
		"a read concurrent with an update sees either": {createA, updateA,
			op(1, 25, 35, Input{Kind: OpGet, Key: "a"}, ok(10, "v1", ""))},
		"conflict on a stale resourceVersion": {createA, updateA,
			op(1, 40, 50, Input{Kind: OpUpdate, Key: "a", Main: "v3", Precond: 10}, res(ResultConflict))},
		"an unknown create that happened": {
			op(0, 0, 10, Input{Kind: OpCreate, Key: "a", Main: "v1"}, res(ResultUnknown)),
			op(1, 40, 50, Input{Kind: OpGet, Key: "a"}, ok(13, "v1", "")),
			op(1, 60, 70, Input{Kind: OpUpdate, Key: "a", Main: "v2", Precond: 13}, ok(14, "v2", ""))},
		"an unknown create that did not happen": {
			op(0, 0, 10, Input{Kind: OpCreate, Key: "a", Main: "v1"}, res(ResultUnknown)),
			op(1, 40, 50, Input{Kind: OpGet, Key: "a"}, res(ResultNotFound))},
		"an unknown delete seen later": {createA,
			op(0, 20, 30, Input{Kind: OpDelete, Key: "a"}, res(ResultUnknown)),
			op(1, 40, 50, Input{Kind: OpGet, Key: "a"}, ok(10, "v1", "")),
			op(1, 60, 70, Input{Kind: OpGet, Key: "a"}, res(ResultNotFound))},
		"a rewrite by the server: same content, newer resourceVersion": {createA,
			op(1, 20, 30, Input{Kind: OpUpdate, Key: "a", Main: "v2", Precond: 10}, res(ResultConflict)),
			op(1, 40, 50, Input{Kind: OpGet, Key: "a"}, ok(17, "v1", "")),
			op(1, 60, 70, Input{Kind: OpUpdateStatus, Key: "a", Status: "s1", Precond: 17}, ok(18, "v1", "s1"))},
	} {
		t.Run(name, func(t *testing.T) {
			r, _ := checkOps(t, ops)
			assert.Equal(t, porcupine.Ok, r.Result)
		})
	}
}

// Committed writes of "a": created at 10, updated at 11 and 12; deleted, created again at 20.
var watchedOps = []porcupine.Operation{createA, updateA,
	op(0, 40, 50, Input{Kind: OpUpdate, Key: "a", Main: "v3", Precond: 11}, ok(12, "v3", "")),
	op(0, 60, 70, Input{Kind: OpDelete, Key: "a"}, res(ResultOK)),
	op(0, 80, 90, Input{Kind: OpCreate, Key: "a", Main: "v4"}, ok(20, "v4", "")),
}

func ev(typ string, rv int64, main string) Event {
	return Event{Type: typ, Item: Item{Key: "a", RV: rv, Main: main}}
}

func stream(events ...Event) Stream {
	return Stream{Watcher: "w", Partition: part, StartRV: 9, Events: events}
}

func TestWatchValidatorRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		streams []Stream
		want    string
	}{
		"skipped event":   {[]Stream{stream(ev(Added, 10, "v1"), ev(Modified, 12, "v3"))}, "missing the write of a at 11"},
		"duplicate event": {[]Stream{stream(ev(Added, 10, "v1"), ev(Modified, 11, "v2"), ev(Modified, 11, "v2"))}, "not newer than 11"},
		"out of order":    {[]Stream{stream(ev(Added, 10, "v1"), ev(Modified, 12, "v3"), ev(Modified, 11, "v2"))}, "not newer than 12"},
		"rewrite with changed content": {[]Stream{stream(ev(Added, 10, "v1"), ev(Modified, 11, "v2"), ev(Modified, 12, "v3"),
			ev(Modified, 15, "v9"))}, "that no client wrote"},
		"wrong content at a resourceVersion": {[]Stream{stream(ev(Added, 10, "v1"), ev(Modified, 11, "v1"))}, "the write at that resourceVersion wrote v2"},
		"missing deletion":                   {[]Stream{stream(ev(Added, 10, "v1"), ev(Modified, 11, "v2"), ev(Modified, 12, "v3"), ev(Added, 20, "v4"))}, "missing the deletion of a"},
		"bookmark going backwards":           {[]Stream{stream(ev(Added, 10, "v1"), Event{Type: Bookmark, Item: Item{RV: 9}})}, "bookmark at 9 after resourceVersion 10"},
		"bookmark past a missed event":       {[]Stream{stream(ev(Added, 10, "v1"), Event{Type: Bookmark, Item: Item{RV: 11}})}, "missing the write of a at 11"},
		"two watchers disagree": {[]Stream{
			stream(ev(Added, 10, "v1"), ev(Modified, 11, "v2"), ev(Modified, 12, "v3"), ev(Modified, 14, "v3")),
			{Watcher: "x", Partition: part, StartRV: 11, Events: []Event{ev(Modified, 12, "v3"), ev(Modified, 15, "v3")}},
		}, "saw other events"},
	} {
		t.Run(name, func(t *testing.T) {
			r := ValidateWatches(Finish(watchedOps), tc.streams)
			require.NotEmpty(t, r.Violations)
			assert.True(t, strings.Contains(strings.Join(r.Violations, "\n"), tc.want), "violations %q, want one with %q", r.Violations, tc.want)
		})
	}
}

func TestWatchValidatorAccepts(t *testing.T) {
	full := stream(ev(Added, 10, "v1"), ev(Modified, 11, "v2"), ev(Modified, 12, "v3"),
		ev(Modified, 15, "v3"), // a rewrite by the server
		Event{Type: Bookmark, Item: Item{RV: 16}}, ev(Deleted, 17, "v3"), ev(Added, 20, "v4"))
	resumed := Stream{Watcher: "x", Partition: part, StartRV: 12, Events: []Event{ev(Modified, 15, "v3"), ev(Deleted, 17, "v3")}, Resumes: 1}
	r := ValidateWatches(Finish(watchedOps), []Stream{full, resumed})
	assert.Empty(t, r.Violations)
	assert.Equal(t, 1+1, r.Rewrites)
	assert.Equal(t, 1, r.Bookmarks)
}

func TestWatchValidatorAcceptsUnknownOutcomes(t *testing.T) {
	ops := append([]porcupine.Operation(nil), watchedOps...)
	ops = append(ops,
		op(0, 100, 110, Input{Kind: OpUpdateStatus, Key: "a", Status: "7", Precond: 20}, ok(21, "v4", "7")),
		op(0, 120, 130, Input{Kind: OpDelete, Key: "a"}, res(ResultOK)),
		op(0, 140, 150, Input{Kind: OpCreate, Key: "a", Main: "v5"}, res(ResultUnknown)),
		op(0, 160, 170, Input{Kind: OpUpdate, Key: "a", Main: "v6", Precond: 25}, res(ResultUnknown)))
	s := Stream{Watcher: "w", Partition: part, StartRV: 20, Events: []Event{
		{Type: Modified, Item: Item{Key: "a", RV: 21, Main: "v4", Status: "7"}},
		{Type: Deleted, Item: Item{Key: "a", RV: 22, Main: "v4", Status: "7"}},
		{Type: Added, Item: Item{Key: "a", RV: 25, Main: "v5"}},
		{Type: Modified, Item: Item{Key: "a", RV: 26, Main: "v6"}},
	}}
	r := ValidateWatches(Finish(ops), []Stream{s})
	assert.Empty(t, r.Violations)
}

// An unknown outcome invoked after every other request returned still returns after its call.
func TestFinishReturnsAfterEveryCall(t *testing.T) {
	late := op(1, 40, 41, Input{Kind: OpCreate, Key: "b", Main: "b1"}, res(ResultUnknown))
	ops := Finish([]porcupine.Operation{createA, late})
	assert.Greater(t, ops[1].Return, ops[1].Call)
	r, _ := checkOps(t, []porcupine.Operation{createA, late,
		op(0, 50, 60, Input{Kind: OpGet, Key: "a"}, ok(10, "v1", ""))})
	assert.Equal(t, porcupine.Ok, r.Result)
}
