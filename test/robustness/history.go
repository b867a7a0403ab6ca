package robustness

import (
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// History records every request with its invocation and return time (monotonic, since the
// start of the run), input and output.
type History struct {
	start time.Time

	mu  sync.Mutex
	ops []porcupine.Operation
}

// NewHistory starts the clock of a history.
func NewHistory() *History { return &History{start: time.Now()} }

// Now is the time since the start, in nanoseconds.
func (h *History) Now() int64 { return int64(time.Since(h.start)) }

// Record adds an operation that was invoked at call and has just returned. A read whose
// answer was lost has no effect on the state and is not recorded.
func (h *History) Record(client int, in Input, call int64, out Output) {
	ret := h.Now()
	if out.Result == ResultUnknown && (in.Kind == OpGet || in.Kind == OpList) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}

// Operations returns the history as porcupine expects it: a write with an unknown outcome
// may take effect at any point after its invocation, so its return time is after every
// other return ("infinity").
func (h *History) Operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Finish(h.ops)
}

// Finish sets the return time of the unknown outcomes in ops past the last return.
func Finish(ops []porcupine.Operation) []porcupine.Operation {
	var last int64 // after every return and every invocation, so no return precedes its call
	for _, op := range ops {
		last = max(last, op.Call)
		if op.Output.(Output).Result != ResultUnknown {
			last = max(last, op.Return)
		}
	}
	out := make([]porcupine.Operation, len(ops))
	for i, op := range ops {
		if op.Output.(Output).Result == ResultUnknown {
			op.Return = last + 1
		}
		out[i] = op
	}
	return out
}

// Counts are the operations of a history by kind and result.
func Counts(ops []porcupine.Operation) map[string]int {
	c := map[string]int{}
	for _, op := range ops {
		c[op.Input.(Input).Kind+" "+op.Output.(Output).Result]++
	}
	return c
}

// Len is the number of operations recorded so far.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ops)
}
